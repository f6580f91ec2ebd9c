"""Call-back requests: asked from the widget, checked (phone, slot), taken and closed by an agent."""

from __future__ import annotations

import datetime
import json
import uuid

import pytest
from django.utils import timezone

from channels.choices import CallbackStatus, Direction, InteractionChannel, InteractionKind
from channels.models import CallbackRequest, Interaction
from channels.services import callbacks as callback_services
from channels.services.sla import PARIS, is_business_day
from crm.errors import ApplicationError
from tests.channels_factories import QueueFactory, SiteFactory
from tests.customers_factories import CustomerFactory, EmailFactory

pytestmark = pytest.mark.django_db

ORIGIN = "https://shop.example.com"


def business_day(*, after_days: int = 1) -> datetime.date:
    day = timezone.now().astimezone(PARIS).date() + datetime.timedelta(days=after_days)
    while not is_business_day(day):
        day += datetime.timedelta(days=1)
    return day


def slot(day: datetime.date, start: int = 10, end: int = 11) -> tuple[datetime.datetime, datetime.datetime]:
    return (datetime.datetime.combine(day, datetime.time(start), tzinfo=PARIS),
            datetime.datetime.combine(day, datetime.time(end), tzinfo=PARIS))  # fmt: skip


@pytest.fixture
def site():
    return SiteFactory(key=f"key-{uuid.uuid4().hex}", allowed_origins=ORIGIN)


def ask(client, site, **data):
    start, end = slot(business_day())
    body = {"name": "Paul Girard", "phone": "06 12 34 56 78", "reason": "Question sur ma facture",
            "preferred_from": start.isoformat(), "preferred_to": end.isoformat(), "visitor_id": "v-9",
            **data}  # fmt: skip
    return client.post(f"/api/v1/widget/{site.key}/callbacks/", json.dumps(body), content_type="application/json",
                       HTTP_ORIGIN=ORIGIN)  # fmt: skip


def test_a_visitor_asks_for_a_call_back_and_the_number_is_normalised(client, site, django_capture_on_commit_callbacks):
    queue = QueueFactory(is_default=True)
    customer = CustomerFactory()
    EmailFactory(customer=customer, value="paul.girard@example.com")
    response = ask(client, site, phone="+33 (0)6 12 34 56 78", email="paul.girard@example.com")
    assert response.status_code == 201, response.content
    assert response.json()["phone"] == "+33612345678"
    callback = CallbackRequest.objects.get(pk=response.json()["id"])
    assert callback.status == CallbackStatus.REQUESTED
    # A typed email is a claim, not proof: it links nobody (tests/channels/test_chat_claims.py).
    assert (callback.queue, callback.site, callback.customer, callback.visitor_id) == (queue, site, None, "v-9")


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"phone": "12"}, "phone", "invalid_phone"),
        ({"phone": "not a number"}, "phone", "invalid_phone"),
        ({"reason": ""}, "reason", "blank"),
        ({"preferred_from": "tomorrow"}, "preferred_from", "invalid"),
    ],
)
def test_it_rejects_bad_input_with_the_field_and_writes_nothing(client, site, data, field, code):
    response = ask(client, site, **data)
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert field in fields and fields[field][0]["code"] == code
    assert not CallbackRequest.objects.exists()


def test_it_rejects_a_slot_in_the_past(client, site):
    past = timezone.now() - datetime.timedelta(days=3)
    response = ask(client, site, preferred_from=past.isoformat(),
                   preferred_to=(past + datetime.timedelta(hours=1)).isoformat())  # fmt: skip
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["preferred_from"][0]["code"] == "slot_past"
    assert not CallbackRequest.objects.exists()


def test_it_rejects_slots_outside_business_hours():
    day = business_day()
    early = slot(day, 7, 8)
    with pytest.raises(ApplicationError) as error:
        callback_services.slot_check(preferred_from=early[0], preferred_to=early[1])
    assert error.value.code == "outside_hours"
    late = (slot(day)[0].replace(hour=17), slot(day)[0].replace(hour=19))
    with pytest.raises(ApplicationError):
        callback_services.slot_check(preferred_from=late[0], preferred_to=late[1])
    reversed_slot = slot(day, 11, 10)
    with pytest.raises(ApplicationError) as error:
        callback_services.slot_check(preferred_from=reversed_slot[0], preferred_to=reversed_slot[1])
    assert error.value.field == "preferred_to"


