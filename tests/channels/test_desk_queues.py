"""Queues: round-robin among available agents, manual pull, availability; supervisor view; my work."""

from __future__ import annotations

import datetime
import threading
from collections import Counter

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from channels.choices import AssignmentRule, CaseStatus, ConversationKind, ConversationStatus
from channels.models import CallbackRequest, Case, FollowUp, QueueMember
from channels.services.assignment import case_take_next, queue_member_availability_set
from channels.services.cases import case_open
from crm import roles
from crm.errors import ApplicationError
from tests.channels_factories import CaseFactory, ConversationFactory, QueueFactory, QueueMemberFactory
from tests.customers_factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_agents(make_staff):
    return [make_staff(roles.AGENT, username=f"rr.agent{i}") for i in range(3)]


def test_round_robin_spreads_six_cases_evenly_over_three_agents(three_agents):
    queue = QueueFactory(assignment_rule=AssignmentRule.ROUND_ROBIN)
    for agent in three_agents:
        QueueMemberFactory(queue=queue, user=agent)

    opened = [case_open(subject=f"Case {i}", channel="email", queue=queue) for i in range(6)]

    counts = Counter(case.assignee_id for case in opened)
    assert counts == {agent.pk: 2 for agent in three_agents}
    assert all(case.status == CaseStatus.OPEN for case in opened)
    # Fair order: the same rotation every time (nobody gets two in a row).
    assert [c.assignee_id for c in opened[:3]] == [c.assignee_id for c in opened[3:]]


def test_an_unavailable_agent_gets_no_case_until_available_again(three_agents):
    queue = QueueFactory()
    for agent in three_agents:
        QueueMemberFactory(queue=queue, user=agent)
    away = three_agents[0]
    assert queue_member_availability_set(user=away, is_available=False) == 1

    opened = [case_open(subject=f"Case {i}", channel="email", queue=queue) for i in range(4)]
    assert away.pk not in {case.assignee_id for case in opened}

    queue_member_availability_set(user=away, is_available=True, queue=queue)
    assert case_open(subject="Back", channel="email", queue=queue).assignee_id == away.pk


def test_a_manual_queue_leaves_cases_waiting_and_take_next_gives_the_oldest(agent):
    queue = QueueFactory(assignment_rule=AssignmentRule.MANUAL)
    QueueMemberFactory(queue=queue, user=agent)
    older = case_open(subject="Older", channel="email", queue=queue)
    case_open(subject="Newer", channel="email", queue=queue)
    assert older.assignee is None and older.status == CaseStatus.NEW

    taken = case_take_next(queue=queue, user=agent)

    assert taken.pk == older.pk and taken.assignee == agent and taken.status == CaseStatus.OPEN


def test_take_next_refuses_a_non_member_and_answers_none_on_an_empty_queue(agent, supervisor):
    queue = QueueFactory(assignment_rule=AssignmentRule.MANUAL)
    QueueMemberFactory(queue=queue, user=agent)
    assert case_take_next(queue=queue, user=agent) is None
    case_open(subject="Waiting", channel="email", queue=queue)
    with pytest.raises(ApplicationError):
        case_take_next(queue=queue, user=supervisor)
    assert Case.objects.get(subject="Waiting").assignee is None


@pytest.mark.django_db(transaction=True)
def test_take_next_skips_a_case_another_agent_is_taking(make_staff):
    first, second = make_staff(roles.AGENT, username="pull.one"), make_staff(roles.AGENT, username="pull.two")
    queue = QueueFactory(assignment_rule=AssignmentRule.MANUAL)
    QueueMemberFactory(queue=queue, user=first)
    QueueMemberFactory(queue=queue, user=second)
    oldest = CaseFactory(queue=queue, assignee=None, status=CaseStatus.NEW,
                         created_at=timezone.now() - datetime.timedelta(hours=2))  # fmt: skip
    next_one = CaseFactory(queue=queue, assignee=None, status=CaseStatus.NEW,
                           created_at=timezone.now() - datetime.timedelta(hours=1))  # fmt: skip
    locked, release = threading.Event(), threading.Event()

    def hold_the_oldest():
        try:
            with transaction.atomic():
                list(Case.objects.select_for_update().filter(pk=oldest.pk))
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_oldest)
    holder.start()
    assert locked.wait(10)
    try:
        taken = case_take_next(queue=queue, user=second)
    finally:
        release.set()
        holder.join()
    assert taken.pk == next_one.pk


def test_take_next_and_availability_from_the_queue_page(client, agent):
    queue = QueueFactory(assignment_rule=AssignmentRule.MANUAL, name="Claims")
    QueueMemberFactory(queue=queue, user=agent)
    case = case_open(subject="Dented fridge", channel="phone", queue=queue)
    client.force_login(agent)

    page = client.get(reverse("channels:queue_detail", kwargs={"pk": queue.pk}))
    assert b"Dented fridge" in page.content and b"take-next" in page.content
    response = client.post(reverse("channels:queue_take_next", kwargs={"pk": queue.pk}))
    assert response.status_code == 302 and response["Location"] == case.get_absolute_url()
    case.refresh_from_db()
    assert case.assignee == agent

    client.post(reverse("channels:availability"), {"queue": queue.pk, "available": "0"})
    assert not QueueMember.objects.get(queue=queue, user=agent).is_available
    listing = client.get(reverse("channels:queues"))
    assert b"Claims" in listing.content and b'aria-pressed="false"' in listing.content


