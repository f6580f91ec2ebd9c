"""Logging a visit (with its follow-up), a call and a note by hand on the 360 page."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from channels.models import Case, FollowUp, Interaction
from tests.channels_factories import CaseFactory
from tests.customers_factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db


def local(delta: datetime.timedelta = datetime.timedelta()) -> str:
    return (timezone.localtime() + delta).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def customer():
    return CustomerFactory()


def test_a_visit_with_products_and_a_follow_up_lands_on_the_timeline(client, agent, supervisor, customer):
    ProductFactory(sku="BOX-FIBRE", name="Box Fibre")
    ProductFactory(sku="TV-4K", name="Décodeur TV 4K")
    client.force_login(agent)
    form = client.get(f"/channels/customers/{customer.pk}/visits/new/").content.decode()
    assert 'data-testid="visit-form"' in form and 'role="combobox"' in form
    assert 'hx-get="/channels/products/picker/"' in form and "BOX-FIBRE" not in form  # searched, not listed

    response = client.post(f"/channels/customers/{customer.pk}/visits/new/", {
        "store": "Agence Lyon Part-Dieu", "reason": "Déménagement", "products": "box-fibre, TV-4K",
        "outcome": "Offre remise", "duration_minutes": "25", "occurred_at": local(), "notes": "Client pressé",
        "follow_up_title": "Rappeler pour la date d'installation",
        "follow_up_due_at": local(datetime.timedelta(days=2)),
        "follow_up_assignee": supervisor.pk,
    })  # fmt: skip

    assert response.status_code == 302 and response["Location"] == f"/customers/{customer.pk}/#timeline"
    visit = Interaction.objects.get(customer=customer)
    assert (visit.channel, visit.kind, visit.agent, visit.cost, visit.duration_seconds) == (
        "face_to_face",
        "visit",
        agent,
        Decimal("12.00"),
        1500,
    )
    assert visit.metadata == {
        "store": "Agence Lyon Part-Dieu",
        "products": [{"sku": "BOX-FIBRE", "name": "Box Fibre"}, {"sku": "TV-4K", "name": "Décodeur TV 4K"}],
    }
    task = FollowUp.objects.get(customer=customer)
    assert (task.title, task.assignee, task.interaction, task.created_by) == (
        "Rappeler pour la date d'installation",
        supervisor,
        visit,
        agent,
    )
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "Visit logged." in page and "Déménagement" in page and "Agence Lyon Part-Dieu" in page
    assert "Box Fibre, Décodeur TV 4K" in page


def test_a_visit_is_refused_whole_when_a_product_is_unknown_or_the_follow_up_has_no_date(client, agent, customer):
    client.force_login(agent)
    ProductFactory(sku="BOX-FIBRE")
    response = client.post(f"/channels/customers/{customer.pk}/visits/new/", {
        "store": "Agence", "reason": "Question", "products": "BOX-FIBRE, NOPE-1", "occurred_at": local(),
        "follow_up_title": "Rappeler",
    })  # fmt: skip
    body = response.content.decode()
    assert response.status_code == 400
    assert "Unknown product code: NOPE-1" in body and "Say when the follow-up task is due." in body
    assert not Interaction.objects.exists() and not FollowUp.objects.exists()


def test_a_follow_up_due_in_the_past_is_refused_and_nothing_is_written(client, agent, customer):
    client.force_login(agent)
    response = client.post(f"/channels/customers/{customer.pk}/visits/new/", {
        "store": "Agence", "reason": "Question", "occurred_at": local(),
        "follow_up_title": "Rappeler", "follow_up_due_at": local(-datetime.timedelta(days=1)),
    })  # fmt: skip
    assert response.status_code == 400 and "cannot be due in the past" in response.content.decode()
    assert not Interaction.objects.exists() and not FollowUp.objects.exists()


def test_an_outbound_call_logged_on_a_case_is_the_first_response(client, agent, customer):
    case = CaseFactory(customer=customer, status="new")
    other = CaseFactory(customer=CustomerFactory())
    client.force_login(agent)
    form = client.get(f"/channels/customers/{customer.pk}/calls/log/").content.decode()
    assert case.subject in form and other.subject not in form

    response = client.post(f"/channels/customers/{customer.pk}/calls/log/", {
        "direction": "outbound", "reason": "Suivi réclamation", "outcome": "answered", "duration_minutes": "4",
        "occurred_at": local(), "notes": "<b>ok</b>", "case": case.pk,
    })  # fmt: skip

    assert response.status_code == 302
    call = Interaction.objects.get(customer=customer)
    assert (call.kind, call.direction, call.duration_seconds, call.case, call.cost) == (
        "call",
        "outbound",
        240,
        case,
        Decimal("6.00"),
    )
    assert call.body == "<p>&lt;b&gt;ok&lt;/b&gt;</p>"  # what the agent typed is shown, not interpreted
    assert Case.objects.get(pk=case.pk).first_responded_at is not None


def test_a_call_cannot_be_filed_on_another_customers_case(client, agent, customer):
    other = CaseFactory(customer=CustomerFactory())
    client.force_login(agent)
    response = client.post(f"/channels/customers/{customer.pk}/calls/log/", {
        "direction": "inbound", "reason": "x", "outcome": "y", "occurred_at": local(), "case": other.pk,
    })  # fmt: skip
    assert response.status_code == 400 and not Interaction.objects.exists()


def test_a_note_costs_nothing(client, agent, customer):
    client.force_login(agent)
    response = client.post(
        f"/channels/customers/{customer.pk}/notes/new/",
        {"subject": "Contexte", "text": "Préfère être appelé le matin", "channel": "phone"},
    )
    assert response.status_code == 302
    note = Interaction.objects.get(customer=customer)
    assert (note.kind, note.cost, note.agent, note.summary) == ("note", Decimal("0.00"), agent,
                                                                "Préfère être appelé le matin")  # fmt: skip
    empty = client.post(f"/channels/customers/{customer.pk}/notes/new/", {"text": " ", "channel": "phone"})
    assert empty.status_code == 400 and Interaction.objects.count() == 1


def test_only_roles_that_record_contacts_may_log_them(client, marketer, make_staff, customer):
    for user in (marketer, make_staff(None, username="nobody")):
        client.force_login(user)
        for path in ("calls/log/", "visits/new/", "notes/new/"):
            url = f"/channels/customers/{customer.pk}/{path}"
            assert client.get(url).status_code == 403
            response = client.post(url, {"text": "x", "channel": "phone", "reason": "x", "outcome": "x",
                                         "direction": "inbound", "store": "x", "occurred_at": local()})  # fmt: skip
            assert response.status_code == 403
    assert not Interaction.objects.exists()


def test_nothing_is_logged_on_a_merged_away_customer(client, agent):
    survivor = CustomerFactory()
    tombstone = CustomerFactory(merged_into=survivor)
    client.force_login(agent)
    note = {"text": "Rappeler lundi", "channel": "phone"}

    for path in ("calls/log/", "visits/new/", "notes/new/"):
        page = client.get(f"/channels/customers/{tombstone.pk}/{path}")
        assert page.status_code == 404 and "Page not found" in page.content.decode(), path
    refused = client.post(f"/channels/customers/{tombstone.pk}/notes/new/", note)
    assert refused.status_code == 404
    assert not Interaction.objects.exists()

    # The same note on the customer it became is logged there: the refusal is about the merge.
    assert client.post(f"/channels/customers/{survivor.pk}/notes/new/", note).status_code == 302
    assert list(Interaction.objects.values_list("customer", "summary")) == [(survivor.pk, "Rappeler lundi")]
