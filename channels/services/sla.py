"""SLA due dates on business hours: Europe/Paris, Monday to Friday, French public holidays excluded.

A policy gives minutes of business time; ``business_add(start, minutes)`` walks business days from
``start`` (in Paris time) and returns the aware datetime when that much business time has elapsed.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo

import holidays
from django.utils import timezone

PARIS = ZoneInfo("Europe/Paris")
DEFAULT_DAY = (datetime.time(9, 0), datetime.time(18, 0))


@cache
def _french_holidays(year: int) -> frozenset[datetime.date]:
    return frozenset(holidays.France(years=year).keys())


def is_business_day(day: datetime.date) -> bool:
    return day.weekday() < 5 and day not in _french_holidays(day.year)


def business_add(
    start: datetime.datetime,
    minutes: int,
    *,
    day_start: datetime.time = DEFAULT_DAY[0],
    day_end: datetime.time = DEFAULT_DAY[1],
) -> datetime.datetime:
    """``start`` plus ``minutes`` of business time (an aware datetime, in Paris time)."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    current = start.astimezone(PARIS)
    remaining = datetime.timedelta(minutes=minutes)
    while True:
        day = current.date()
        opens = datetime.datetime.combine(day, day_start, tzinfo=PARIS)
        closes = datetime.datetime.combine(day, day_end, tzinfo=PARIS)
        if is_business_day(day) and current < closes:
            begin = max(current, opens)
            available = closes - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        next_day = day + datetime.timedelta(days=1)
        current = datetime.datetime.combine(next_day, datetime.time(0, 0), tzinfo=PARIS)


def business_minutes_between(
    start: datetime.datetime,
    end: datetime.datetime,
    *,
    day_start: datetime.time = DEFAULT_DAY[0],
    day_end: datetime.time = DEFAULT_DAY[1],
) -> int:
    """Business minutes from ``start`` to ``end`` (negative when ``end`` is earlier): the time left."""
    if end < start:
        return -business_minutes_between(end, start, day_start=day_start, day_end=day_end)
    current, end = start.astimezone(PARIS), end.astimezone(PARIS)
    total = datetime.timedelta()
    while current < end:
        day = current.date()
        opens = datetime.datetime.combine(day, day_start, tzinfo=PARIS)
        closes = datetime.datetime.combine(day, day_end, tzinfo=PARIS)
        if is_business_day(day):
            begin, finish = max(current, opens), min(end, closes)
            if finish > begin:
                total += finish - begin
        current = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(0, 0), tzinfo=PARIS)
    return int(total.total_seconds() // 60)


def sla_remaining_label(minutes: int) -> str:
    """``2 h 15 min`` of business time; the caller says whether it is left or overdue."""
    minutes = abs(minutes)
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} h {rest:02d} min"
    if hours:
        return f"{hours} h"
    return f"{rest} min"


TOAST_CASES = 5


@dataclass(frozen=True)
class BreachReport:
    first_response: list[int]
    resolution: list[int]


def sla_breaches_flag(*, now: datetime.datetime | None = None) -> BreachReport:
    """Flag open cases whose first response or resolution is overdue, set-based, and tell assignees.

    One UPDATE per kind of breach (``RETURNING`` the ids and assignees); each assignee gets one toast on
    ``agent:<id>`` after commit, listing their newly breached cases. A case already flagged is not
    flagged again, so running the job twice notifies once. Returns the ids flagged this time.
    """
    from django.db import connection, transaction
    from django.template.loader import render_to_string

    from channels import realtime

    now = now or timezone.now()
    # The WHERE clauses repeat the partial indexes' predicates (case_*_watch) so the planner uses them.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE channels_case SET first_response_breached = true, updated_at = %s "
            "WHERE status IN ('new', 'open', 'waiting') AND first_responded_at IS NULL "
            "AND first_response_due_at < %s AND first_response_breached = false "
            "RETURNING id, number, subject, assignee_id",
            [now, now],
        )
        first = cursor.fetchall()
        cursor.execute(
            "UPDATE channels_case SET resolution_breached = true, updated_at = %s "
            "WHERE status IN ('new', 'open', 'waiting') AND resolution_due_at < %s "
            "AND resolution_breached = false RETURNING id, number, subject, assignee_id",
            [now, now],
        )
        resolution = cursor.fetchall()

        def notify():
            # One toast per agent, whatever the number of cases: a first run over a large backlog must not
            # render and publish thousands of fragments.
            by_agent: dict[int, list[dict]] = {}
            for kind, rows in (("first_response", first), ("resolution", resolution)):
                for case_id, number, subject, assignee_id in rows:
                    if assignee_id is not None:
                        by_agent.setdefault(assignee_id, []).append(
                            {"case_id": case_id, "number": number, "subject": subject, "kind": kind}
                        )
            for assignee_id, breaches in by_agent.items():
                html = render_to_string(
                    "channels/desk/breach_toast.html",
                    {"breaches": breaches[:TOAST_CASES], "more": max(0, len(breaches) - TOAST_CASES)},
                )
                realtime.publish(f"agent:{assignee_id}", "toast", html)

        if first or resolution:
            transaction.on_commit(notify)
    return BreachReport(first_response=[r[0] for r in first], resolution=[r[0] for r in resolution])
