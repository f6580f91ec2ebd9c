"""Cases: status transitions, reopen on reply, reclassification, notes, and the case screens."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from channels.choices import CaseCategory, CasePriority, CaseStatus, InteractionKind
from channels.models import Case, Interaction, SatisfactionSurvey
from channels.services import cases
from channels.services.sla import business_add
from crm.errors import ApplicationError
from tests.channels_factories import CaseFactory, InteractionFactory, QueueFactory, QueueMemberFactory, SlaPolicyFactory
from tests.customers_factories import CustomerFactory, EmailFactory

pytestmark = pytest.mark.django_db


def test_resolving_sets_resolved_at_and_schedules_the_survey(settings):
    settings.CSAT_SURVEY_DELAY = datetime.timedelta(hours=48)
    email = EmailFactory()
    case = CaseFactory(customer=email.customer, status=CaseStatus.OPEN)

    case = cases.case_status_change(case=case, status=CaseStatus.RESOLVED)

    assert case.status == CaseStatus.RESOLVED and case.resolved_at is not None
    survey = SatisfactionSurvey.objects.get(case=case)
    assert survey.status == "scheduled" and survey.send_after == case.resolved_at + datetime.timedelta(hours=48)


def test_closing_an_unresolved_case_sends_no_survey():
    email = EmailFactory()
    case = cases.case_status_change(case=CaseFactory(customer=email.customer), status=CaseStatus.CLOSED)
    assert case.closed_at is not None and case.resolved_at is None
    assert not SatisfactionSurvey.objects.filter(case=case).exists()


def test_closing_sets_closed_at_and_reopening_clears_both_and_counts():
    case = CaseFactory(status=CaseStatus.RESOLVED, resolved_at=timezone.now())
    case = cases.case_status_change(case=case, status=CaseStatus.CLOSED)
    assert case.closed_at is not None and case.resolved_at is not None

    case = cases.case_status_change(case=case, status=CaseStatus.OPEN)
    assert case.status == CaseStatus.OPEN and case.reopened_count == 1
    assert case.closed_at is None and case.resolved_at is None


@pytest.mark.parametrize(
    ("current", "wanted", "code"),
    [
        (CaseStatus.CLOSED, CaseStatus.RESOLVED, "invalid_transition"),
        (CaseStatus.CLOSED, CaseStatus.WAITING, "invalid_transition"),
        (CaseStatus.RESOLVED, CaseStatus.WAITING, "invalid_transition"),
        (CaseStatus.OPEN, CaseStatus.NEW, "invalid_transition"),
        (CaseStatus.OPEN, CaseStatus.OPEN, "unchanged"),
        (CaseStatus.OPEN, "lost", "invalid_choice"),
    ],
)
def test_it_refuses_transitions_that_make_no_sense_and_changes_nothing(current, wanted, code):
    case = CaseFactory(status=current)
    with pytest.raises(ApplicationError) as refused:
        cases.case_status_change(case=case, status=wanted)
    assert refused.value.code == code and refused.value.field == "status"
    case.refresh_from_db()
    assert case.status == current and case.reopened_count == 0


def test_resolving_late_marks_the_resolution_breach():
    case = CaseFactory(resolution_due_at=timezone.now() - datetime.timedelta(minutes=5))
    case = cases.case_status_change(case=case, status=CaseStatus.RESOLVED)
    assert case.resolution_breached


def test_a_customer_reply_reopens_a_resolved_case_and_wakes_a_waiting_one():
    resolved = CaseFactory(status=CaseStatus.RESOLVED, resolved_at=timezone.now())
    waiting = CaseFactory(status=CaseStatus.WAITING)
    assert cases.case_customer_replied(resolved).status == CaseStatus.OPEN
    assert cases.case_customer_replied(waiting).status == CaseStatus.OPEN
    resolved.refresh_from_db()
    assert resolved.reopened_count == 1 and resolved.resolved_at is None
    waiting.refresh_from_db()
    assert waiting.reopened_count == 0


def test_the_first_agent_response_meets_or_breaches_the_first_response_sla():
    now = timezone.now()
    on_time = CaseFactory(status=CaseStatus.NEW, first_response_due_at=now + datetime.timedelta(hours=1))
    late = CaseFactory(status=CaseStatus.NEW, first_response_due_at=now - datetime.timedelta(hours=1))
    on_time = cases.case_agent_responded(on_time)
    late = cases.case_agent_responded(late)
    assert on_time.status == CaseStatus.OPEN and not on_time.first_response_breached
    assert late.first_response_breached
    first = late.first_responded_at
    assert cases.case_agent_responded(late).first_responded_at == first  # only the first response counts


def test_changing_category_or_priority_recomputes_due_dates_from_creation():
    SlaPolicyFactory(category=CaseCategory.REQUEST, first_response_minutes=240, resolution_minutes=1080)
    SlaPolicyFactory(category=CaseCategory.CLAIM, first_response_minutes=60, resolution_minutes=600)
    case = cases.case_open(subject="Refund", channel="email", category=CaseCategory.REQUEST)
    created = case.created_at

    case = cases.case_classify(case=case, category=CaseCategory.CLAIM, priority=CasePriority.HIGH)

    assert case.category == CaseCategory.CLAIM and case.priority == CasePriority.HIGH
    assert case.first_response_due_at == business_add(created, 60)
    assert case.resolution_due_at == business_add(created, 600)


def test_an_internal_note_lands_on_the_case_thread_at_no_cost(agent):
    case = CaseFactory()
    note = cases.case_note_add(case=case, text="Called the depot.\n<script>alert(1)</script>", acting_user=agent)
    assert note.kind == InteractionKind.NOTE and note.cost == 0 and note.case_id == case.pk
    assert note.customer_id == case.customer_id and note.agent == agent
    assert "<script>" not in note.body and "Called the depot." in note.body
    with pytest.raises(ApplicationError):
        cases.case_note_add(case=case, text="   ", acting_user=agent)


def test_assigning_to_someone_who_cannot_work_cases_is_refused(marketer):
    case = CaseFactory(assignee=None)
    with pytest.raises(ApplicationError) as refused:
        cases.case_assign(case=case, assignee=marketer)
    assert refused.value.field == "assignee"
    case.refresh_from_db()
    assert case.assignee is None


# -- screens ------------------------------------------------------------------------------------


def test_an_agent_opens_a_case_from_the_360_page(client, agent):
    customer = CustomerFactory()
    client.force_login(agent)
    page = client.get(reverse("customers:detail", kwargs={"pk": customer.pk}))
    create_url = reverse("channels:case_create", kwargs={"pk": customer.pk})
    assert create_url.encode() in page.content  # the composer action

    response = client.post(create_url, {"subject": "Broken screen", "description": "Arrived cracked",
                                        "category": "claim", "priority": "high", "channel": "phone"})  # fmt: skip

    case = Case.objects.get(customer=customer)
    assert response.status_code == 302 and response["Location"] == case.get_absolute_url()
    assert case.subject == "Broken screen" and case.created_by == agent and case.number.startswith("CS-")
    panel = client.get(reverse("customers:detail", kwargs={"pk": customer.pk}))
    assert case.number.encode() in panel.content  # the Cases side panel


def test_the_create_form_shows_field_errors_and_writes_nothing(client, agent):
    client.force_login(agent)
    response = client.post(reverse("channels:case_new"), {"subject": "", "category": "nonsense", "channel": "phone",
                                                          "priority": "normal"})  # fmt: skip
    assert response.status_code == 200
    assert response.context["form"].errors.keys() >= {"subject", "category"}
    assert Case.objects.count() == 0


def test_the_detail_shows_the_thread_oldest_first_sanitised_with_sla_clocks(client, agent):
    now = timezone.now()
    case = CaseFactory(first_response_due_at=now + datetime.timedelta(days=3),
                       resolution_due_at=now - datetime.timedelta(hours=2), resolution_breached=True)  # fmt: skip
    InteractionFactory(customer=case.customer, case=case, subject="Second", occurred_at=timezone.now())
    InteractionFactory(customer=case.customer, case=case, subject="First",
                       occurred_at=timezone.now() - datetime.timedelta(hours=3),
                       body='<p>Hello</p><img src=x onerror="alert(1)">')  # fmt: skip
    client.force_login(agent)
    response = client.get(case.get_absolute_url())
    body = response.content.decode()
    assert response.status_code == 200
    assert body.index(">First<") < body.index(">Second<")
    assert "onerror" not in body
    assert "resolution late" in body and "overdue by" in body and "left" in body


def test_reply_links_are_hidden_when_the_composers_do_not_exist(client, agent):
    from django.urls import NoReverseMatch

    case = CaseFactory()
    client.force_login(agent)
    body = client.get(case.get_absolute_url()).content.decode()
    for name in ("channels:email_compose", "channels:sms_compose"):
        try:
            url = reverse(name, kwargs={"pk": case.customer_id})
        except NoReverseMatch:
            assert name.split(":")[1] not in body
        else:
            assert f"{url}?case={case.pk}" in body


def test_status_actions_from_the_detail_page(client, agent):
    case = CaseFactory(status=CaseStatus.OPEN)
    client.force_login(agent)
    client.post(reverse("channels:case_status", kwargs={"pk": case.pk}), {"status": "resolved"})
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED

    refused = client.post(reverse("channels:case_status", kwargs={"pk": case.pk}), {"status": "waiting"}, follow=True)
    assert b"cannot become" in refused.content
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED


def test_reassign_and_reclassify_and_note_from_the_detail_page(client, agent, supervisor):
    queue = QueueFactory()
    QueueMemberFactory(queue=queue, user=supervisor)
    case = CaseFactory(assignee=agent)
    client.force_login(agent)
    client.post(reverse("channels:case_assign", kwargs={"pk": case.pk}), {"assignee": supervisor.pk,
                                                                           "queue": queue.pk})  # fmt: skip
    client.post(reverse("channels:case_classify", kwargs={"pk": case.pk}), {"category": "complaint",
                                                                             "priority": "urgent"})  # fmt: skip
    client.post(reverse("channels:case_note", kwargs={"pk": case.pk}), {"text": "Escalated to Bob"})
    case.refresh_from_db()
    assert case.assignee == supervisor and case.queue == queue
    assert case.category == "complaint" and case.priority == "urgent"
    assert Interaction.objects.filter(case=case, kind="note", summary__contains="Escalated").exists()


def test_the_list_filters_and_pages_with_a_fixed_number_of_queries(client, agent, django_assert_max_num_queries):
    queue = QueueFactory()
    mine = CaseFactory.create_batch(3, assignee=agent, queue=queue, status=CaseStatus.OPEN)
    CaseFactory.create_batch(60, status=CaseStatus.OPEN)
    closed = CaseFactory(assignee=agent, status=CaseStatus.CLOSED)
    breached = CaseFactory(status=CaseStatus.OPEN, first_response_breached=True, category="complaint")
    client.force_login(agent)
    url = reverse("channels:case_list")

    with django_assert_max_num_queries(12):
        first = client.get(url)
    assert len(first.context["page"].rows) == 50 and first.context["next_query"]
    second = client.get(f"{url}?{first.context['next_query']}")
    seen = {c.pk for c in first.context["page"].rows} | {c.pk for c in second.context["page"].rows}
    assert len(seen) == Case.objects.count()  # no row lost or repeated between pages

    by_me = client.get(url, {"assignee": "me", "status": "open"}).context["page"].rows
    assert {c.pk for c in by_me} == {c.pk for c in mine}
    assert closed.pk not in {c.pk for c in by_me}
    assert [c.pk for c in client.get(url, {"breached": "any"}).context["page"].rows] == [breached.pk]
    assert [c.pk for c in client.get(url, {"category": "complaint"}).context["page"].rows] == [breached.pk]
    assert len(client.get(url, {"queue": queue.pk}).context["page"].rows) == 3
    by_customer = client.get(url, {"customer": breached.customer_id}).context["page"].rows
    assert [c.pk for c in by_customer] == [breached.pk]
    by_number = client.get(url, {"q": breached.number}).context["page"].rows
    assert [c.pk for c in by_number] == [breached.pk]


def test_a_marketer_reads_cases_but_cannot_change_them(client, marketer):
    case = CaseFactory(status=CaseStatus.OPEN)
    client.force_login(marketer)
    page = client.get(case.get_absolute_url())
    assert page.status_code == 200 and b"status-form" not in page.content
    assert client.post(reverse("channels:case_status", kwargs={"pk": case.pk}), {"status": "closed"}).status_code == 403
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_staff_without_a_role_see_no_case(client, make_staff):
    case = CaseFactory(subject="Confidential complaint")
    client.force_login(make_staff(None, username="nobody"))
    for url in (case.get_absolute_url(), reverse("channels:case_list")):
        response = client.get(url)
        assert response.status_code == 403 and b"Confidential complaint" not in response.content


def test_the_assignee_picker_offers_people_who_can_work_cases(agent, supervisor, marketer, make_staff):
    from channels.selectors_desk import desk_assignees

    no_role_member = make_staff(None, username="member.without.role")
    QueueMemberFactory(user=no_role_member)
    offered = set(desk_assignees())
    assert {agent, supervisor, no_role_member} <= offered
    assert marketer not in offered


def test_an_htmx_filter_request_gets_only_the_results_block(client, agent):
    CaseFactory(subject="Cracked screen")
    client.force_login(agent)
    response = client.get(reverse("channels:case_list"), {"status": "open"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "Cracked screen" in body
    assert 'id="case-results"' in body and "case-filters" not in body and "<html" not in body
