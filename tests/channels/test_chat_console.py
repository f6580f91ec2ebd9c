"""The agents' side of chat: the queue page, taking a chat, answering, pushing a page, linking, ending."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from channels.choices import ChatAuthor, ConversationStatus, WebEventType
from channels.models import Case, ChatMessage, Conversation, Interaction, WebEvent
from channels.services import chat as chat_services
from crm.errors import ApplicationError
from tests.channels_factories import QueueFactory, SiteFactory
from tests.customers_factories import CustomerFactory

pytestmark = pytest.mark.django_db

XSS = '<img src=x onerror="window.__xss=1">'


@pytest.fixture
def site():
    return SiteFactory(key=f"key-{uuid.uuid4().hex}", allowed_origins="https://shop.example.com")


def new_chat(site, *, name="Chloé", message="Bonjour", visitor_id="v-1") -> Conversation:
    return chat_services.chat_start(site=site, name=name, message=message, visitor_id=visitor_id).conversation


def test_the_queue_lists_waiting_chats_oldest_first_with_their_wait(client, agent, site, django_assert_max_num_queries):
    first = new_chat(site, name="Première", message="Premier message")
    Conversation.objects.filter(pk=first.pk).update(created_at=timezone.now() - timezone.timedelta(minutes=7))
    for index in range(5):
        new_chat(site, name=f"Visiteur {index}")
    client.force_login(agent)
    with django_assert_max_num_queries(12):
        response = client.get("/channels/chats/")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.index("Première") < page.index("Visiteur 0")
    assert "7\xa0minutes" in page
    assert 'sse-connect="/channels/chats/stream/"' in page


def test_two_agents_cannot_take_the_same_chat(client, agent, make_staff, site):
    other = make_staff("Agent", username="second.agent")
    conversation = new_chat(site)
    client.force_login(agent)
    assert client.post(f"/channels/chats/{conversation.pk}/take/").status_code == 302
    client.force_login(other)
    response = client.post(f"/channels/chats/{conversation.pk}/take/", follow=True)
    assert "Another agent has already taken this chat." in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.assignee == agent and conversation.status == ConversationStatus.OPEN
    with pytest.raises(ApplicationError):
        chat_services.chat_agent_reply(conversation=conversation, agent=other, body="Je prends")
    assert not ChatMessage.objects.filter(body="Je prends").exists()


def test_an_agent_answers_pushes_a_page_and_ends_the_chat(client, agent, site):
    QueueFactory(is_default=True)
    conversation = new_chat(site, message=XSS)
    client.force_login(agent)
    client.post(f"/channels/chats/{conversation.pk}/take/")
    page = client.get(f"/channels/chats/{conversation.pk}/").content.decode()
    assert XSS not in page and "&lt;img src=x onerror=" in page  # the visitor's text, escaped

    response = client.post(f"/channels/chats/{conversation.pk}/reply/", {"body": "Bonjour, je regarde"},
                           HTTP_HX_REQUEST="true")  # fmt: skip
    assert response.status_code == 200 and response["HX-Trigger"] == "chat-updated"
    response = client.post(f"/channels/chats/{conversation.pk}/push/", {"url": "javascript:alert(1)"},
                           HTTP_HX_REQUEST="true")  # fmt: skip
    assert response.status_code == 400
    assert "http:// or https://" in response.content.decode()
    client.post(f"/channels/chats/{conversation.pk}/push/", {"url": "https://shop.example.com/p/42"},
                HTTP_HX_REQUEST="true")  # fmt: skip
    transcript = client.get(f"/channels/chats/{conversation.pk}/transcript/").content.decode()
    assert "Bonjour, je regarde" in transcript and 'href="https://shop.example.com/p/42"' in transcript
    assert not ChatMessage.objects.filter(pushed_url__startswith="javascript").exists()

    response = client.post(f"/channels/chats/{conversation.pk}/case/", {"subject": "Colis perdu", "category": "claim"})
    case = Case.objects.get(conversations=conversation)
    assert case.subject == "Colis perdu" and case.channel == "chat" and case.assignee == agent

    response = client.post(f"/channels/chats/{conversation.pk}/end/")
    assert response.status_code == 302 and response["Location"] == "/channels/chats/"
    interaction = Interaction.objects.get(conversation=conversation)
    assert interaction.case == case and interaction.agent == agent
    assert "<img" not in interaction.body and "&lt;img src=x" in interaction.body  # kept as text, not a tag
    assert "Bonjour, je regarde" in interaction.body
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.CLOSED
    assert "This chat has ended" in client.get(f"/channels/chats/{conversation.pk}/").content.decode()


def test_the_chat_page_shows_the_visitors_pages_with_products_and_carts_highlighted(client, agent, site):
    conversation = new_chat(site, visitor_id="v-pages")
    now = timezone.now()
    WebEvent.objects.bulk_create([
        WebEvent(site=site, visitor_id="v-pages", session_id="s1", event_type=WebEventType.PAGE_VIEW,
                 occurred_at=now - timezone.timedelta(minutes=3), url="https://shop.example.com/", title="Accueil"),
        WebEvent(site=site, visitor_id="v-pages", session_id="s1", event_type=WebEventType.PRODUCT_VIEW,
                 occurred_at=now - timezone.timedelta(minutes=2), url="https://shop.example.com/p/1",
                 title="Lampe Arco", product_sku="SKU-ARCO"),
        WebEvent(site=site, visitor_id="v-pages", session_id="s1", event_type=WebEventType.CART_ADD,
                 occurred_at=now - timezone.timedelta(minutes=1), product_sku="SKU-ARCO"),
        WebEvent(site=site, visitor_id="someone-else", session_id="s2", event_type=WebEventType.PAGE_VIEW,
                 occurred_at=now, title="Autre visiteur"),
    ])  # fmt: skip
    client.force_login(agent)
    page = client.get(f"/channels/chats/{conversation.pk}/").content.decode()
    pages = page[page.index('data-testid="visitor-pages"') :]
    assert pages.index("Added to cart") < pages.index("Lampe Arco") < pages.index("Accueil")  # newest first
    assert page.count('data-testid="visitor-page-highlight"') == 2
    assert "Autre visiteur" not in page


def test_an_agent_links_an_unidentified_chat_to_a_customer(client, agent, site):
    customer = CustomerFactory(given_name="Zoé", family_name="Fabre")
    conversation = new_chat(site)
    client.force_login(agent)
    client.post(f"/channels/chats/{conversation.pk}/take/")  # linking is the answering agent's to do
    hits = client.get(f"/channels/chats/{conversation.pk}/customers/?q=Fabre").content.decode()
    assert "Zoé Fabre" in hits
    response = client.post(f"/channels/chats/{conversation.pk}/customer/", {"customer": customer.pk})
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.customer == customer
    assert all(m.customer_id == customer.pk for m in ChatMessage.objects.filter(conversation=conversation))
    page = client.get(f"/channels/chats/{conversation.pk}/").content.decode()
    assert f'href="/customers/{customer.pk}/"' in page


def test_a_marketer_sees_no_chat(client, marketer, site):
    conversation = new_chat(site, message="Données privées")
    client.force_login(marketer)
    for url in ("/channels/chats/", f"/channels/chats/{conversation.pk}/"):
        response = client.get(url)
        assert response.status_code == 403 and "Données privées" not in response.content.decode()
    response = client.get(f"/channels/chats/{conversation.pk}/customers/?q=a")
    assert response.status_code == 404


def test_system_lines_say_who_joined(agent, site):
    conversation = new_chat(site)
    chat_services.chat_take(conversation=conversation, agent=agent)
    line = ChatMessage.objects.filter(conversation=conversation, author=ChatAuthor.SYSTEM).last()
    assert "joined the chat" in line.body
