"""Every bad input gets a 4xx in the API's error format (or a plain 400 page), never a 500 or a debug page.

The character rule (crm.input_guard): NUL, C0 control characters and lone surrogates are refused on
every input path: the path, the query string, form fields, JSON fields at any depth. Multi-line values
(bodies) may hold tab, CR and LF; single-line ones (query, path) tab only.
"""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from django.test import override_settings
from django.urls import reverse

from channels.models import Interaction
from crm import roles, services
from customers.models import Consent, Customer
from tests.channels.calls_signing import SECRET as CTI_SECRET
from tests.channels.calls_signing import signed_headers
from tests.channels_factories import SiteFactory
from tests.crm.test_api_base import assert_error
from tests.customers_factories import CustomerFactory

pytestmark = pytest.mark.django_db

ORIGIN = "https://shop.example.com"
SMS_TOKEN = "sms-webhook-token-for-tests"


@pytest.fixture
def admin_key(make_staff):
    admin = make_staff(roles.ADMIN, username="admin.badinput", is_staff=True)
    _token, key = services.api_token_create(user=admin, name="bad input", acting_user=admin)
    return key


@pytest.fixture
def integration_key(make_staff):
    """The email gateway's token: posting mail takes the Integration role's channels.ingest_email."""
    robot = make_staff(roles.INTEGRATION, username="gateway.badinput")
    _token, key = services.api_token_create(user=robot, name="mail gateway", acting_user=robot)
    return key


@pytest.fixture
def api(client, admin_key):
    """The test client with an Admin token on every call."""
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {admin_key}"
    return client


@pytest.fixture
def site():
    return SiteFactory(key=f"key-{uuid.uuid4().hex}", allowed_origins=ORIGIN)


def post_json(client, url, body: str | dict, **extra):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data, content_type="application/json", **extra)


def assert_field_refused(response, field: str, code: str = "control_character") -> None:
    error = assert_error(response, 400, code)
    assert field in error["fields"], error
    assert error["fields"][field][0]["code"] == code
    assert "\x00" not in response.content.decode()


# -- Query strings, path parameters, HTML search boxes -----------------------------------------------


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/v1/customers/", "search"),
        ("/api/v1/customers/", "tag"),
        ("/api/v1/staff/", "search"),
        ("/api/v1/cases/", "q"),
    ],
)
def test_it_refuses_a_nul_in_a_query_parameter_naming_it(api, url, parameter):
    assert_field_refused(api.get(url, {parameter: "dupont\x00"}), parameter)


@pytest.mark.parametrize("character", ["\x01", "\x1b", "\n", "\r", "\x7f\x00"])
def test_it_refuses_control_characters_in_single_line_query_values(api, character):
    assert_field_refused(api.get("/api/v1/customers/", {"search": f"du{character}pont"}), "search")


def test_it_allows_a_tab_in_a_query_value(api):
    assert api.get("/api/v1/customers/", {"search": "du\tpont"}).status_code == 200


def test_it_refuses_a_nul_in_a_query_parameter_name(api):
    response = api.get("/api/v1/customers/?se%00arch=x")
    assert_field_refused(response, "se\\u0000arch")


