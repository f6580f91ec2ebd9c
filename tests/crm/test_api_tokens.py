"""/api/v1/tokens/ and the token services: create, list, revoke; the owner, a teammate, an outsider."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.http import Http404

from crm import roles, services
from crm.errors import ApplicationError
from crm.models import ApiToken

TOKENS_URL = "/api/v1/tokens/"
ME_URL = "/api/v1/me/"


def _token(user, name="Integration"):
    return services.api_token_create(user=user, name=name, acting_user=user)


def _auth(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert list(body) == ["error"]
    assert body["error"]["code"] == code
    assert body["error"]["status"] == status
    assert body["error"]["message"]
    return body["error"]


@pytest.fixture
def teammate(make_staff):
    return make_staff(roles.AGENT, username="teammate.test")


@pytest.fixture
def outsider(make_staff):
    """Staff in another role that does not hold crm.use_api_tokens."""
    analysts = Group.objects.create(name="Analyst")
    analysts.permissions.add(Permission.objects.get(content_type__app_label="crm", codename="view_analytics"))
    user = make_staff(None, username="outsider.test")
    user.groups.add(analysts)
    return user


# -- Create ---------------------------------------------------------------------------------------


def test_it_creates_a_token_and_returns_its_key_once(client, agent):
    client.force_login(agent)
    response = client.post(TOKENS_URL, {"name": "ERP sync"}, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "name", "prefix", "created_at", "last_used_at", "revoked_at", "is_active", "key"}
    assert body["name"] == "ERP sync"
    assert body["is_active"] is True
    assert body["key"].startswith(body["prefix"] + "_")
    assert "no-store" in response["Cache-Control"]

    token = ApiToken.objects.get(pk=body["id"])
    assert token.user == agent
    assert token.key_hash == hashlib.sha256(body["key"].encode()).hexdigest()
    secret = body["key"].removeprefix(body["prefix"] + "_")
    assert all(secret not in str(value) for value in ApiToken.objects.filter(pk=token.pk).values().get().values())

    listing = client.get(TOKENS_URL)
    assert listing.status_code == 200
    assert body["key"] not in listing.content.decode()
    assert [row["id"] for row in listing.json()["results"]] == [token.pk]
    assert "key" not in listing.json()["results"][0]

    # The new key works at once.
    client.logout()
    assert client.get(ME_URL, **_auth(body["key"])).json()["username"] == "agent.test"


def test_it_requires_a_name(client, agent):
    client.force_login(agent)
    error = assert_error(client.post(TOKENS_URL, {}, content_type="application/json"), 400, "validation_error")
    assert error["fields"]["name"][0]["code"] == "required"
    assert ApiToken.objects.count() == 0


def test_it_rejects_a_blank_or_too_long_name(client, agent):
    client.force_login(agent)
    for name, code in (("   ", "blank"), ("x" * 101, "max_length")):
        response = client.post(TOKENS_URL, {"name": name}, content_type="application/json")
        assert assert_error(response, 400, "validation_error")["fields"]["name"][0]["code"] == code
    assert ApiToken.objects.count() == 0


def test_it_lists_only_the_callers_tokens(client, agent, teammate, django_assert_max_num_queries):
    mine = [_token(agent, f"Mine {number}")[0] for number in range(3)]
    _token(teammate, "Theirs")
    services.api_token_revoke(token=mine[0], acting_user=agent)
    client.force_login(agent)
    with django_assert_max_num_queries(5):
        response = client.get(TOKENS_URL)
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [token.pk for token in reversed(mine)]
    assert rows[-1]["is_active"] is False and rows[-1]["revoked_at"]
    assert "Theirs" not in response.content.decode()


def test_it_refuses_to_create_a_token_for_someone_else_unless_admin(agent, teammate, admin_staff):
    with pytest.raises(PermissionDenied):
        services.api_token_create(user=teammate, name="Sneaky", acting_user=agent)
    assert not ApiToken.objects.filter(user=teammate).exists()
    token, _key = services.api_token_create(user=teammate, name="Set up by IT", acting_user=admin_staff)
    assert token.user == teammate


def test_it_refuses_a_token_for_an_inactive_user(admin_staff, make_staff):
    gone = make_staff(roles.AGENT, username="gone.test", is_active=False)
    with pytest.raises(ApplicationError) as raised:
        services.api_token_create(user=gone, name="Old", acting_user=admin_staff)
    assert raised.value.field == "user"
    assert not ApiToken.objects.exists()


# -- Revoke ---------------------------------------------------------------------------------------


def test_it_lets_the_owner_revoke_their_token(client, agent):
    token, key = _token(agent)
    other, other_key = _token(agent, "Still needed")
    response = client.delete(f"{TOKENS_URL}{token.pk}/", **_auth(other_key))
    assert response.status_code == 204
    assert response.content == b""
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert_error(client.get(ME_URL, **_auth(key)), 401, "revoked_token")
    assert client.get(ME_URL, **_auth(other_key)).status_code == 200
    # Revoking again changes nothing and still answers 204.
    first_revoked_at = token.revoked_at
    assert client.delete(f"{TOKENS_URL}{token.pk}/", **_auth(other_key)).status_code == 204
    token.refresh_from_db()
    assert token.revoked_at == first_revoked_at


def test_it_hides_a_teammates_token_with_404(client, agent, teammate):
    token, key = _token(agent, "Agent's ERP")
    _own, teammate_key = _token(teammate)
    response = client.delete(f"{TOKENS_URL}{token.pk}/", **_auth(teammate_key))
    error = assert_error(response, 404, "not_found")
    assert "Agent's ERP" not in str(error) and token.prefix not in str(error)
    token.refresh_from_db()
    assert token.is_active
    assert client.get(ME_URL, **_auth(key)).status_code == 200


def test_it_refuses_the_token_api_to_an_outsider_role(client, agent, outsider):
    token, _key = _token(agent, "Agent's ERP")
    client.force_login(outsider)
    for response in (
        client.get(TOKENS_URL),
        client.post(TOKENS_URL, {"name": "Mine"}, content_type="application/json"),
        client.delete(f"{TOKENS_URL}{token.pk}/"),
    ):
        assert_error(response, 403, "permission_denied")
        content = response.content.decode()
        assert "Agent's ERP" not in content and token.prefix not in content and "results" not in content
    token.refresh_from_db()
    assert token.is_active
    assert ApiToken.objects.count() == 1


def test_it_lets_an_admin_revoke_anyones_token(client, agent, admin_staff):
    token, _key = _token(agent)
    client.force_login(admin_staff)
    assert client.delete(f"{TOKENS_URL}{token.pk}/").status_code == 204
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_it_scopes_the_access_helper_to_the_owner(agent, teammate, admin_staff):
    token, _key = _token(agent)
    assert services.api_token_get_for_user(user=agent, pk=token.pk) == token
    assert services.api_token_get_for_user(user=admin_staff, pk=token.pk) == token
    with pytest.raises(Http404):
        services.api_token_get_for_user(user=teammate, pk=token.pk)
    with pytest.raises(PermissionDenied):
        services.api_token_revoke(token=token, acting_user=teammate)
    token.refresh_from_db()
    assert token.is_active
