"""SLA due dates on Paris business hours (weekends, French public holidays, evenings, DST) and the breach job."""

from __future__ import annotations

import datetime
import json
import time

import pytest
import redis
from django.conf import settings

from channels import realtime
from channels.choices import CaseCategory, CasePriority, CaseStatus
from channels.models import Case
from channels.services.cases import case_open
from channels.services.sla import PARIS, business_add, business_minutes_between, sla_breaches_flag
from channels.tasks.desk import sla_breaches_flag_task
from tests.channels_factories import CaseFactory, SlaPolicyFactory

UTC = datetime.UTC


def paris(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        # Within one day.
        (paris(2026, 1, 12, 10, 0), 90, paris(2026, 1, 12, 11, 30)),
        # Friday evening rolls over the weekend.
        (paris(2026, 1, 9, 17, 0), 120, paris(2026, 1, 12, 10, 0)),
        # Saturday start counts from Monday 09:00.
        (paris(2026, 1, 10, 11, 0), 30, paris(2026, 1, 12, 9, 30)),
        # Evening and early-morning starts count from the next opening.
        (paris(2026, 1, 13, 20, 0), 30, paris(2026, 1, 14, 9, 30)),
        (paris(2026, 1, 13, 6, 0), 30, paris(2026, 1, 13, 9, 30)),
        # 1 May (Friday in 2026) then the weekend.
        (paris(2026, 4, 30, 17, 30), 60, paris(2026, 5, 4, 9, 30)),
        # 14 July (Tuesday in 2026).
        (paris(2026, 7, 13, 17, 0), 120, paris(2026, 7, 15, 10, 0)),
        # Easter Monday 6 April 2026 after a weekend.
        (paris(2026, 4, 3, 16, 0), 180, paris(2026, 4, 7, 10, 0)),
        # Ascension Thursday 14 May 2026.
        (paris(2026, 5, 13, 17, 0), 90, paris(2026, 5, 15, 9, 30)),
        # Exactly the rest of the day ends at closing time, not the next morning.
        (paris(2026, 1, 12, 17, 0), 60, paris(2026, 1, 12, 18, 0)),
        # Three business days of 9 hours.
        (paris(2026, 1, 12, 9, 0), 27 * 60, paris(2026, 1, 14, 18, 0)),
    ],
)
def test_business_add_skips_nights_weekends_and_french_holidays(start, minutes, expected):
    assert business_add(start, minutes) == expected


def test_it_keeps_paris_wall_clock_across_the_spring_dst_change():
    # Friday 27 March 2026 17:00 CET (+1); clocks go forward on Sunday 29 March.
    due = business_add(paris(2026, 3, 27, 17, 0), 120)
    assert due == datetime.datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # 10:00 CEST (+2)
    assert due.astimezone(PARIS).hour == 10


def test_it_keeps_paris_wall_clock_across_the_autumn_dst_change():
    # Friday 23 October 2026 17:00 CEST (+2); clocks go back on Sunday 25 October.
    due = business_add(paris(2026, 10, 23, 17, 0), 120)
    assert due == datetime.datetime(2026, 10, 26, 9, 0, tzinfo=UTC)  # 10:00 CET (+1)


def test_a_start_given_in_utc_is_read_in_paris_time():
    # 07:00 UTC on 12 January is 08:00 in Paris: the clock starts at 09:00 Paris.
    assert business_add(datetime.datetime(2026, 1, 12, 7, 0, tzinfo=UTC), 60) == paris(2026, 1, 12, 10, 0)


def test_policy_hours_other_than_nine_to_six_are_used():
    start = paris(2026, 1, 12, 19, 0)
    due = business_add(start, 90, day_start=datetime.time(8, 0), day_end=datetime.time(20, 0))
    assert due == paris(2026, 1, 13, 8, 30)


def test_it_refuses_a_naive_start():
    with pytest.raises(ValueError, match="timezone-aware"):
        business_add(datetime.datetime(2026, 1, 12, 10, 0), 30)


def test_business_minutes_between_is_the_inverse_of_business_add():
    start = paris(2026, 4, 30, 17, 30)
    due = business_add(start, 600)
    assert business_minutes_between(start, due) == 600
    assert business_minutes_between(due, start) == -600
    assert business_minutes_between(paris(2026, 1, 9, 17, 0), paris(2026, 1, 12, 10, 0)) == 120