def test_it_refuses_a_nul_in_the_header_search_with_a_400_page(client, agent):
    client.force_login(agent)
    response = client.get(reverse("customers:search"), {"q": "dupont\x00"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "Control characters" in body
    assert "Traceback" not in body


def test_it_refuses_a_nul_in_a_site_key_path_parameter(client):
    response = post_json(client, "/api/v1/widget/abc%00def/chats/", {"name": "A", "message": "Hi"}, HTTP_ORIGIN=ORIGIN)
    assert_field_refused(response, "site_key")


def test_it_refuses_a_nul_in_an_html_form_field(client):
    response = client.post(reverse("login"), {"username": "agent\x00", "password": "x"})
    assert response.status_code == 400
    assert "Control characters" in response.content.decode()


# -- JSON bodies -------------------------------------------------------------------------------------------


def test_it_refuses_a_nul_in_a_json_field_and_writes_nothing(api):
    before = Customer.objects.count()
    response = post_json(api, "/api/v1/customers/", {"family_name": "Dupont\x00", "given_name": "Marie"})
    assert_field_refused(response, "family_name")
    assert Customer.objects.count() == before


def test_it_refuses_a_lone_surrogate_in_a_json_field(api):
    before = Customer.objects.count()
    response = post_json(api, "/api/v1/customers/", '{"family_name": "Dupont \\ud800"}')
    assert_field_refused(response, "family_name")
    assert Customer.objects.count() == before


def test_it_names_the_nested_json_metadata_field(api):
    customer = CustomerFactory()
    body = {"channel": "phone", "direction": "inbound", "kind": "call", "customer": customer.pk,
            "metadata": {"call": {"notes": ["fine", "bad\x07"]}}}  # fmt: skip
    response = post_json(api, "/api/v1/channels/interactions/", body)
    assert_field_refused(response, "metadata.call.notes.1")
    assert not Interaction.objects.filter(customer=customer).exists()


def test_it_refuses_a_nul_in_a_json_key(api):
    response = post_json(api, "/api/v1/customers/", {"family_name": "Dupont", "attributes": {"col\x00or": "blue"}})
    assert_field_refused(response, "attributes.col\\u0000or")


def test_it_accepts_tabs_and_line_breaks_in_json_text(api):
    response = post_json(api, "/api/v1/customers/", {"family_name": "Dupont", "notes": "line one\r\nline\ttwo"})
    assert response.status_code == 201, response.content


def test_it_refuses_deep_json_before_python_recursion_gives_up(api):
    response = post_json(api, "/api/v1/customers/", "[" * 100_000 + "]" * 100_000)
    assert_error(response, 400, "too_deep")


def test_it_refuses_json_deeper_than_the_limit(api):
    nested = {"family_name": "Dupont", "attributes": {}}
    level = nested["attributes"]
    for _depth in range(80):
        level["x"] = {}
        level = level["x"]
    assert_error(post_json(api, "/api/v1/customers/", nested), 400, "too_deep")
    assert not Customer.objects.filter(family_name="Dupont").exists()


def _json_operations(schema: dict) -> list[tuple[str, str]]:
    operations = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            if method in {"post", "put", "patch"} and "application/json" in content:
                operations.append((method, path))
    return operations


def test_every_json_endpoint_answers_deep_json_with_a_4xx(api, site, settings):
    settings.SMS_WEBHOOK_TOKEN = SMS_TOKEN
    settings.CTI_SHARED_SECRET = CTI_SECRET
    customer = CustomerFactory()
    schema = api.get("/api/schema/", {"format": "json"}).json()
    operations = _json_operations(schema)
    assert len(operations) >= 15
    deep = "[" * 50_000 + "]" * 50_000
    for method, path in operations:
        url = (
            path.replace("{site_key}", site.key)
            .replace("{id}", str(customer.pk))
            .replace("{pk}", str(customer.pk))
            .replace("{source}", "erp")
            .replace("{external_id}", "E1")
            .replace("{sku}", "SKU1")
            .replace("{contact_point_id}", "1")
            .replace("{address_id}", "1")
        )
        headers = {"HTTP_ORIGIN": ORIGIN, "HTTP_X_RELAIS_WEBHOOK_TOKEN": SMS_TOKEN, "HTTP_X_RELAIS_SITE_KEY": site.key}
        headers.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed_headers(deep.encode()).items()})
        response = getattr(api, method)(url, deep, content_type="application/json", **headers)
        assert 400 <= response.status_code < 500, (method, path, response.status_code, response.content[:300])
        assert response.json()["error"]["code"], (method, path)


# -- Forms and the public endpoints, with DEBUG on --------------------------------------------------------