def test_the_supervisor_view_counts_per_queue_and_per_agent(client, supervisor, agent, django_assert_max_num_queries):
    now = timezone.now()
    past, later = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=10)
    billing, delivery = QueueFactory(name="Billing", slug="billing"), QueueFactory(name="Delivery", slug="delivery")
    CaseFactory(queue=billing, assignee=None, status="new", resolution_due_at=later)
    CaseFactory(queue=billing, assignee=agent, resolution_due_at=past, resolution_breached=True)
    CaseFactory(queue=billing, assignee=agent, first_response_breached=True, resolution_due_at=later)
    CaseFactory(queue=billing, assignee=None, status=CaseStatus.CLOSED, resolution_breached=True)
    CaseFactory(queue=delivery, assignee=supervisor, resolution_due_at=later)
    client.force_login(supervisor)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("channels:supervisor"))

    queues = {q.slug: q for q in response.context["queues"]}
    b = queues["billing"]
    assert (b.open_count, b.unassigned_count, b.due_today_count) == (3, 1, 1)
    assert (b.first_response_breached_count, b.resolution_breached_count) == (1, 1)
    assert b.oldest_waiting_at is not None
    assert queues["delivery"].open_count == 1 and queues["delivery"].unassigned_count == 0
    agents = {row["assignee_id"]: row for row in response.context["agents"]}
    assert agents[agent.pk]["open_count"] == 2 and agents[agent.pk]["breached_count"] == 2
    assert agents[supervisor.pk]["breached_count"] == 0
    assert len(response.context["attention"]) == 3  # unassigned + two breached; the closed one is not

    # More cases do not add queries (aggregates, not one query per row).
    CaseFactory.create_batch(20, queue=delivery, assignee=agent)
    with django_assert_max_num_queries(12):
        client.get(reverse("channels:supervisor"))


def test_the_supervisor_view_refreshes_its_figures_and_leaves_the_reassignment_list_alone(client, supervisor):
    billing = QueueFactory(name="Billing", slug="billing")
    CaseFactory(queue=billing, assignee=None, status="new", subject="Parcel lost")
    client.force_login(supervisor)
    page = client.get(reverse("channels:supervisor")).content.decode()
    assert 'hx-trigger="every 30s"' in page and 'data-testid="supervisor-attention"' in page

    CaseFactory(queue=billing, assignee=None, status="new", subject="Refund late")
    response = client.get(reverse("channels:supervisor"), headers={"HX-Request": "true"})

    fragment = response.content.decode()
    assert response.status_code == 200
    assert fragment.lstrip().startswith('<div id="supervisor-live"') and "<html" not in fragment
    assert 'data-queue="billing"' in fragment and '<td class="text-end" data-col="open">2</td>' in fragment
    assert "supervisor-attention" not in fragment and "Parcel lost" not in fragment


def test_agents_and_marketers_cannot_open_the_supervisor_view(client, agent, marketer):
    CaseFactory(subject="Escalation secret")
    for user in (agent, marketer):
        client.force_login(user)
        response = client.get(reverse("channels:supervisor"))
        assert response.status_code == 403 and b"Escalation secret" not in response.content


def test_my_work_lists_everything_waiting_for_me_soonest_due_first(client, agent, make_staff):
    other = make_staff(roles.AGENT, username="someone.else")
    queue = QueueFactory()
    QueueMemberFactory(queue=queue, user=agent)
    now = timezone.now()
    customer = CustomerFactory()
    case = CaseFactory(assignee=agent, customer=customer, resolution_due_at=now + datetime.timedelta(hours=5))
    CaseFactory(assignee=other, resolution_due_at=now + datetime.timedelta(hours=1))  # not mine
    CaseFactory(assignee=agent, status=CaseStatus.RESOLVED)  # not open
    callback = CallbackRequest.objects.create(phone="+33612345678", reason="Invoice question", queue=queue,
                                              preferred_from=now + datetime.timedelta(hours=2),
                                              preferred_to=now + datetime.timedelta(hours=3))  # fmt: skip
    waiting_since = now - datetime.timedelta(minutes=10)
    chat = ConversationFactory(kind=ConversationKind.CHAT, status=ConversationStatus.WAITING, queue=queue,
                               subject="Where is my order?", created_at=waiting_since)  # fmt: skip
    task = FollowUp.objects.create(title="Send the warranty form", due_at=now + datetime.timedelta(hours=4),
                                   assignee=agent, customer=customer)  # fmt: skip
    FollowUp.objects.create(title="Other's task", due_at=now, assignee=other)
    client.force_login(agent)

    response = client.get(reverse("channels:my_work"))

    items = response.context["items"]
    assert [(i.kind, i.object.pk) for i in items] == [
        ("chat", chat.pk), ("callback", callback.pk), ("follow_up", task.pk), ("case", case.pk)
    ]  # fmt: skip
    assert b"Send the warranty form" in response.content and b"Other&#x27;s task" not in response.content

    client.post(reverse("channels:follow_up_done", kwargs={"pk": task.pk}))
    task.refresh_from_db()
    assert task.status == "done" and task.done_at is not None
    assert "follow_up" not in {i.kind for i in client.get(reverse("channels:my_work")).context["items"]}


def test_an_agent_cannot_close_someone_elses_follow_up(client, agent, make_staff):
    other = make_staff(roles.AGENT, username="owner.of.task")
    task = FollowUp.objects.create(title="Not yours", due_at=timezone.now(), assignee=other)
    client.force_login(agent)
    assert client.post(reverse("channels:follow_up_done", kwargs={"pk": task.pk})).status_code == 403
    task.refresh_from_db()
    assert task.status == "open"
