"""POST /api/v1/channels/calls/: signed call events, the screen pop card, and calls becoming interactions."""

from __future__ import annotations

import datetime
import functools
import json
import time

import pytest
from django.test import override_settings
from django.utils import timezone

from channels.choices import CallState, CaseStatus, InteractionChannel
from channels.models import AgentProfile, CallSession, Interaction
from channels.services.calls import call_event_verify
from crm.errors import ApplicationError
from customers.choices import ConsentSource, ConsentStatus
from tests.channels.calls_signing import SECRET, URL, post_event, signed_headers
from tests.channels_factories import CaseFactory, InteractionFactory
from tests.customers_factories import CustomerFactory, MobileFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cti_secret")]

FRENCH_FORMATS = [
    "06 12 34 56 78",
    "+33612345678",
    "0033 6 12 34 56 78",
    "+33 (0)6 12 34 56 78",
    "06.12.34.56.78",
    "0612345678",
    "06-12-34-56-78",
]


@pytest.fixture
def cti_secret():
    with override_settings(CTI_SHARED_SECRET=SECRET):
        yield


@pytest.fixture
def caller():
    customer = CustomerFactory(given_name="Héloïse", family_name="Lefèvre")
    MobileFactory(customer=customer, value="+33612345678")
    return customer


def ringing(call_id="call-1", number="06 12 34 56 78", **extra):
    return {"event": "ringing", "call_id": call_id, "caller_number": number, "called_line": "0800 000 000", **extra}


@pytest.mark.parametrize("number", FRENCH_FORMATS)
def test_it_pops_the_callers_card_whatever_the_format_of_the_number(client, caller, number):
    response = post_event(client, ringing(number=number))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["customer"]["id"] == caller.pk
    assert body["customer"]["name"] == "Héloïse Lefèvre"
    assert body["customer"]["account_number"] == caller.account_number
    assert body["customer"]["url"] == f"/customers/{caller.pk}/"
    assert body["state"] == "ringing"
    session = CallSession.objects.get(call_id="call-1")
    assert session.customer_id == caller.pk and session.caller_e164 == "+33612345678"


def test_the_card_carries_cases_last_contacts_last_call_and_consents(
    client, caller, agent, django_assert_max_num_queries
):
    from customers.services.records import consent_record

    consent_record(customer=caller, channel="email", purpose="marketing", status=ConsentStatus.GRANTED,
                   source=ConsentSource.AGENT, acting_user=agent)  # fmt: skip
    CaseFactory(customer=caller, subject="Broken boiler", status=CaseStatus.OPEN)
    CaseFactory(customer=caller, subject="Old question", status=CaseStatus.CLOSED)
    now = timezone.now()
    InteractionFactory(customer=caller, channel=InteractionChannel.PHONE, kind="call", subject="Boiler noise",
                       summary="Noise since Monday", outcome="follow-up",
                       occurred_at=now - datetime.timedelta(days=3))  # fmt: skip
    for days in range(5):
        InteractionFactory(customer=caller, channel=InteractionChannel.EMAIL, kind="email", subject=f"Mail {days}",
                           occurred_at=now - datetime.timedelta(days=days, hours=1))  # fmt: skip
    AgentProfile.objects.create(user=agent, extension="201")

    with django_assert_max_num_queries(20):
        response = post_event(client, ringing(agent_extension="201"))

    card = response.json()["customer"]
    assert [case["subject"] for case in card["open_cases"]] == ["Broken boiler"]
    assert card["open_cases"][0]["number"]
    assert len(card["last_contacts"]) == 5
    assert card["last_contacts"][0]["subject"] == "Mail 0"
    assert card["last_call"]["reason"] == "Boiler noise"
    assert card["last_call"]["outcome"] == "follow-up"
    assert card["consents"]["email"] == "granted"
    assert card["consents"]["sms"] is None
    assert card["stage"] == caller.stage
    assert response.json()["agent_id"] == agent.pk