def test_it_rejects_weekends_and_french_public_holidays():
    now = datetime.datetime(2026, 12, 21, 9, 0, tzinfo=PARIS)  # a Monday
    christmas = slot(datetime.date(2026, 12, 25))  # a Friday, public holiday
    saturday = slot(datetime.date(2026, 12, 26))
    for start, end in (christmas, saturday):
        with pytest.raises(ApplicationError) as error:
            callback_services.slot_check(preferred_from=start, preferred_to=end, now=now)
        assert error.value.code == "closed_day"
    start, end = slot(datetime.date(2026, 12, 24))
    callback_services.slot_check(preferred_from=start, preferred_to=end, now=now)  # Thursday: fine


def test_an_agent_takes_and_completes_a_call_back_which_lands_on_the_timeline(agent, make_staff):
    customer = CustomerFactory()
    start, end = slot(business_day())
    callback = callback_services.callback_request(name="Paul", phone="0612345678", preferred_from=start,
                                                  preferred_to=end, reason="Facture", customer=customer)  # fmt: skip
    other = make_staff("Agent", username="other.agent")
    callback_services.callback_take(callback=callback, agent=agent)
    with pytest.raises(ApplicationError) as error:
        callback_services.callback_take(callback=callback, agent=other)
    assert error.value.code == "already_taken"
    with pytest.raises(ApplicationError):
        callback_services.callback_close(callback=callback, agent=other, result="done", outcome="Vu")
    with pytest.raises(ApplicationError) as error:
        callback_services.callback_close(callback=callback, agent=agent, result="done", outcome="")
    assert error.value.field == "outcome"
    assert not Interaction.objects.exists()

    callback_services.callback_close(callback=callback, agent=agent, result="done", outcome="Facture expliquée",
                                     duration_seconds=240)  # fmt: skip
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.DONE and callback.done_at is not None
    interaction = callback.interaction
    assert interaction.customer == customer and interaction.agent == agent
    assert (interaction.channel, interaction.direction, interaction.kind) == (
        InteractionChannel.PHONE, Direction.OUTBOUND, InteractionKind.CALL)  # fmt: skip
    assert interaction.outcome == "Facture expliquée" and interaction.duration_seconds == 240
    with pytest.raises(ApplicationError) as error:
        callback_services.callback_close(callback=callback, agent=agent, result="cancelled")
    assert error.value.code == "callback_closed"


def test_unreachable_is_a_call_attempt_and_cancel_records_nothing(agent):
    start, end = slot(business_day())
    first = callback_services.callback_request(name="A", phone="0612345678", preferred_from=start,
                                               preferred_to=end, reason="R")  # fmt: skip
    second = callback_services.callback_request(name="B", phone="0612345679", preferred_from=start,
                                                preferred_to=end, reason="R")  # fmt: skip
    callback_services.callback_close(callback=first, agent=agent, result="unreachable")
    callback_services.callback_close(callback=second, agent=agent, result="cancelled")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == CallbackStatus.UNREACHABLE and first.interaction.outcome == "unreachable"
    assert second.status == CallbackStatus.CANCELLED and second.interaction is None
    assert Interaction.objects.count() == 1


def test_the_360_page_shows_the_customers_pending_call_backs(client, agent, marketer):
    customer = CustomerFactory()
    start, end = slot(business_day())
    callback_services.callback_request(name="Paul", phone="0612345678", preferred_from=start, preferred_to=end,
                                       reason="Résiliation de contrat", customer=customer)  # fmt: skip
    done = callback_services.callback_request(name="Paul", phone="0612345678", preferred_from=start,
                                              preferred_to=end, reason="Ancienne demande",
                                              customer=customer)  # fmt: skip
    callback_services.callback_close(callback=done, agent=agent, result="cancelled")
    client.force_login(agent)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="customer-callbacks"' in page
    assert "Résiliation de contrat" in page and "+33612345678" in page
    assert "Ancienne demande" not in page
    client.force_login(marketer)  # no call-back permission: no panel
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "Résiliation de contrat" not in page


def test_an_agent_works_a_call_back_from_the_queue_page(client, agent):
    start, end = slot(business_day())
    callback = callback_services.callback_request(name="Inès", phone="0612345678", preferred_from=start,
                                                  preferred_to=end, reason="Livraison")  # fmt: skip
    client.force_login(agent)
    queue = client.get("/channels/chats/").content.decode()
    assert "Inès" in queue and "Livraison" in queue
    response = client.post(f"/channels/callbacks/{callback.pk}/take/")
    assert response.status_code == 302 and response["Location"] == f"/channels/callbacks/{callback.pk}/"
    assert "Save" in client.get(response["Location"]).content.decode()
    response = client.post(f"/channels/callbacks/{callback.pk}/close/",
                           {"result": "done", "outcome": "Livraison replanifiée", "duration_minutes": "3"})  # fmt: skip
    assert response.status_code == 302
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.DONE and callback.interaction.duration_seconds == 180
    assert "Livraison" not in client.get("/channels/chats/").content.decode()
