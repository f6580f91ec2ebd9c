"""The widget API: a visitor starts a chat, talks with an agent, gets a page pushed, ends the chat."""

from __future__ import annotations

import json
import uuid

import pytest

from channels.choices import ChatAuthor, ConversationStatus, InteractionChannel, InteractionKind
from channels.models import ChatMessage, Conversation, Interaction
from channels.realtime import channel_name
from channels.services import chat as chat_services
from crm.redis import redis_client
from tests.channels_factories import QueueFactory, SiteFactory
from tests.customers_factories import CustomerFactory, EmailFactory

pytestmark = pytest.mark.django_db

ORIGIN = "https://shop.example.com"


@pytest.fixture
def site():
    # A fresh key per test: the widget's rate-limit counters live in the shared Redis cache.
    return SiteFactory(key=f"key-{uuid.uuid4().hex}", allowed_origins=f"{ORIGIN}\nhttps://www.example.com")


def base(site) -> str:
    return f"/api/v1/widget/{site.key}"


def post(client, url, data=None, *, origin=ORIGIN, token=None):
    extra = {"HTTP_ORIGIN": origin} if origin else {}
    if token:
        extra["HTTP_X_CHAT_TOKEN"] = token
    return client.post(url, json.dumps(data or {}), content_type="application/json", **extra)


def get(client, url, *, origin=ORIGIN, token=None):
    extra = {"HTTP_ORIGIN": origin} if origin else {}
    if token:
        extra["HTTP_X_CHAT_TOKEN"] = token
    return client.get(url, **extra)


def start(client, site, **data):
    body = {"name": "Chloé", "message": "Bonjour, ma commande n'est pas arrivée", "visitor_id": "v-123",
            "url": "https://shop.example.com/orders", **data}  # fmt: skip
    return post(client, f"{base(site)}/chats/", body)


def test_it_runs_a_whole_chat_and_records_one_interaction(client, site, agent, django_capture_on_commit_callbacks):
    QueueFactory(is_default=True)
    customer = CustomerFactory(given_name="Chloé", family_name="Martin")
    EmailFactory(customer=customer, value="chloe.martin@example.com")

    response = start(client, site, email="Chloe.Martin@example.com")
    assert response.status_code == 201, response.content
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    body = response.json()
    token, chat_id = body["token"], body["id"]
    assert body["status"] == "waiting"
    assert body["messages"][0]["body"] == "Bonjour, ma commande n'est pas arrivée"
    conversation = Conversation.objects.get(pk=chat_id)
    assert conversation.customer is None  # a typed email is a claim: only the agent links (test_chat_claims)
    assert chat_services.chat_claimed_customer(conversation=conversation) == customer
    assert conversation.token_hash and token not in conversation.token_hash
    assert conversation.site == site and conversation.visitor_id == "v-123"

    conversation = chat_services.chat_take(conversation=conversation, agent=agent)
    # The agent checked who they are talking to, then links the chat to the customer the email named.
    conversation = chat_services.chat_customer_link(conversation=conversation, customer=customer, acting_user=agent)
    chat_services.chat_agent_reply(conversation=conversation, agent=agent, body="Je regarde tout de suite.")
    response = post(client, f"{base(site)}/chats/{chat_id}/messages/", {"body": "Merci !"}, token=token)
    assert response.status_code == 201
    chat_services.chat_push_page(conversation=conversation, agent=agent, url="https://shop.example.com/track/42")

    response = get(client, f"{base(site)}/chats/{chat_id}/messages/", token=token)
    assert response.status_code == 200
    lines = response.json()["messages"]
    authors = [line["author"] for line in lines]
    assert authors == ["visitor", "system", "system", "agent", "visitor", "agent"]
    assert lines[3]["body"] == "Je regarde tout de suite." and lines[3]["agent"] == agent.first_name
    assert lines[-1]["pushed_url"] == "https://shop.example.com/track/42"
    after = get(client, f"{base(site)}/chats/{chat_id}/messages/?after={lines[3]['id']}", token=token).json()
    assert [line["body"] for line in after["messages"]][0] == "Merci !"

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, f"{base(site)}/chats/{chat_id}/end/", token=token)
    assert response.status_code == 200 and response.json()["status"] == "closed"
    interaction = Interaction.objects.get(conversation_id=chat_id)
    assert interaction.customer == customer
    assert (interaction.channel, interaction.kind, interaction.direction) == (
        InteractionChannel.CHAT, InteractionKind.CHAT, "inbound")  # fmt: skip
    assert interaction.agent == agent
    assert "ma commande" in interaction.summary
    assert "Je regarde tout de suite." in interaction.body and "track/42" in interaction.body
    assert interaction.duration_seconds is not None
    # Ended: the visitor cannot write any more, and ending again changes nothing.
    response = post(client, f"{base(site)}/chats/{chat_id}/messages/", {"body": "encore"}, token=token)
    assert response.status_code == 409 and response.json()["error"]["code"] == "chat_closed"
    assert post(client, f"{base(site)}/chats/{chat_id}/end/", token=token).status_code == 200
    assert Interaction.objects.filter(conversation_id=chat_id).count() == 1