@override_settings(DEBUG=True, SMS_WEBHOOK_TOKEN=SMS_TOKEN)
def test_it_refuses_a_nul_in_an_sms_form_post_without_a_debug_page(client):
    response = client.post(
        "/api/v1/channels/sms/inbound/",
        {"from": "+33612345678", "text": "STOP\x00", "message_id": "m-1"},
        HTTP_X_RELAIS_WEBHOOK_TOKEN=SMS_TOKEN,
    )
    assert_field_refused(response, "text")
    assert not Interaction.objects.exists()


@override_settings(DEBUG=True, SMS_WEBHOOK_TOKEN=SMS_TOKEN)
def test_it_refuses_a_nul_in_an_sms_json_post_without_a_debug_page(client):
    body = {"from": "+33612345678\x00", "text": "Bonjour", "message_id": "m-2"}
    response = post_json(client, "/api/v1/channels/sms/inbound/", body, HTTP_X_RELAIS_WEBHOOK_TOKEN=SMS_TOKEN)
    assert_field_refused(response, "from")


@override_settings(DEBUG=True, CTI_SHARED_SECRET=CTI_SECRET)
def test_it_refuses_a_nul_in_a_signed_call_event_without_a_debug_page(client):
    body = json.dumps({"event": "ringing", "call_id": "c-1\x00", "caller_number": "0612345678"}).encode()
    headers = signed_headers(body)
    response = client.post("/api/v1/channels/calls/", body, content_type="application/json", headers=headers)
    assert_field_refused(response, "call_id")


@override_settings(DEBUG=True)
def test_it_refuses_a_nul_in_the_email_gateway_form_without_a_debug_page(client, integration_key):
    raw = "From: a@example.com\r\nTo: b@example.com\r\nSubject: Hi\x00\r\n\r\nHello\r\n"
    response = client.post(
        "/api/v1/channels/email/inbound/", {"message": raw}, HTTP_AUTHORIZATION=f"Token {integration_key}"
    )
    assert_field_refused(response, "message")


@override_settings(DEBUG=True)
def test_it_refuses_an_event_with_a_nul_one_by_one_without_a_debug_page(client, site):
    # Web events are a batch refused item by item (channels.services.web), so one bad event does not
    # lose a visitor's whole beacon.
    body = {"site_key": site.key, "events": [{"type": "page_view", "visitor_id": "v\x00", "session_id": "s",
                                              "occurred_at": "2026-01-01T10:00:00Z"}]}  # fmt: skip
    response = post_json(client, "/api/v1/channels/events/", body, HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == 0
    assert "visitor_id" in response.json()["rejected"][0]["errors"]
    assert "\x00" not in response.content.decode()


@override_settings(DEBUG=True)
def test_it_refuses_a_nul_in_the_widget_without_a_debug_page(client, site):
    response = post_json(client, f"/api/v1/widget/{site.key}/chats/", {"name": "Zoé\x00", "message": "Bonjour"},
                         HTTP_ORIGIN=ORIGIN)  # fmt: skip
    assert_field_refused(response, "name")
    response = client.get(f"/api/v1/widget/{site.key}\x00/chats/1/messages/", HTTP_ORIGIN=ORIGIN)
    assert_field_refused(response, "site_key")


@override_settings(DEBUG=True)
def test_it_refuses_a_nul_in_an_unrouted_api_path_without_the_url_map(client):
    response = client.get("/api/v1/no-such-\x00-thing/")
    assert_field_refused(response, "path")
    assert "URLconf" not in response.content.decode()


# -- Size and count limits --------------------------------------------------------------------------------


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2_000)
def test_it_answers_413_in_the_error_format_for_a_json_body_over_the_limit(api):
    response = post_json(api, "/api/v1/customers/", {"family_name": "Dupont", "notes": "x" * 5_000})
    assert_error(response, 413, "too_large")
    assert not Customer.objects.filter(family_name="Dupont").exists()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2_000, SMS_WEBHOOK_TOKEN=SMS_TOKEN, DEBUG=True)