def test_the_card_is_read_in_one_statement_with_the_same_values_as_the_models(django_assert_num_queries, agent):
    from channels.services.calls import call_customer_card

    agent.first_name, agent.last_name = "Inès", "Garnier"
    agent.save()
    customer = CustomerFactory(owner=agent)
    due = timezone.now() + datetime.timedelta(hours=5, microseconds=123456)
    case = CaseFactory(customer=customer, subject="Late delivery", status=CaseStatus.WAITING, resolution_due_at=due)
    call = InteractionFactory(customer=customer, channel=InteractionChannel.PHONE, kind="call",
                              subject="Où est mon colis ?", summary="<b>pas</b> reçu", outcome="rappel",
                              direction="outbound", occurred_at=timezone.now())  # fmt: skip

    with django_assert_num_queries(1):
        card = call_customer_card(customer=customer)

    assert card["owner"] == "Inès Garnier"
    assert card["open_cases"] == [{"number": case.number, "subject": "Late delivery", "status": "waiting",
                                   "status_label": str(case.get_status_display()), "priority": case.priority,
                                   "due_at": due}]  # fmt: skip
    assert card["last_contacts"][0]["occurred_at"] == call.occurred_at
    assert card["last_contacts"][0]["channel_label"] == str(call.get_channel_display())
    assert card["last_call"] == {"occurred_at": call.occurred_at, "direction": "outbound",
                                 "reason": "Où est mon colis ?", "summary": "<b>pas</b> reçu",
                                 "outcome": "rappel"}  # fmt: skip
    assert card["consents"] == {"email": None, "sms": None, "phone": None, "postal_mail": None,
                                "web_personalisation": None}  # fmt: skip
    assert call_customer_card(customer=CustomerFactory(owner=None))["owner"] is None


def test_an_unknown_number_answers_no_customer_and_is_followed(client, caller):
    response = post_event(client, ringing(number="01 45 67 89 10"))

    assert response.status_code == 200
    assert response.json()["customer"] is None
    assert "candidates" not in response.json()
    session = CallSession.objects.get(call_id="call-1")
    assert session.customer is None and session.caller_e164 == "+33145678910"


def test_a_withheld_number_is_followed_without_a_customer(client):
    response = post_event(client, ringing(number="anonymous"))

    assert response.status_code == 200
    assert response.json()["customer"] is None
    assert CallSession.objects.get(call_id="call-1").caller_e164 == ""


def test_a_number_shared_by_two_customers_answers_candidates(client):
    mother = CustomerFactory(given_name="Anne", family_name="Martin")
    son = CustomerFactory(given_name="Paul", family_name="Martin")
    MobileFactory(customer=mother, value="+33698765432")
    MobileFactory(customer=son, value="+33698765432")

    response = post_event(client, ringing(number="06 98 76 54 32"))

    body = response.json()
    assert body["customer"] is None
    assert {candidate["id"] for candidate in body["candidates"]} == {mother.pk, son.pk}
    assert set(CallSession.objects.get(call_id="call-1").candidates) == {mother.pk, son.pk}


def test_it_refuses_a_bad_signature(client, caller):
    response = post_event(client, ringing(), secret="another-secret-of-the-same-length-000000")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "signature_invalid"
    assert not CallSession.objects.exists()


def test_it_refuses_a_body_changed_after_signing(client, caller):
    headers = signed_headers(json.dumps(ringing()).encode())
    tampered = json.dumps(ringing(number="0611111111")).encode()

    response = client.post(URL, data=tampered, content_type="application/json", headers=headers)

    assert response.status_code == 401
    assert not CallSession.objects.exists()