def test_it_requires_the_chats_own_token(client, site):
    first = start(client, site).json()
    second = start(client, site, name="Marc").json()
    url = f"{base(site)}/chats/{first['id']}/messages/"

    for token in (None, "", "guess", second["token"], first["token"][:-1] + "x"):
        response = get(client, url, token=token)
        assert response.status_code == 403, token
        assert response.json()["error"]["code"] == "invalid_token"
        assert "Bonjour" not in response.content.decode()
        assert post(client, url, {"body": "intrus"}, token=token).status_code == 403
    assert not ChatMessage.objects.filter(body="intrus").exists()
    assert get(client, url, token=first["token"]).status_code == 200
    # Tokens are long random strings, never the conversation id or anything derived from it.
    assert len(first["token"]) >= 40 and first["token"] != second["token"]


def test_it_refuses_unknown_sites_and_origins_not_allowed(client, site):
    count = Conversation.objects.count()
    for origin in (None, "https://evil.example.net", "http://shop.example.com", "https://shop.example.com.evil.net"):
        response = post(client, f"{base(site)}/chats/", {"name": "X", "message": "Y"}, origin=origin)
        assert response.status_code == 403, origin
        assert response.json()["error"]["code"] == "origin_not_allowed"
        assert "Access-Control-Allow-Origin" not in response
    response = post(client, "/api/v1/widget/nope/chats/", {"name": "X", "message": "Y"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "invalid_site"
    site.is_active = False
    site.save()
    assert start(client, site).status_code == 403
    assert Conversation.objects.count() == count


def test_it_answers_the_cors_preflight_for_allowed_origins_only(client, site):
    response = client.options(f"{base(site)}/chats/", HTTP_ORIGIN="https://www.example.com",
                              HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")  # fmt: skip
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "https://www.example.com"
    assert "X-Chat-Token" in response["Access-Control-Allow-Headers"]
    response = client.options(f"{base(site)}/chats/", HTTP_ORIGIN="https://evil.example.net")
    assert response.status_code == 403 and "Access-Control-Allow-Origin" not in response


def test_it_reports_field_errors_and_writes_nothing(client, site):
    count = Conversation.objects.count()
    response = post(client, f"{base(site)}/chats/", {"name": "", "message": "", "email": "not-an-email"})
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"name", "message", "email"}
    response = start(client, site, message="x" * 5000)
    assert response.status_code == 400 and "message" in response.json()["error"]["fields"]
    assert Conversation.objects.count() == count


def test_an_unmatched_email_leaves_the_chat_unidentified_until_an_agent_links_it(
    client, site, agent, django_capture_on_commit_callbacks
):
    customer = CustomerFactory()
    body = start(client, site, email="someone.else@example.com").json()
    conversation = Conversation.objects.get(pk=body["id"])
    assert conversation.customer is None
    chat_services.chat_take(conversation=conversation, agent=agent)
    with django_capture_on_commit_callbacks(execute=True):
        post(client, f"{base(site)}/chats/{body['id']}/end/", token=body["token"])
    interaction = Interaction.objects.get(conversation=conversation)
    assert interaction.customer is None

    chat_services.chat_customer_link(conversation=conversation, customer=customer, acting_user=agent)
    interaction.refresh_from_db()
    assert interaction.customer == customer
    assert not ChatMessage.objects.filter(conversation=conversation, customer__isnull=True).exists()


def test_it_throttles_a_visitor_flooding_the_api(client, site, settings):
    settings.WIDGET_RATE = "3/min"
    statuses = [get(client, f"{base(site)}/chats/1/messages/", token="x").status_code for _ in range(5)]
    assert statuses[:3] == [403, 403, 403]
    assert statuses[3:] == [429, 429]


def test_it_publishes_a_new_chat_to_the_console_and_lines_to_the_chat(client, site, agent,
                                                                      django_capture_on_commit_callbacks):  # fmt: skip
    pubsub = redis_client().pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel_name("console"))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            body = start(client, site).json()
        event = _next_message(pubsub)
        assert json.loads(event["data"]) == {"event": "chat_new", "data": str(body["id"])}

        pubsub.subscribe(channel_name(f"chat:{body['id']}"))
        conversation = Conversation.objects.get(pk=body["id"])
        with django_capture_on_commit_callbacks(execute=True):
            chat_services.chat_take(conversation=conversation, agent=agent)
            chat_services.chat_agent_reply(conversation=conversation, agent=agent, body="<b>Hello</b>")
        events = [json.loads(_next_message(pubsub)["data"]) for _ in range(5)]
        lines = [json.loads(e["data"]) for e in events if e["event"] == "line"]
        assert lines[-1]["body"] == "<b>Hello</b>" and lines[-1]["author"] == ChatAuthor.AGENT
        assert {"event": "status", "data": json.dumps({"status": ConversationStatus.OPEN})} in events
    finally:
        pubsub.close()


def _next_message(pubsub, timeout: float = 3.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.2)
        if message and message["type"] == "message":
            return message
    raise AssertionError("no event published")


def test_the_stream_needs_the_token_in_the_query(client, site):
    body = start(client, site).json()
    url = f"{base(site)}/chats/{body['id']}/stream/"
    response = client.get(url + "?token=wrong", HTTP_ORIGIN=ORIGIN, HTTP_ACCEPT="text/event-stream")
    assert response.status_code == 403
    response = client.get(f"{url}?token={body['token']}", HTTP_ORIGIN=ORIGIN, HTTP_ACCEPT="text/event-stream")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    response.close()
