"""An email typed in the widget is a claim, not proof: it suggests a customer to the agent, links nobody.

Anyone can type a customer's email into a chat or call-back form. Before, that was enough to put the
chat (and the visitor's browsing) on that customer's timeline and to show the agent "this is Chloé
Martin". Now the chat stays unidentified, the agent sees the suggestion marked "claimed, not verified",
and only the agent's own link (after checking) attaches it.
"""

from __future__ import annotations

import json
import uuid

import pytest

from channels.models import CallbackRequest, ChatMessage, Conversation, Interaction, VisitorLink, WebEvent
from channels.services import chat as chat_services
from tests.channels.test_callbacks_requests import ask
from tests.channels_factories import QueueFactory, SiteFactory
from tests.customers_factories import CustomerFactory, EmailFactory

pytestmark = pytest.mark.django_db

ORIGIN = "https://shop.example.com"


@pytest.fixture
def site():
    return SiteFactory(key=f"key-{uuid.uuid4().hex}", allowed_origins=ORIGIN)


@pytest.fixture
def chloe():
    customer = CustomerFactory(given_name="Chloé", family_name="Martin")
    EmailFactory(customer=customer, value="chloe.martin@example.com")
    return customer


def start(client, site, **data):
    body = {"name": "Chloé", "message": "Where is my order?", "visitor_id": "v-claim", **data}
    return client.post(f"/api/v1/widget/{site.key}/chats/", json.dumps(body), content_type="application/json",
                       HTTP_ORIGIN=ORIGIN)  # fmt: skip


def test_a_typed_email_of_a_customer_links_nothing_to_them(client, site, chloe, agent,
                                                           django_capture_on_commit_callbacks):  # fmt: skip
    QueueFactory(is_default=True)
    WebEvent.objects.create(site=site, visitor_id="v-claim", session_id="s-1", event_type="page_view",
                            occurred_at="2026-12-01T10:00:00Z", url=f"{ORIGIN}/orders")  # fmt: skip
    response = start(client, site, email="Chloe.Martin@example.com")
    assert response.status_code == 201, response.content
    assert "Martin" not in response.content.decode()  # the visitor learns nothing about the customer either

    conversation = Conversation.objects.get(pk=response.json()["id"])
    assert conversation.customer is None
    assert conversation.visitor_email == "Chloe.Martin@example.com"  # kept, as the visitor's claim
    assert not ChatMessage.objects.filter(conversation=conversation, customer__isnull=False).exists()
    assert not VisitorLink.objects.exists()
    assert not WebEvent.objects.filter(customer__isnull=False).exists()
    assert chat_services.chat_claimed_customer(conversation=conversation) == chloe

    # Ended without the agent linking it: the transcript is on nobody's timeline.
    chat_services.chat_take(conversation=conversation, agent=agent)
    with django_capture_on_commit_callbacks(execute=True):
        chat_services.chat_end(conversation=conversation, acting_user=agent)
    assert Interaction.objects.get(conversation=conversation).customer is None
    assert not Interaction.objects.filter(customer=chloe).exists()


def test_the_agent_sees_the_claim_marked_not_verified_and_links_it_only_when_they_choose(
    client, site, chloe, agent, make_staff
):
    conversation = chat_services.chat_start(site=site, name="Chloé", message="Bonjour", visitor_id="v-claim",
                                            email="chloe.martin@example.com").conversation  # fmt: skip
    client.force_login(agent)
    queue = client.get("/channels/chats/").content.decode()
    assert "chloe.martin@example.com" in queue and "claimed, not verified" in queue

    chat_services.chat_take(conversation=conversation, agent=agent)
    page = client.get(f"/channels/chats/{conversation.pk}/").content.decode()
    assert 'data-testid="chat-claim"' in page and "claimed, not verified" in page
    assert "Chloé Martin" in page and 'data-testid="link-claimed"' in page
    assert 'data-testid="chat-customer-link"' not in page  # suggested, not identified

    # A teammate who is not answering the chat sees the claim but cannot link it.
    teammate = make_staff("Agent", username="teammate.agent")
    client.force_login(teammate)
    page = client.get(f"/channels/chats/{conversation.pk}/").content.decode()
    assert "claimed, not verified" in page and 'data-testid="link-claimed"' not in page
    assert client.post(f"/channels/chats/{conversation.pk}/customer/", {"customer": chloe.pk}).status_code == 403
    conversation.refresh_from_db()
    assert conversation.customer is None

    # The answering agent checked with the visitor and links: now, and only now, it is Chloé's.
    client.force_login(agent)
    response = client.post(f"/channels/chats/{conversation.pk}/customer/", {"customer": chloe.pk})
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.customer == chloe
    assert VisitorLink.objects.get(visitor_id="v-claim").customer == chloe
    page = client.get(f"/channels/chats/{conversation.pk}/").content.decode()
    assert 'data-testid="chat-customer-link"' in page and 'data-testid="chat-claim"' not in page


def test_an_email_matching_nobody_suggests_nobody(client, site, chloe, agent):
    conversation = chat_services.chat_start(site=site, name="Chloé", message="Bonjour",
                                            email="someone.else@example.com").conversation  # fmt: skip
    assert chat_services.chat_claimed_customer(conversation=conversation) is None
    chat_services.chat_take(conversation=conversation, agent=agent)
    client.force_login(agent)
    page = client.get(f"/channels/chats/{conversation.pk}/").content.decode()
    assert "matches no customer exactly" in page and 'data-testid="chat-claim"' not in page


def test_a_bad_email_is_refused_on_the_email_field(site):
    from crm.errors import ApplicationError

    with pytest.raises(ApplicationError) as refused:
        chat_services.chat_start(site=site, name="Chloé", message="Bonjour", email="a<b>@c.de")
    assert refused.value.field == "email"
    assert not Conversation.objects.exists()


def test_a_call_back_asked_with_a_customers_email_links_nobody(client, site, chloe):
    QueueFactory(is_default=True)
    response = ask(client, site, email="chloe.martin@example.com", visitor_id="v-claim")
    assert response.status_code == 201, response.content
    callback = CallbackRequest.objects.get(pk=response.json()["id"])
    assert callback.customer is None
    assert not VisitorLink.objects.exists()
