"""One origin check for the public browser endpoints: the chat widget, the call-back widget, web events.

A same-origin EventSource or GET sends no ``Origin`` header (the demo shop, served by Relais itself): the
browser's ``Sec-Fetch-Site`` or the ``Referer`` says where the request comes from. A foreign page is
refused whatever header it uses.
"""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.cache import cache

from channels.models import CallbackRequest, Conversation, WebEvent
from tests.channels_factories import QueueFactory, SiteFactory

pytestmark = pytest.mark.django_db

SHOP = "https://shop.example.com"
EVIL = "https://evil.example.net"
OWN = "http://testserver"  # Django's test client's host: Relais's own origin here


@pytest.fixture
def site():
    # A fresh key per test (rate-limit counters live in the shared Redis cache); the list as an admin
    # types it: mixed case, a trailing slash.
    site = SiteFactory(key=f"key-{uuid.uuid4().hex}", allowed_origins="HTTPS://Shop.Example.com/")
    cache.delete(f"throttle_web_events_{site.pk}")
    return site


def headers(*, origin=None, fetch_site=None, referer=None) -> dict:
    found = {"HTTP_ORIGIN": origin, "HTTP_SEC_FETCH_SITE": fetch_site, "HTTP_REFERER": referer}
    return {name: value for name, value in found.items() if value is not None}


def start_chat(client, site, **evidence):
    body = {"name": "Chloé", "message": "Bonjour", "visitor_id": "v-1"}
    return client.post(f"/api/v1/widget/{site.key}/chats/", json.dumps(body), content_type="application/json",
                       **headers(**evidence))  # fmt: skip


@pytest.fixture
def chat(client, site):
    QueueFactory(is_default=True)
    response = start_chat(client, site, origin=SHOP)
    assert response.status_code == 201, response.content
    return response.json()


def test_the_stream_of_a_same_origin_page_without_an_origin_header_is_served(client, site, chat):
    url = f"/api/v1/widget/{site.key}/chats/{chat['id']}/stream/?token={chat['token']}"
    response = client.get(url, HTTP_ACCEPT="text/event-stream", HTTP_SEC_FETCH_SITE="same-origin")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert "Access-Control-Allow-Origin" not in response  # same origin: no CORS needed
    response.close()


def test_a_same_origin_read_of_the_messages_is_served_on_the_referers_word(client, site, chat):
    url = f"/api/v1/widget/{site.key}/chats/{chat['id']}/messages/"
    response = client.get(url, HTTP_X_CHAT_TOKEN=chat["token"], HTTP_REFERER=f"{OWN}/channels/web/demo/")
    assert response.status_code == 200
    assert response.json()["messages"][0]["body"] == "Bonjour"


def test_relais_own_pages_may_start_a_chat_without_being_listed(client, site):
    QueueFactory(is_default=True)
    assert start_chat(client, site, origin=OWN).status_code == 201
    assert start_chat(client, site, fetch_site="same-origin").status_code == 201


@pytest.mark.parametrize(
    "evidence",
    [
        {"origin": EVIL},
        {"origin": "null"},  # a sandboxed frame or a file
        {"origin": "http://shop.example.com"},  # another scheme is another origin
        {"origin": "https://shop.example.com.evil.net"},
        {"origin": "https://shop.example.com:8443"},
        {"fetch_site": "cross-site"},  # a foreign page that hides where it is
        {"fetch_site": "cross-site", "referer": f"{EVIL}/page"},
        {"fetch_site": "same-site", "referer": "https://blog.example.com/"},
        {"referer": f"{EVIL}/page"},
        {"origin": EVIL, "fetch_site": "same-origin"},  # the Origin header wins over everything else
        {},  # no browser evidence at all: the widget is for browsers
    ],
)
def test_the_widget_refuses_a_foreign_or_unknown_page(client, site, chat, evidence):
    count = Conversation.objects.count()
    response = start_chat(client, site, **evidence)
    assert response.status_code == 403, evidence
    assert response.json()["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response
    url = f"/api/v1/widget/{site.key}/chats/{chat['id']}/stream/?token={chat['token']}"
    response = client.get(url, HTTP_ACCEPT="text/event-stream", **headers(**evidence))
    assert response.status_code == 403, evidence
    assert Conversation.objects.count() == count


def test_a_listed_page_is_allowed_by_its_referer_when_it_sends_no_origin(client, site, chat):
    url = f"/api/v1/widget/{site.key}/chats/{chat['id']}/messages/"
    response = client.get(url, HTTP_X_CHAT_TOKEN=chat["token"], HTTP_SEC_FETCH_SITE="cross-site",
                          HTTP_REFERER=f"{SHOP}/orders/42")  # fmt: skip
    assert response.status_code == 200


def _chat_status(client, site, evidence):
    return start_chat(client, site, **evidence).status_code


def _callback_status(client, site, evidence):
    body = {"name": "Paul", "phone": "12", "reason": "x"}  # invalid on purpose: 400 once the origin passes
    url = f"/api/v1/widget/{site.key}/callbacks/"
    return client.post(url, json.dumps(body), content_type="application/json", **headers(**evidence)).status_code


def _events_status(client, site, evidence):
    body = {"events": [{"type": "page_view", "visitor_id": "v-1", "session_id": "s-1",
                        "occurred_at": "2026-01-05T10:00:00+00:00", "url": f"{SHOP}/"}]}  # fmt: skip
    return client.post("/api/v1/channels/events/", json.dumps(body), content_type="application/json",
                       HTTP_X_RELAIS_SITE_KEY=site.key, **headers(**evidence)).status_code  # fmt: skip


@pytest.mark.parametrize(
    ("evidence", "allowed"),
    [
        ({"origin": SHOP}, True),
        ({"origin": OWN}, True),
        ({"fetch_site": "same-origin"}, True),
        ({"referer": f"{SHOP}/p/1"}, True),
        ({"origin": EVIL}, False),
        ({"origin": "null"}, False),
        ({"fetch_site": "cross-site"}, False),
        ({"referer": f"{EVIL}/"}, False),
    ],
)
def test_the_chat_the_call_back_and_the_web_events_endpoints_agree(client, site, evidence, allowed):
    QueueFactory(is_default=True)
    statuses = [check(client, site, evidence) for check in (_chat_status, _callback_status, _events_status)]
    if allowed:
        assert 403 not in statuses, statuses
    else:
        assert statuses == [403, 403, 403]
        assert not Conversation.objects.exists() and not CallbackRequest.objects.exists()
        assert not WebEvent.objects.exists()


def test_a_server_without_browser_headers_may_post_web_events_but_not_use_the_widget(client, site):
    assert _events_status(client, site, {}) == 200
    assert _chat_status(client, site, {}) == 403
