"""Permission sets are kept in the cache (crm/auth.py), yet a change of role or permission applies
from the very next request, and pages still answer when the cache cannot be reached."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm import roles

pytestmark = pytest.mark.django_db


def _signed_in(client, user):
    client.force_login(user)
    return client


def test_a_page_reads_the_permissions_from_the_cache_after_the_first_one(client, make_staff):
    _signed_in(client, make_staff(roles.AGENT))
    assert client.get("/account/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/account/").status_code == 200
    assert not [q for q in queries.captured_queries if "auth_permission" in q["sql"]]


def test_a_role_taken_away_applies_at_the_next_request(client, make_staff):
    agent = make_staff(roles.AGENT)
    _signed_in(client, agent)
    assert client.get("/customers/").status_code == 200
    agent.groups.remove(Group.objects.get(name=roles.AGENT))
    assert client.get("/customers/").status_code == 403
    agent.groups.add(Group.objects.get(name=roles.AGENT))
    assert client.get("/customers/").status_code == 200


def test_a_permission_taken_from_a_role_applies_at_the_next_request_for_everyone(client, make_staff):
    first, second = make_staff(roles.AGENT), make_staff(roles.AGENT)
    for user in (first, second):
        _signed_in(client, user)
        assert client.get("/customers/").status_code == 200
    group = Group.objects.get(name=roles.AGENT)
    view_customer = Permission.objects.get(content_type__app_label="customers", codename="view_customer")
    group.permissions.remove(view_customer)
    for user in (first, second):
        _signed_in(client, user)
        assert client.get("/customers/").status_code == 403
        assert 'data-nav="customers"' not in client.get("/account/").content.decode()


def test_a_permission_given_to_one_person_applies_at_the_next_request(client, make_staff):
    marketer = make_staff(roles.MARKETER)
    _signed_in(client, marketer)
    assert client.get("/channels/console/").status_code == 403
    marketer.user_permissions.add(Permission.objects.get(content_type__app_label="channels", codename="use_console"))
    assert client.get("/channels/console/").status_code == 200


def test_pages_answer_with_the_right_permissions_when_the_cache_is_unreachable(client, make_staff, settings):
    agent = make_staff(roles.AGENT)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing answers
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    _signed_in(client, agent)
    assert client.get("/customers/").status_code == 200
    assert client.get("/team/").status_code == 403