@pytest.mark.django_db
def test_opening_a_case_sets_due_dates_from_the_category_and_priority_policy():
    SlaPolicyFactory(category=CaseCategory.COMPLAINT, priority="", first_response_minutes=240, resolution_minutes=1080)
    SlaPolicyFactory(category=CaseCategory.COMPLAINT, priority=CasePriority.URGENT, first_response_minutes=30,
                     resolution_minutes=240)  # fmt: skip
    normal = case_open(subject="Late parcel", channel="email", category=CaseCategory.COMPLAINT)
    urgent = case_open(subject="Gas leak", channel="phone", category=CaseCategory.COMPLAINT,
                       priority=CasePriority.URGENT)  # fmt: skip
    assert normal.resolution_due_at == business_add(normal.created_at, 1080)
    assert urgent.first_response_due_at == business_add(urgent.created_at, 30)
    assert urgent.resolution_due_at == business_add(urgent.created_at, 240)
    no_policy = case_open(subject="Question", channel="web", category=CaseCategory.INFORMATION)
    assert no_policy.first_response_due_at is None and no_policy.resolution_due_at is None


@pytest.fixture
def listener():
    """A real Redis subscriber on one agent's SSE topic."""
    subscribers = []

    def listen(topic: str):
        pubsub = redis.Redis.from_url(settings.REDIS_URL).pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(realtime.channel_name(topic))
        pubsub.get_message(timeout=1)  # the subscribe confirmation
        subscribers.append(pubsub)
        return pubsub

    yield listen
    for pubsub in subscribers:
        pubsub.close()


def _messages(pubsub, wait: float = 2.0) -> list[dict]:
    found, deadline = [], time.monotonic() + wait
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.2)
        if message and message["type"] == "message":
            found.append(json.loads(message["data"]))
        elif found:
            break
    return found


@pytest.mark.django_db(transaction=True)
def test_the_breach_job_flags_overdue_open_cases_once_and_toasts_the_assignee(agent, listener):
    past = datetime.datetime.now(UTC) - datetime.timedelta(hours=1)
    future = datetime.datetime.now(UTC) + datetime.timedelta(hours=5)
    late_reply = CaseFactory(assignee=agent, first_response_due_at=past, resolution_due_at=future)
    late_both = CaseFactory(assignee=agent, first_response_due_at=past, resolution_due_at=past)
    answered = CaseFactory(first_response_due_at=past, first_responded_at=past - datetime.timedelta(hours=1),
                           resolution_due_at=future)  # fmt: skip
    closed = CaseFactory(status=CaseStatus.CLOSED, first_response_due_at=past, resolution_due_at=past)
    on_time = CaseFactory(first_response_due_at=future, resolution_due_at=future)
    pubsub = listener(f"agent:{agent.pk}")

    result = sla_breaches_flag_task.apply().get()

    assert result == {"first_response": 2, "resolution": 1}
    flags = dict(Case.objects.values_list("pk", "first_response_breached"))
    assert flags[late_reply.pk] and flags[late_both.pk]
    assert not flags[answered.pk] and not flags[closed.pk] and not flags[on_time.pk]
    assert Case.objects.get(pk=late_both.pk).resolution_breached
    assert not Case.objects.get(pk=late_reply.pk).resolution_breached
    toasts = _messages(pubsub)
    assert len(toasts) == 1 and toasts[0]["event"] == "toast"  # one toast listing the agent's three breaches
    assert "SLA breached on 3 of your cases" in toasts[0]["data"]
    assert late_reply.number in toasts[0]["data"] and late_both.number in toasts[0]["data"]
    assert "Resolution overdue" in toasts[0]["data"]

    # A second run finds nothing new and notifies nobody.
    assert sla_breaches_flag().first_response == []
    assert _messages(pubsub, wait=0.5) == []


@pytest.mark.django_db
def test_the_breach_job_is_two_set_based_updates(django_assert_max_num_queries):
    past = datetime.datetime.now(UTC) - datetime.timedelta(hours=1)
    CaseFactory.create_batch(30, first_response_due_at=past, resolution_due_at=past)
    with django_assert_max_num_queries(4):  # 2 UPDATEs (+ savepoint bookkeeping)
        report = sla_breaches_flag()
    assert len(report.first_response) == 30 and len(report.resolution) == 30
