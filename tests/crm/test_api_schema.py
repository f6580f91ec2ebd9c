"""The OpenAPI schema is valid, documents the error format on every endpoint, and the docs need no CDN."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from openapi_spec_validator import validate

from crm.api.schema import ERROR_RESPONSES

ERROR_REF = "#/components/schemas/Error"
CDN_HOSTS = ("cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com", "fonts.googleapis.com", "//cdn.")


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/", {"format": "json"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return response.json()


def test_it_tells_a_client_how_to_authenticate_and_when_to_retry(schema):
    # What an integrator reads in the docs: the token header, and the error answers of each operation.
    scheme = schema["components"]["securitySchemes"]["tokenAuth"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert "Authorization: Token <key>" in scheme["description"]
    me = schema["paths"]["/api/v1/me/"]["get"]
    assert {"tokenAuth": []} in me["security"]
    assert "Retry-After" in me["responses"]["429"]["description"]
    assert "`fields` names each invalid field" in me["responses"]["400"]["description"]


def test_it_serves_a_valid_openapi_schema(schema):
    validate(schema)
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/me/", "/api/v1/tokens/", "/api/v1/tokens/{id}/", "/api/v1/staff/"} <= set(schema["paths"])


def test_it_documents_the_error_component(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    body = schema["components"]["schemas"][error["properties"]["error"]["$ref"].rsplit("/", 1)[1]]
    assert set(body["properties"]) == {"code", "message", "status", "fields"}
    assert set(body["required"]) == {"code", "message", "status"}


def test_it_references_the_error_component_on_every_operation(schema):
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert len(operations) >= 5
    for path, method, operation in operations:
        for code in ERROR_RESPONSES:
            response = operation["responses"].get(code)
            assert response, f"{method.upper()} {path} does not document {code}"
            assert response["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, (path, method, code)
            assert response["description"]


def test_it_documents_the_success_responses(schema):
    tokens = schema["paths"]["/api/v1/tokens/"]
    assert "201" in tokens["post"]["responses"]
    created = tokens["post"]["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    assert "key" in schema["components"]["schemas"][created.rsplit("/", 1)[1]]["properties"]
    assert "204" in schema["paths"]["/api/v1/tokens/{id}/"]["delete"]["responses"]
    staff_parameters = {parameter["name"] for parameter in schema["paths"]["/api/v1/staff/"]["get"]["parameters"]}
    assert {"cursor", "page_size", "role", "is_active", "search"} <= staff_parameters
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_it_renders_the_docs_with_assets_from_the_sidecar(client, agent):
    client.force_login(agent)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    for host in CDN_HOSTS:
        assert host not in html, host
    assets = re.findall(r'(?:src|href)="([^"]+swagger-ui[^"]*)"', html)
    assert assets, html
    assert all(asset.startswith(f"{settings.STATIC_URL}drf_spectacular_sidecar/") for asset in assets), assets
    assert client.get(assets[0]).status_code == 200  # the asset is really there to serve


def _component(schema, name):
    return schema["components"]["schemas"][name]


def test_it_marks_what_responses_may_leave_empty_as_nullable(schema):
    customer = _component(schema, "CustomerOutput")["properties"]
    for name in ("owner", "merged_into", "email", "phone", "birth_date", "anonymised_at"):
        assert customer[name].get("nullable") is True, name
    assert _component(schema, "ConsentOutput")["properties"]["agent"].get("nullable") is True


def test_it_admits_the_blank_value_of_choice_fields_responses_carry(schema):
    # A staff member without a chosen language is returned with "" (the browser's language is used).
    language = _component(schema, "MeOutput")["properties"]["language"]
    enums = [language.get("enum")] + [
        _component(schema, ref["$ref"].rsplit("/", 1)[1]).get("enum") for ref in language.get("oneOf", [])
    ]
    assert any(enum and "" in enum for enum in enums), language


def test_it_documents_the_case_filters_as_enums(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/cases/"]["get"]["parameters"]}
    assert "open" in parameters["status"]["schema"]["enum"]
    assert "pirate" not in parameters["category"]["schema"]["enum"]
