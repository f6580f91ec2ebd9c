"""Staff sessions end after a spell without activity, and in any case some hours after signing in."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.urls import reverse

from crm.middleware import SESSION_SEEN_KEY, SESSION_SIGNED_IN_KEY
from tests.factories import PASSWORD


def sign_in(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


def shift_session(client, key, seconds):
    session = client.session
    session[key] -= seconds
    session.save()


def test_it_signs_an_idle_staff_member_out_after_thirty_minutes_by_default(client, agent, settings):
    assert settings.SESSION_IDLE_TIMEOUT_MINUTES == 30
    sign_in(client, agent)
    shift_session(client, SESSION_SEEN_KEY, 29 * 60)
    assert client.get(reverse("account")).status_code == 200, "29 minutes idle: still signed in"

    shift_session(client, SESSION_SEEN_KEY, 31 * 60)
    response = client.get(reverse("account"), follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("login"))
    assert "signed out after 30 minutes without activity" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home")).status_code == 302, "the session is gone, not just this page"


def test_activity_keeps_the_session_alive_and_the_timeout_is_configurable(client, agent, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 5
    sign_in(client, agent)
    for _ in range(3):  # three requests, four minutes apart: twelve minutes in all, never five idle
        shift_session(client, SESSION_SEEN_KEY, 4 * 60)
        assert client.get(reverse("account")).status_code == 200
    shift_session(client, SESSION_SEEN_KEY, 6 * 60)
    assert client.get(reverse("account")).status_code == 302


def test_an_active_session_still_ends_at_its_absolute_lifetime(client, agent, settings):
    sign_in(client, agent)
    shift_session(client, SESSION_SIGNED_IN_KEY, settings.SESSION_COOKIE_AGE + 60)
    response = client.get(reverse("account"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("login"))
    assert "Your session has ended" in response.content.decode()


def test_a_page_view_writes_the_session_at_most_once_a_minute(client, agent):
    sign_in(client, agent)
    client.get(reverse("account"))
    session_key = client.session.session_key
    before = Session.objects.get(session_key=session_key).session_data
    client.get(reverse("account"))
    client.get(reverse("account"))
    assert Session.objects.get(session_key=session_key).session_data == before


def test_sessions_are_read_from_the_cache_and_survive_losing_it(client, agent, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sign_in(client, agent)
    assert client.get(reverse("account")).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("account")).status_code == 200
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"]], "read from the cache"

    # Redis gone (the discard port: nothing answers): the database answers alone, and nothing fails.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    assert client.get(reverse("account")).status_code == 200, "the session is still there, from the database"
    assert client.post(reverse("logout")).status_code == 200  # the "signed out" page
    assert client.get(reverse("account")).status_code == 302, "signed out for good"
    assert not Session.objects.exists()