def test_it_refuses_missing_headers(client, caller):
    response = client.post(URL, data=json.dumps(ringing()), content_type="application/json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "signature_missing"
    assert not CallSession.objects.exists()


# Through HTTP the clock moves between signing and checking (a second or more on a loaded machine),
# so these stay well clear of the edge; the edge itself is checked below with a fixed "now".
@pytest.mark.parametrize("offset", [-360, 360])
def test_it_refuses_a_timestamp_more_than_five_minutes_away(client, caller, offset):
    response = post_event(client, ringing(), timestamp=int(time.time()) + offset)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "timestamp_out_of_window"
    assert not CallSession.objects.exists()


@pytest.mark.parametrize(("offset", "accepted"), [(-300, True), (300, True), (-301, False), (301, False)])
def test_the_window_is_five_minutes_either_way(offset, accepted):
    body = b'{"event": "ringing"}'
    sent_at = 1_800_000_000
    headers = signed_headers(body, timestamp=sent_at + offset)
    verify = functools.partial(call_event_verify, timestamp=headers["X-Relais-Timestamp"],
                               signature=headers["X-Relais-Signature"], body=body, now=sent_at)  # fmt: skip
    if accepted:
        verify()
    else:
        with pytest.raises(ApplicationError) as refused:
            verify()
        assert refused.value.code == "timestamp_out_of_window"


def test_it_refuses_events_when_no_secret_is_configured(client, caller):
    with override_settings(CTI_SHARED_SECRET=""):
        response = post_event(client, ringing())

    assert response.status_code == 503
    assert not CallSession.objects.exists()


def test_it_refuses_a_replayed_event(client, caller):
    first = post_event(client, ringing())
    again = post_event(client, ringing())

    assert first.status_code == 200
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_processed"
    assert CallSession.objects.count() == 1


def test_it_rejects_an_unknown_event_with_the_field_named(client):
    response = post_event(client, {"event": "hold", "call_id": "c", "caller_number": "0612345678"})

    assert response.status_code == 400
    assert "event" in response.json()["error"]["fields"]
    assert not CallSession.objects.exists()


def test_an_ended_call_becomes_one_interaction_with_its_duration(client, caller, agent):
    AgentProfile.objects.create(user=agent, extension="201")
    start = timezone.now().replace(microsecond=0) - datetime.timedelta(minutes=5)
    post_event(client, ringing(agent_extension="201", occurred_at=start.isoformat()))
    post_event(
        client,
        {
            "event": "answered",
            "call_id": "call-1",
            "caller_number": "0612345678",
            "agent_extension": "201",
            "occurred_at": (start + datetime.timedelta(seconds=8)).isoformat(),
        },
    )
    ended = {"event": "ended", "call_id": "call-1", "caller_number": "0612345678", "agent_extension": "201",
             "occurred_at": (start + datetime.timedelta(seconds=8 + 192)).isoformat()}  # fmt: skip

    response = post_event(client, ended)
    resent = post_event(client, ended)

    assert response.status_code == 200
    assert response.json()["duration_seconds"] == 192
    assert resent.status_code == 409
    interaction = Interaction.objects.get()
    assert response.json()["interaction_id"] == interaction.pk
    assert interaction.customer_id == caller.pk
    assert interaction.channel == "phone" and interaction.kind == "call" and interaction.direction == "inbound"
    assert interaction.duration_seconds == 192
    assert interaction.agent_id == agent.pk
    assert interaction.external_id == "call-1"
    assert interaction.cost > 0
    assert CallSession.objects.get().state == CallState.ENDED


def test_a_call_never_answered_is_a_missed_call_on_the_timeline(client, caller):
    post_event(client, ringing())
    response = post_event(client, {"event": "ended", "call_id": "call-1", "caller_number": "0612345678"})

    assert response.json()["state"] == "missed"
    interaction = Interaction.objects.get()
    assert interaction.outcome == "missed" and interaction.duration_seconds is None
    assert interaction.subject.startswith("Missed call")


def test_a_transferred_call_belongs_to_the_agent_who_answered(client, caller, agent, make_staff):
    colleague = make_staff("Agent", username="colleague")
    AgentProfile.objects.create(user=agent, extension="201")
    AgentProfile.objects.create(user=colleague, extension="202")
    post_event(client, ringing(agent_extension="201"))
    post_event(client, {"event": "answered", "call_id": "call-1", "caller_number": "0612345678",
                        "agent_extension": "202"})  # fmt: skip
    post_event(client, {"event": "ended", "call_id": "call-1", "caller_number": "0612345678"})

    assert Interaction.objects.get().agent_id == colleague.pk
