"""The agent's phone console: live screen pop over SSE, logging the outcome, unknown callers, who sees what."""

from __future__ import annotations

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from channels.models import AgentProfile, CallSession, Case, Interaction
from customers.models import ContactPoint, Customer
from tests.channels.calls_signing import SECRET, post_event
from tests.customers_factories import CustomerFactory, MobileFactory

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def cti_secret():
    with override_settings(CTI_SHARED_SECRET=SECRET):
        yield


@pytest.fixture
def caller():
    customer = CustomerFactory(given_name="Héloïse", family_name="Lefèvre")
    MobileFactory(customer=customer, value="+33612345678")
    return customer


@pytest.fixture
def desk_agent(agent):
    AgentProfile.objects.create(user=agent, extension="201")
    return agent


def ring(client, *, call_id="call-1", number="06 12 34 56 78", extension="201"):
    response = post_event(client, {"event": "ringing", "call_id": call_id, "caller_number": number,
                                   "agent_extension": extension})  # fmt: skip
    assert response.status_code == 200, response.content
    return CallSession.objects.get(call_id=call_id)


def end(client, *, call_id="call-1", answered_seconds_ago=None):
    now = timezone.now()
    if answered_seconds_ago is not None:
        post_event(
            client,
            {
                "event": "answered",
                "call_id": call_id,
                "caller_number": "x",
                "occurred_at": (now - datetime.timedelta(seconds=answered_seconds_ago)).isoformat(),
            },
        )
    return post_event(client, {"event": "ended", "call_id": call_id, "caller_number": "x",
                               "occurred_at": now.isoformat()})  # fmt: skip


def _read_until(stream, needle: str, *, chunks: int = 30) -> str:
    seen = ""
    for _ in range(chunks):
        chunk = next(stream)
        seen += chunk.decode() if isinstance(chunk, bytes) else chunk
        if needle in seen:
            return seen
    raise AssertionError(f"{needle!r} never arrived; got {seen[:500]!r}")


