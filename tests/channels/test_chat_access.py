"""Who may change a chat: the agent who took it, or a supervisor; a teammate agent may look, not act."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from channels.access import chat_get_for_user
from channels.choices import ConversationStatus
from channels.models import Case, Conversation, Interaction
from channels.services import chat as chat_services
from crm.errors import ApplicationError
from tests.channels_factories import QueueFactory, SiteFactory
from tests.customers_factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def taken_chat(agent):
    QueueFactory(is_default=True)
    site = SiteFactory(key=f"key-{uuid.uuid4().hex}", allowed_origins="https://shop.example.com")
    started = chat_services.chat_start(site=site, name="Chloé", message="Ma commande", visitor_id="v-1")
    return chat_services.chat_take(conversation=started.conversation, agent=agent)


@pytest.fixture
def teammate(make_staff):
    return make_staff("Agent", username="teammate.agent")


def test_a_teammate_agent_cannot_end_open_a_case_or_link_a_chat_they_do_not_answer(client, taken_chat, teammate):
    customer = CustomerFactory(given_name="Zoé", family_name="Fabre")
    client.force_login(teammate)
    pk = taken_chat.pk
    assert client.get(f"/channels/chats/{pk}/").status_code == 200  # the queue is shared: they may look
    for url, data in (
        (f"/channels/chats/{pk}/end/", {}),
        (f"/channels/chats/{pk}/case/", {"subject": "Détournée"}),
        (f"/channels/chats/{pk}/customer/", {"customer": customer.pk}),
    ):
        response = client.post(url, data)
        assert response.status_code == 403, url
        assert "Ma commande" not in response.content.decode()
    response = client.get(f"/channels/chats/{pk}/customers/?q=Fabre")
    assert response.status_code == 403 and "Zoé" not in response.content.decode()

    taken_chat.refresh_from_db()
    assert taken_chat.status == ConversationStatus.OPEN and taken_chat.customer is None
    assert not Interaction.objects.filter(conversation=taken_chat).exists()  # no transcript on any timeline
    assert not Case.objects.filter(subject="Détournée").exists()


def test_a_teammate_sees_no_end_case_or_link_controls(client, taken_chat, teammate):
    client.force_login(teammate)
    page = client.get(f"/channels/chats/{taken_chat.pk}/").content.decode()
    for control in ('data-testid="end-chat"', 'data-testid="open-case-form"', 'data-testid="customer-search"'):
        assert control not in page


def test_the_services_refuse_a_teammate_too(taken_chat, teammate):
    customer = CustomerFactory()
    for action in (
        lambda: chat_services.chat_end(conversation=taken_chat, acting_user=teammate),
        lambda: chat_services.chat_case_open(conversation=taken_chat, agent=teammate),
        lambda: chat_services.chat_customer_link(conversation=taken_chat, customer=customer, acting_user=teammate),
    ):
        with pytest.raises(ApplicationError) as refused:
            action()
        assert refused.value.code == "not_your_chat" and refused.value.status_code == 403
    assert Conversation.objects.get(pk=taken_chat.pk).customer_id is None
    assert not Interaction.objects.filter(conversation=taken_chat).exists()


def test_the_answering_agent_links_opens_a_case_and_ends(client, taken_chat, agent):
    customer = CustomerFactory()
    client.force_login(agent)
    pk = taken_chat.pk
    assert client.post(f"/channels/chats/{pk}/customer/", {"customer": customer.pk}).status_code == 302
    assert client.post(f"/channels/chats/{pk}/case/", {"subject": "Colis"}).status_code == 302
    assert client.post(f"/channels/chats/{pk}/end/").status_code == 302
    interaction = Interaction.objects.get(conversation=taken_chat)
    assert interaction.customer == customer and interaction.case.subject == "Colis"


def test_a_supervisor_may_end_and_link_a_chat_an_agent_answers(client, taken_chat, supervisor):
    customer = CustomerFactory()
    client.force_login(supervisor)
    pk = taken_chat.pk
    assert client.post(f"/channels/chats/{pk}/customer/", {"customer": customer.pk}).status_code == 302
    assert client.post(f"/channels/chats/{pk}/end/").status_code == 302
    assert Interaction.objects.get(conversation=taken_chat).customer == customer


def test_nobody_changes_a_waiting_chat_before_taking_it(agent, taken_chat, teammate):
    waiting = chat_services.chat_start(site=taken_chat.site, name="Marc", message="Bonjour").conversation
    with pytest.raises(PermissionDenied):
        chat_get_for_user(user=agent, pk=waiting.pk, for_change=True)
    assert chat_get_for_user(user=teammate, pk=waiting.pk) == waiting


@pytest.mark.parametrize("pk", ["abc", "", None, "12abc", 2**70, -1, "0"])
def test_an_id_that_is_not_a_chat_id_is_a_404(agent, pk):
    with pytest.raises(Http404):
        chat_get_for_user(user=agent, pk=pk)


def test_a_user_without_the_console_gets_a_404_even_for_a_real_chat(marketer, taken_chat):
    with pytest.raises(Http404):
        chat_get_for_user(user=marketer, pk=taken_chat.pk)