def test_it_answers_413_in_the_error_format_for_a_form_body_over_the_limit(client):
    response = client.post(
        "/api/v1/channels/sms/inbound/",
        {"from": "+33612345678", "text": "x" * 5_000, "message_id": "m-3"},
        HTTP_X_RELAIS_WEBHOOK_TOKEN=SMS_TOKEN,
    )
    assert_error(response, 413, "too_large")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2_000, DEBUG=True)
def test_it_answers_413_with_a_plain_page_for_an_html_form_over_the_limit(client):
    response = client.post(reverse("login"), {"username": "x" * 5_000, "password": "x"})
    assert response.status_code == 413
    assert "Traceback" not in response.content.decode()


@override_settings(DATA_UPLOAD_MAX_NUMBER_FILES=3)
def test_it_answers_too_many_files_with_the_documented_code(client, integration_key):
    from django.core.files.uploadedfile import SimpleUploadedFile

    files = [SimpleUploadedFile(f"m{n}.eml", b"Subject: hi\r\n\r\nx", "message/rfc822") for n in range(5)]
    response = client.post("/api/v1/channels/email/inbound/", {"message": files},
                           HTTP_AUTHORIZATION=f"Token {integration_key}")  # fmt: skip
    assert_error(response, 400, "too_many")
    assert not Interaction.objects.exists()


# -- Cursors -----------------------------------------------------------------------------------------------


def _cursor(querystring: str) -> str:
    return base64.b64encode(querystring.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    ["garbage!", "%%%", _cursor("p=abc"), _cursor("p=99999999999999999999999999"), _cursor("o=x"), "é"],
)
def test_it_answers_a_tampered_cursor_with_invalid_cursor(api, cursor):
    CustomerFactory()
    assert_error(api.get("/api/v1/customers/", {"cursor": cursor}), 400, "invalid_cursor")
    assert_error(api.get("/api/v1/staff/", {"cursor": cursor, "ordering": "id"}), 400, "invalid_cursor")


@pytest.mark.parametrize("position", ["yesterday", "2026-01-01T00:00:00+23:00"])
def test_it_answers_a_tampered_date_cursor_with_invalid_cursor(api, position):
    customer = CustomerFactory()
    url = f"/api/v1/customers/{customer.pk}/interactions/"
    assert_error(api.get(url, {"cursor": _cursor(f"p={position}")}), 400, "invalid_cursor")
    assert_error(api.get("/api/v1/cases/", {"cursor": _cursor(f"p={position}")}), 400, "invalid_cursor")


def test_it_still_follows_a_genuine_cursor(api):
    CustomerFactory.create_batch(3)
    first = api.get("/api/v1/customers/", {"page_size": 2}).json()
    assert first["next"]
    assert len(api.get(first["next"]).json()["results"]) == 1


# -- Dates -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("updated_since", "2026-01-01T00:00:00+16:00"),
        ("updated_since", "2026-01-01T00:00:00-23:59"),
        ("created_after", "2026-01-01T00:00:00+20:00"),
        ("created_before", "2026-01-01T00:00:00-16:00"),
    ],
)
def test_it_refuses_a_date_filter_with_an_offset_beyond_15_59(api, parameter, value):
    error = assert_error(api.get("/api/v1/customers/", {parameter: value}), 400, "validation_error")
    assert error["fields"][parameter.replace("created_after", "created").replace("created_before", "created")]


def test_it_accepts_a_date_filter_at_the_largest_offset(api):
    assert api.get("/api/v1/customers/", {"updated_since": "2026-01-01T00:00:00+15:59"}).status_code == 200


def test_it_refuses_a_timeline_filter_with_an_offset_beyond_15_59(api):
    customer = CustomerFactory()
    url = f"/api/v1/customers/{customer.pk}/interactions/"
    error = assert_error(api.get(url, {"since": "2026-01-01T00:00:00+18:00"}), 400, "validation_error")
    assert error["fields"]["since"][0]["code"] == "invalid_offset"


