"""The API base: authentication (token and session), the error format, throttling, the staff directory."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from crm import roles, services
from crm.api.throttling import ApiTokenRateThrottle, SessionUserRateThrottle

ME_URL = "/api/v1/me/"
STAFF_URL = "/api/v1/staff/"


def _token(user, name="Integration"):
    return services.api_token_create(user=user, name=name, acting_user=user)


def _auth(key: str, keyword: str = "Token") -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"{keyword} {key}"}


def assert_error(response, status: int, code: str) -> dict:
    """Assert the documented error format: {"error": {"code", "message", "status"[, "fields"]}}."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"]
    error = body["error"]
    assert set(error) <= {"code", "message", "status", "fields"}
    assert error["code"] == code
    assert error["status"] == status
    assert isinstance(error["message"], str) and error["message"]
    return error


def _reset_throttle(throttle_class, ident) -> None:
    # Throttle counters live in the shared Redis cache and ids restart with each test database: drop
    # the one counter a test relies on (a full cache.clear() would flush other sessions' keys too).
    cache.delete(throttle_class.cache_format % {"scope": throttle_class.scope, "ident": ident})


# -- Authentication ------------------------------------------------------------------------------


def test_it_authenticates_a_token_on_me(client, agent):
    token, key = _token(agent)
    response = client.get(ME_URL, **_auth(key))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == agent.pk
    assert body["username"] == "agent.test"
    assert body["first_name"] == agent.first_name
    assert body["last_name"] == agent.last_name
    assert body["email"] == agent.email
    assert body["roles"] == [roles.AGENT]
    assert "crm.use_api_tokens" in body["permissions"]
    assert "crm.view_user" not in body["permissions"]
    assert set(body) == {"id", "username", "first_name", "last_name", "email", "language", "roles", "permissions"}
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_it_accepts_the_bearer_keyword(client, agent):
    _token_obj, key = _token(agent)
    assert client.get(ME_URL, **_auth(key, "Bearer")).json()["username"] == "agent.test"


def test_it_authenticates_a_signed_in_browser_session(client, supervisor):
    client.force_login(supervisor)
    response = client.get(ME_URL)
    assert response.status_code == 200
    assert response.json()["roles"] == [roles.SUPERVISOR]
    assert "crm.view_user" in response.json()["permissions"]


def test_it_rejects_an_anonymous_call(client):
    response = client.get(ME_URL)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Token")


def test_it_rejects_an_unknown_token(client, agent):
    _token(agent)
    response = client.get(ME_URL, **_auth("rls_deadbeef_" + "x" * 43))
    assert_error(response, 401, "invalid_token")
    assert "agent.test" not in response.content.decode()


def test_it_rejects_a_revoked_token(client, agent):
    token, key = _token(agent)
    services.api_token_revoke(token=token, acting_user=agent)
    response = client.get(ME_URL, **_auth(key))
    assert_error(response, 401, "revoked_token")
    assert "agent.test" not in response.content.decode()


@pytest.mark.parametrize("header", ["Token", "Token two parts", "Bearer "])
def test_it_rejects_a_malformed_authorization_header(client, agent, header):
    _token(agent)
    response = client.get(ME_URL, HTTP_AUTHORIZATION=header)
    assert_error(response, 401, "malformed_token")


def test_it_rejects_the_token_of_a_deactivated_user(client, agent):
    _token_obj, key = _token(agent)
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    assert_error(client.get(ME_URL, **_auth(key)), 401, "inactive_user")


def test_it_answers_an_unknown_object_in_the_error_format(client, agent):
    _token_obj, key = _token(agent)
    assert_error(client.delete("/api/v1/tokens/999999999/", **_auth(key)), 404, "not_found")


# -- Throttling ----------------------------------------------------------------------------------


def _rates(**rates: str) -> dict:
    return {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"token": "6000/min", "user": "3000/min", **rates}}


def test_it_throttles_each_token_on_its_own_budget(client, agent):
    first, first_key = _token(agent, "ERP")
    second, second_key = _token(agent, "Web site")
    _reset_throttle(ApiTokenRateThrottle, first.pk)
    _reset_throttle(ApiTokenRateThrottle, second.pk)
    with override_settings(REST_FRAMEWORK=_rates(token="3/min")):
        for _call in range(3):
            assert client.get(ME_URL, **_auth(first_key)).status_code == 200
        response = client.get(ME_URL, **_auth(first_key))
        error = assert_error(response, 429, "throttled")
        assert int(response["Retry-After"]) > 0
        assert "fields" not in error
        assert "agent.test" not in response.content.decode()
        # Another integration of the same person keeps its own budget.
        assert client.get(ME_URL, **_auth(second_key)).status_code == 200
    _reset_throttle(ApiTokenRateThrottle, first.pk)
    _reset_throttle(ApiTokenRateThrottle, second.pk)


def test_it_throttles_a_browser_session_per_user(client, agent):
    client.force_login(agent)
    _reset_throttle(SessionUserRateThrottle, agent.pk)
    with override_settings(REST_FRAMEWORK=_rates(user="2/min")):
        assert client.get(ME_URL).status_code == 200
        assert client.get(ME_URL).status_code == 200
        assert_error(client.get(ME_URL), 429, "throttled")
    _reset_throttle(SessionUserRateThrottle, agent.pk)


