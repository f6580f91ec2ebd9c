"""/api/v1/cases/: list with filters, create, read, PATCH with transition validation, permissions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from channels.choices import CaseStatus
from channels.models import Case, SatisfactionSurvey
from tests.channels_factories import CaseFactory, QueueFactory, QueueMemberFactory, SlaPolicyFactory
from tests.customers_factories import CustomerFactory, EmailFactory

pytestmark = pytest.mark.django_db

LIST = reverse("api_v1_cases")


def detail(case) -> str:
    return reverse("api_v1_case", kwargs={"pk": case.pk})


def test_an_agent_opens_a_case_through_the_api_with_due_dates_and_round_robin(client, agent):
    SlaPolicyFactory(category="claim", first_response_minutes=60, resolution_minutes=600)
    queue = QueueFactory()
    QueueMemberFactory(queue=queue, user=agent)
    customer = CustomerFactory()
    client.force_login(agent)

    payload = {"subject": "Parcel lost", "category": "claim", "channel": "email", "customer": customer.pk,
               "queue": queue.pk}  # fmt: skip
    response = client.post(LIST, payload, content_type="application/json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"].startswith("CS-") and body["customer"] == customer.pk
    assert body["assignee"] == agent.pk and body["status"] == "open"
    assert body["first_response_due_at"] and body["resolution_due_at"]


def test_bad_input_gets_field_errors_and_writes_nothing(client, agent):
    client.force_login(agent)
    response = client.post(LIST, {"subject": "", "category": "gossip", "customer": 999999},
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert {"subject", "category", "customer"} <= fields.keys()
    assert Case.objects.count() == 0


def test_the_list_filters_and_pins_its_queries(client, agent, django_assert_max_num_queries):
    CaseFactory.create_batch(15, status=CaseStatus.OPEN)
    mine = CaseFactory(assignee=agent, status=CaseStatus.WAITING)
    CaseFactory(status=CaseStatus.CLOSED, resolution_breached=True)
    client.force_login(agent)
    with django_assert_max_num_queries(8):
        everything = client.get(LIST, {"page_size": 10}).json()
    assert len(everything["results"]) == 10 and everything["next"]
    assert [c["id"] for c in client.get(LIST, {"assignee": "me"}).json()["results"]] == [mine.pk]
    assert len(client.get(LIST, {"status": "open"}).json()["results"]) == 16
    assert len(client.get(LIST, {"breached": "resolution"}).json()["results"]) == 1


def test_patch_changes_status_with_transitions_and_is_all_or_nothing(client, agent):
    customer = CustomerFactory()
    EmailFactory(customer=customer)
    case = CaseFactory(customer=customer, status=CaseStatus.OPEN, priority="normal")
    client.force_login(agent)

    resolved = client.patch(detail(case), {"status": "resolved"}, content_type="application/json")
    assert resolved.status_code == 200 and resolved.json()["resolved_at"]
    assert SatisfactionSurvey.objects.filter(case=case).exists()

    refused = client.patch(detail(case), {"status": "waiting", "priority": "urgent"}, content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid_transition" and "status" in refused.json()["error"]["fields"]
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED and case.priority == "normal"  # the priority change was rolled back

    reopened = client.patch(detail(case), {"status": "open"}, content_type="application/json").json()
    assert reopened["status"] == "open" and reopened["reopened_count"] == 1


def test_patch_reassigns_and_moves_queue(client, agent, supervisor):
    queue = QueueFactory()
    case = CaseFactory(assignee=agent)
    client.force_login(supervisor)
    body = client.patch(detail(case), {"assignee": supervisor.pk, "queue": queue.pk},
                        content_type="application/json").json()  # fmt: skip
    assert body["assignee"] == supervisor.pk and body["queue"] == queue.pk


def test_permissions_reader_changer_and_outsider(client, agent, marketer, make_staff):
    case = CaseFactory(subject="Private matter")
    client.force_login(marketer)  # may read, may not change or create
    assert client.get(detail(case)).json()["subject"] == "Private matter"
    assert client.patch(detail(case), {"status": "closed"}, content_type="application/json").status_code == 403
    assert client.post(LIST, {"subject": "x"}, content_type="application/json").status_code == 403
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN

    client.force_login(make_staff(None, username="outsider"))
    for response in (client.get(detail(case)), client.get(LIST)):
        assert response.status_code == 403 and b"Private matter" not in response.content

    client.logout()
    assert client.get(LIST).status_code == 401