@pytest.mark.parametrize(
    ("occurred_at", "code"),
    [
        ("1969-12-31T23:59:59Z", "too_early"),
        ("0001-01-01T00:00:00Z", "too_early"),
        ("2999-01-01T00:00:00Z", "in_future"),
    ],
)
def test_it_refuses_a_consent_dated_before_1970_or_in_the_future(api, occurred_at, code):
    customer = CustomerFactory()
    body = {"channel": "email", "purpose": "marketing", "status": "granted", "occurred_at": occurred_at}
    response = post_json(api, f"/api/v1/customers/{customer.pk}/consents/", body)
    error = assert_error(response, 400, "validation_error")
    assert error["fields"]["occurred_at"][0]["code"] == code
    assert not Consent.objects.filter(customer=customer).exists()


def test_it_refuses_a_consent_an_hour_ahead_but_accepts_a_small_clock_skew(api):
    import datetime

    from django.utils import timezone

    customer = CustomerFactory()
    url = f"/api/v1/customers/{customer.pk}/consents/"
    body = {"channel": "email", "purpose": "marketing", "status": "granted"}
    ahead = (timezone.now() + datetime.timedelta(hours=1)).isoformat()
    assert_error(post_json(api, url, {**body, "occurred_at": ahead}), 400, "validation_error")
    skewed = (timezone.now() + datetime.timedelta(minutes=2)).isoformat()
    assert post_json(api, url, {**body, "occurred_at": skewed}).status_code == 201
    assert Consent.objects.filter(customer=customer).count() == 1


def test_it_outputs_api_datetimes_in_utc(api):
    response = post_json(api, "/api/v1/customers/", {"family_name": "Dupont"})
    assert response.status_code == 201
    body = response.json()
    assert body["created_at"].endswith("Z"), body["created_at"]
    consent = post_json(
        api,
        f"/api/v1/customers/{body['id']}/consents/",
        {"channel": "email", "purpose": "marketing", "status": "granted", "occurred_at": "2026-01-10T09:00:00+01:00"},
    ).json()
    assert consent["occurred_at"] == "2026-01-10T08:00:00Z"
    assert api.get("/api/v1/me/").status_code == 200


# -- Enum filters ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameter", "value"),
    [("status", "pirate"), ("category", "pirate"), ("priority", "urgentest"), ("breached", "maybe"),
     ("assignee", "someone"), ("queue", "x"), ("customer", "-1")],
)  # fmt: skip
def test_it_refuses_an_unknown_case_filter_value_naming_it(api, parameter, value):
    error = assert_error(api.get("/api/v1/cases/", {parameter: value}), 400, "validation_error")
    assert parameter in error["fields"]


def test_it_still_takes_blank_and_known_case_filters(api):
    assert api.get("/api/v1/cases/", {"status": "open", "assignee": "me", "category": ""}).status_code == 200


@pytest.mark.parametrize(
    ("url", "parameter", "value"),
    [("/api/v1/customers/", "stage", "pirate"), ("/api/v1/customers/", "consent_channel", "pigeon"),
     ("/api/v1/staff/", "role", "Pirate")],
)  # fmt: skip
def test_it_refuses_unknown_enum_values_in_customer_and_staff_filters(api, url, parameter, value):
    error = assert_error(api.get(url, {parameter: value}), 400, "validation_error")
    assert parameter in error["fields"]


def test_it_gives_every_field_error_a_code(api):
    error = assert_error(api.get("/api/v1/customers/", {"consent_channel": "email"}), 400, "validation_error")
    assert all(item["code"] for items in error["fields"].values() for item in items)


def test_it_explains_a_refused_character_in_french(api):
    response = api.get("/api/v1/customers/", {"search": "a\x00"}, HTTP_ACCEPT_LANGUAGE="fr")
    error = assert_error(response, 400, "control_character")
    assert "caractères de contrôle" in error["fields"]["search"][0]["message"]