# -- Staff directory -----------------------------------------------------------------------------


def test_it_lists_staff_for_a_supervisor(client, supervisor, agent, marketer):
    _token_obj, key = _token(supervisor)
    response = client.get(STAFF_URL, **_auth(key))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    by_username = {row["username"]: row for row in body["results"]}
    assert by_username["agent.test"]["roles"] == [roles.AGENT]
    assert by_username["marketer.test"]["roles"] == [roles.MARKETER]
    assert [row["username"] for row in body["results"]] == sorted(by_username)
    assert "password" not in by_username["agent.test"]


def test_it_refuses_the_staff_directory_to_an_agent(client, agent, supervisor):
    _token_obj, key = _token(agent)
    response = client.get(STAFF_URL, **_auth(key))
    assert_error(response, 403, "permission_denied")
    assert "supervisor.test" not in response.content.decode()
    assert "results" not in response.json()


def test_it_refuses_the_staff_directory_to_an_anonymous_caller(client, supervisor):
    response = client.get(STAFF_URL)
    assert_error(response, 401, "not_authenticated")
    assert "supervisor.test" not in response.content.decode()


def test_it_filters_staff_by_role_activity_and_search(client, make_staff):
    # Fixed names: the shared fixtures' random French surnames may themselves be "Dupont".
    supervisor = make_staff(roles.SUPERVISOR, username="lead", first_name="Léon", last_name="Chef", email="l@x.test")
    make_staff(roles.AGENT, username="a.dupont", first_name="Amélie", last_name="Dupont")
    make_staff(roles.AGENT, username="b.martin", first_name="Bruno", last_name="Martin", is_active=False)
    make_staff(roles.MARKETER, username="c.dupont", first_name="Claire", last_name="Dupont", email="claire@x.test")
    client.force_login(supervisor)

    def usernames(**params) -> list[str]:
        response = client.get(STAFF_URL, params)
        assert response.status_code == 200, response.content
        return [row["username"] for row in response.json()["results"]]

    assert usernames(role=roles.AGENT) == ["a.dupont", "b.martin"]
    assert usernames(role=roles.AGENT, is_active="true") == ["a.dupont"]
    assert usernames(is_active="false") == ["b.martin"]
    assert usernames(search="dupont") == ["a.dupont", "c.dupont"]
    assert usernames(search="DUPONT claire") == ["c.dupont"]
    assert usernames(search="claire@x.test") == ["c.dupont"]
    assert usernames(search="nobody") == []


def test_it_rejects_an_unknown_role_filter_with_a_field_error(client, supervisor):
    client.force_login(supervisor)
    error = assert_error(client.get(STAFF_URL, {"role": "Pirate"}), 400, "validation_error")
    assert error["fields"]["role"][0]["code"] == "invalid_choice"


def test_it_pages_the_staff_directory_with_cursors(client, supervisor, make_staff):
    for number in range(25):
        make_staff(roles.AGENT, username=f"agent{number:02d}")
    client.force_login(supervisor)
    seen, url, params = [], STAFF_URL, {"page_size": 10}
    while url:
        body = client.get(url, params).json()
        assert len(body["results"]) <= 10
        seen += [row["username"] for row in body["results"]]
        url, params = body["next"], None
    assert len(seen) == 26
    assert seen == sorted(seen)
    assert len(set(seen)) == len(seen)


def test_it_lists_a_page_of_30_staff_in_constant_queries(client, supervisor, make_staff, django_assert_max_num_queries):
    for number in range(29):
        make_staff([roles.AGENT, roles.MARKETER][number % 2], username=f"member{number:02d}")
    _token_obj, key = _token(supervisor)
    _reset_throttle(ApiTokenRateThrottle, _token_obj.pk)
    # Token + user, last_used_at, the caller's permissions (2), the page, the roles of the page.
    with django_assert_max_num_queries(6):
        response = client.get(STAFF_URL, {"page_size": 30}, **_auth(key))
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 30
    assert all(row["roles"] for row in results)


def test_it_lets_a_custom_role_with_view_user_read_the_directory(client, make_staff):
    auditors = Group.objects.create(name="Auditor")
    auditors.permissions.add(Permission.objects.get(content_type__app_label="crm", codename="view_user"))
    auditor = make_staff(None, username="auditor.test")
    auditor.groups.add(auditors)
    client.force_login(auditor)
    assert client.get(STAFF_URL).status_code == 200
    # ... but no API tokens: that takes crm.use_api_tokens.
    assert_error(client.get(reverse("api_v1_tokens")), 403, "permission_denied")


def test_an_unknown_api_path_answers_in_the_error_format(client, db):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_unknown_html_path_renders_the_404_page(client, agent):
    client.force_login(agent)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content


def test_a_token_cannot_mint_another_token(client, agent):
    from crm.services import api_token_create

    _token, key = api_token_create(user=agent, name="CI", acting_user=agent)
    response = client.post(
        "/api/v1/tokens/", {"name": "sneaky"}, content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert agent.api_tokens.count() == 1