def test_a_screen_pop_arrives_on_the_agents_stream(client, caller, desk_agent, django_capture_on_commit_callbacks):
    client.force_login(desk_agent)
    response = client.get("/channels/console/stream/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    stream = iter(response.streaming_content)
    assert ": connected" in _read_until(stream, "connected")

    with django_capture_on_commit_callbacks(execute=True):
        ring(client)

    received = _read_until(stream, "Héloïse Lefèvre")
    assert "event: screen_pop" in received
    assert caller.account_number in received
    assert "event: toast" in _read_until(stream, "event: toast") or "event: toast" in received
    response.close()


def test_the_console_shows_the_call_in_progress_and_recent_calls(client, caller, desk_agent):
    ring(client)
    client.force_login(desk_agent)

    response = client.get("/channels/console/")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="call-card"' in html
    assert "Héloïse Lefèvre" in html
    assert 'sse-connect="/channels/console/stream/"' in html
    assert 'data-testid="recent-calls"' in html


def test_the_console_says_what_happens_when_there_is_no_call(client, agent):
    client.force_login(agent)

    html = client.get("/channels/console/").content.decode()

    assert "No call right now" in html
    assert "No phone extension is set for you yet" in html


def test_every_staff_page_listens_for_toasts_but_the_console_itself(client, desk_agent, marketer):
    client.force_login(desk_agent)
    assert 'data-testid="call-toast-listener"' in client.get("/").content.decode()
    assert 'data-testid="call-toast-listener"' not in client.get("/channels/console/").content.decode()
    client.force_login(marketer)
    assert "console/stream" not in client.get("/").content.decode()


def test_the_agent_logs_the_outcome_during_the_call_and_the_end_fills_the_duration(client, caller, desk_agent):
    session = ring(client)
    client.force_login(desk_agent)

    response = client.post(
        f"/channels/calls/{session.pk}/outcome/",
        {"outcome": "resolved", "summary": "Asked about the invoice"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Logged: resolved" in response.content.decode()
    end(client, answered_seconds_ago=95)

    interaction = Interaction.objects.get()
    assert interaction.outcome == "resolved"
    assert interaction.summary == "Asked about the invoice"
    assert 94 <= interaction.duration_seconds <= 96
    assert interaction.customer_id == caller.pk


def test_logging_with_a_case_opens_one_for_the_customer(client, caller, desk_agent):
    session = ring(client)
    end(client, answered_seconds_ago=30)
    client.force_login(desk_agent)

    response = client.post(f"/channels/calls/{session.pk}/outcome/", {
        "outcome": "follow-up", "summary": "Boiler still noisy", "open_case": "on", "case_subject": "Boiler noise",
        "case_category": "complaint", "case_priority": "high"})  # fmt: skip

    assert response.status_code == 302
    case = Case.objects.get()
    assert case.customer_id == caller.pk and case.subject == "Boiler noise" and case.category == "complaint"
    assert case.channel == "phone" and case.assignee_id == desk_agent.pk
    assert case.first_responded_at is not None
    assert Interaction.objects.get().case_id == case.pk


def test_an_outcome_is_required_and_nothing_is_written_without_it(client, caller, desk_agent):
    session = ring(client)
    client.force_login(desk_agent)

    response = client.post(f"/channels/calls/{session.pk}/outcome/", {"outcome": ""}, headers={"HX-Request": "true"})

    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert not Interaction.objects.exists()


def test_a_case_cannot_be_opened_for_an_unknown_caller(client, desk_agent):
    session = ring(client, number="01 45 67 89 10")
    client.force_login(desk_agent)

    response = client.post(f"/channels/calls/{session.pk}/outcome/", {
        "outcome": "informed", "open_case": "on", "case_subject": "Question",
        "case_category": "request", "case_priority": "normal"}, headers={"HX-Request": "true"})  # fmt: skip

    assert response.status_code == 400
    assert "Identify the caller" in response.content.decode()
    assert not Case.objects.exists() and not Interaction.objects.exists()


def test_an_unknown_caller_becomes_a_prospect_with_the_number(client, desk_agent):
    session = ring(client, number="01 45 67 89 10")
    end(client, answered_seconds_ago=60)
    client.force_login(desk_agent)

    response = client.post(f"/channels/calls/{session.pk}/prospect/",
                           {"given_name": "Marc", "family_name": "Perrin"}, headers={"HX-Request": "true"})  # fmt: skip

    assert response.status_code == 200
    customer = Customer.objects.get(family_name="Perrin")
    assert customer.stage == "prospect" and customer.owner_id == desk_agent.pk
    assert ContactPoint.objects.filter(customer=customer, value="+33145678910").exists()
    assert CallSession.objects.get().customer_id == customer.pk
    assert Interaction.objects.get().customer_id == customer.pk
    assert "Marc Perrin" in response.content.decode()


def test_a_prospect_needs_a_name(client, desk_agent):
    session = ring(client, number="01 45 67 89 10")
    client.force_login(desk_agent)

    response = client.post(f"/channels/calls/{session.pk}/prospect/", {}, headers={"HX-Request": "true"})

    assert response.status_code == 400
    assert "Give at least a name" in response.content.decode()
    assert not Customer.objects.exists()


def test_an_unknown_number_is_linked_to_an_existing_customer(client, desk_agent):
    customer = CustomerFactory(given_name="Lucie", family_name="Garnier")
    session = ring(client, number="01 45 67 89 10")
    end(client)
    client.force_login(desk_agent)

    search = client.get(f"/channels/calls/{session.pk}/link/_hx/", {"q": "Garnier"})
    assert "Lucie Garnier" in search.content.decode()
    response = client.post(f"/channels/calls/{session.pk}/link/", {"customer": customer.pk})

    assert response.status_code == 302
    assert ContactPoint.objects.filter(customer=customer, value="+33145678910").exists()
    assert CallSession.objects.get().customer_id == customer.pk
    assert Interaction.objects.get().customer_id == customer.pk
    # The next call from that number pops the customer's card.
    assert post_event(client, {"event": "ringing", "call_id": "call-2", "caller_number": "0145678910"}).json()[
        "customer"]["id"] == customer.pk  # fmt: skip


def test_an_agent_sees_their_own_calls_a_teammate_does_not_a_supervisor_does(
    client, caller, desk_agent, make_staff, supervisor
):
    session = ring(client)
    teammate = make_staff("Agent", username="teammate")

    client.force_login(teammate)
    refused = client.get(f"/channels/calls/{session.pk}/_hx/", headers={"HX-Request": "true"})
    assert refused.status_code == 404
    assert "Lefèvre" not in refused.content.decode()
    assert client.post(f"/channels/calls/{session.pk}/outcome/", {"outcome": "resolved"}).status_code == 404
    assert not Interaction.objects.exists()
    assert "Lefèvre" not in client.get("/channels/console/").content.decode()

    client.force_login(desk_agent)
    own = client.get(f"/channels/calls/{session.pk}/_hx/", headers={"HX-Request": "true"})
    assert "Lefèvre" in own.content.decode()
    client.force_login(supervisor)
    assert client.get(f"/channels/calls/{session.pk}/_hx/", headers={"HX-Request": "true"}).status_code == 200


def test_a_marketer_cannot_open_the_console(client, marketer):
    client.force_login(marketer)

    assert client.get("/channels/console/").status_code == 403
    assert client.get("/channels/console/stream/").status_code == 403
