"""The API tokens page and the Django admin for tokens: the key shown once, revocation, who may do what."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.db import connection
from django.urls import reverse

from crm import roles, services
from crm.models import ApiToken

KEY_PATTERN = re.compile(r"rls_[0-9a-f]{8}_[A-Za-z0-9_-]{40,}")


def _token(user, name="Integration"):
    return services.api_token_create(user=user, name=name, acting_user=user)


def _revoke_url(token) -> str:
    return reverse("api_token_revoke", kwargs={"pk": token.pk})


@pytest.fixture
def teammate(make_staff):
    return make_staff(roles.AGENT, username="teammate.test")


@pytest.fixture
def outsider(make_staff):
    analysts = Group.objects.create(name="Analyst")
    analysts.permissions.add(Permission.objects.get(content_type__app_label="crm", codename="view_analytics"))
    user = make_staff(None, username="outsider.test")
    user.groups.add(analysts)
    return user


def _database_contains(text: str) -> list[str]:
    """Names of the tables whose rows, as text, contain ``text`` (crm tokens, users and sessions)."""
    found = []
    with connection.cursor() as cursor:
        for table in (ApiToken._meta.db_table, "crm_user", Session._meta.db_table):
            cursor.execute(f"SELECT count(*) FROM {table} AS t WHERE t::text LIKE %s", [f"%{text}%"])  # noqa: S608
            if cursor.fetchone()[0]:
                found.append(table)
    return found


def test_it_shows_the_tokens_page(client, agent):
    _token(agent, "ERP sync")
    client.force_login(agent)
    response = client.get(reverse("api_tokens"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "ERP sync" in content
    assert 'data-testid="token-form"' in content
    assert not KEY_PATTERN.search(content)


def test_it_shows_an_empty_state_without_tokens(client, agent):
    client.force_login(agent)
    response = client.get(reverse("api_tokens"))
    assert response.status_code == 200
    assert response.context["tokens"].count() == 0
    assert 'data-testid="token-row"' not in response.content.decode()


def test_it_shows_a_new_key_once_and_stores_only_its_hash(client, agent):
    client.force_login(agent)
    created = client.post(reverse("api_tokens"), {"name": "ERP sync"})
    assert created.status_code == 302 and created["Location"] == reverse("api_tokens")
    response = client.get(created["Location"])
    assert response.status_code == 200
    content = response.content.decode()
    keys = set(KEY_PATTERN.findall(content))
    assert len(keys) == 1
    key = keys.pop()
    assert 'data-testid="new-token-key"' in content and 'data-copy-target="#new-token-key"' in content
    assert "no-store" in response["Cache-Control"]

    token = ApiToken.objects.get(user=agent)
    assert token.name == "ERP sync"
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    secret = key.removeprefix(token.prefix + "_")
    assert all(secret not in str(value) for value in ApiToken.objects.filter(pk=token.pk).values().get().values())
    assert _database_contains(secret) == []

    again = client.get(reverse("api_tokens")).content.decode()
    assert secret not in again
    assert token.prefix in again  # recognisable by its prefix only
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200


def test_reloading_after_creating_a_token_creates_no_second_one(client, agent):
    client.force_login(agent)
    created = client.post(reverse("api_tokens"), {"name": "ERP sync"}, follow=True)
    # The browser is left on a GET: reloading it repeats the GET, which shows no key and creates nothing.
    assert created.redirect_chain == [(reverse("api_tokens"), 302)]
    assert len(set(KEY_PATTERN.findall(created.content.decode()))) == 1

    reloaded = client.get(reverse("api_tokens"))
    assert ApiToken.objects.filter(user=agent).count() == 1
    assert not KEY_PATTERN.search(reloaded.content.decode())
    assert _database_contains(created.context["new_key"].split("_", 2)[2]) == []


def test_it_shows_form_errors_without_creating_a_token(client, agent):
    client.force_login(agent)
    response = client.post(reverse("api_tokens"), {"name": "  "})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert not KEY_PATTERN.search(response.content.decode())
    assert ApiToken.objects.count() == 0


def test_it_revokes_through_htmx_and_returns_the_row(client, agent):
    token, _key = _token(agent, "ERP sync")
    client.force_login(agent)
    page = client.get(reverse("api_tokens")).content.decode()
    assert f'hx-post="{_revoke_url(token)}"' in page and "hx-confirm=" in page

    response = client.post(_revoke_url(token), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    content = response.content.decode()
    assert content.strip().startswith(f'<tr id="token-{token.pk}"')
    assert "<html" not in content and "ERP sync" in content
    assert 'data-testid="revoke-token"' not in content  # a revoked token has no button left
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_it_revokes_through_a_plain_form_and_redirects(client, agent):
    token, _key = _token(agent)
    client.force_login(agent)
    response = client.post(_revoke_url(token))
    assert response.status_code == 302
    assert response.url == reverse("api_tokens")
    token.refresh_from_db()
    assert not token.is_active


def test_it_refuses_to_revoke_with_get(client, agent):
    token, _key = _token(agent)
    client.force_login(agent)
    assert client.get(_revoke_url(token)).status_code == 405
    token.refresh_from_db()
    assert token.is_active


def test_it_hides_a_teammates_token_with_404(client, agent, teammate):
    token, key = _token(agent, "Agent's ERP")
    client.force_login(teammate)
    response = client.post(_revoke_url(token), HTTP_HX_REQUEST="true")
    assert response.status_code == 404
    assert "Agent's ERP" not in response.content.decode()
    token.refresh_from_db()
    assert token.is_active
    assert "Agent's ERP" not in client.get(reverse("api_tokens")).content.decode()
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200


def test_it_refuses_the_page_to_an_outsider_role(client, agent, outsider):
    token, _key = _token(agent, "Agent's ERP")
    client.force_login(outsider)
    for response in (
        client.get(reverse("api_tokens")),
        client.post(reverse("api_tokens"), {"name": "Mine"}),
        client.post(_revoke_url(token)),
    ):
        assert response.status_code == 403
        content = response.content.decode()
        assert "Agent's ERP" not in content and token.prefix not in content
    token.refresh_from_db()
    assert token.is_active
    assert ApiToken.objects.count() == 1


def test_it_sends_anonymous_visitors_to_sign_in(client, agent):
    token, _key = _token(agent)
    response = client.post(_revoke_url(token))
    assert response.status_code == 302
    assert reverse("login") in response.url
    token.refresh_from_db()
    assert token.is_active


# -- Django admin ---------------------------------------------------------------------------------


@pytest.fixture
def superuser(make_staff):
    return make_staff(roles.ADMIN, username="root.test", is_staff=True, is_superuser=True)


def test_it_creates_a_token_in_the_admin_and_shows_the_key_once(client, superuser, agent):
    client.force_login(superuser)
    response = client.post(reverse("admin:crm_apitoken_add"), {"user": agent.pk, "name": "Set up by IT"})
    assert response.status_code == 302
    token = ApiToken.objects.get(user=agent)

    shown = client.get(response.url)  # the page after the redirect shows the key once, as a warning
    warnings = [str(message) for message in shown.context["messages"] if message.level_tag == "warning"]
    assert len(warnings) == 1
    key = KEY_PATTERN.search(warnings[0]).group()
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert _database_contains(key.removeprefix(token.prefix + "_")) == []

    listing = client.get(reverse("admin:crm_apitoken_changelist")).content.decode()
    assert "Set up by IT" in listing and token.prefix in listing
    assert key not in listing and token.key_hash not in listing
    change = client.get(reverse("admin:crm_apitoken_change", args=[token.pk])).content.decode()
    assert key not in change and token.key_hash not in change


def test_it_revokes_selected_tokens_from_the_admin(client, admin_staff, agent):
    first, _key = _token(agent, "One")
    second, _key = _token(agent, "Two")
    kept, _key = _token(agent, "Kept")
    client.force_login(admin_staff)
    response = client.post(
        reverse("admin:crm_apitoken_changelist"),
        {"action": "revoke_selected", "_selected_action": [first.pk, second.pk]},
    )
    assert response.status_code == 302
    assert ApiToken.objects.filter(revoked_at__isnull=False).count() == 2
    kept.refresh_from_db()
    assert kept.is_active


def test_it_registers_the_staff_admin_with_relais_fields(client, superuser, agent):
    client.force_login(superuser)
    content = client.get(reverse("admin:crm_user_change", args=[agent.pk])).content.decode()
    assert 'name="language"' in content and 'name="phone_extension"' in content
