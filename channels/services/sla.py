"""SLA due dates on business hours: Europe/Paris, Monday to Friday, French public holidays excluded.

A policy gives minutes of business time; ``business_add(start, minutes)`` walks business days from
``start`` (in Paris time) and returns the aware datetime when that much business time has elapsed.
"""

from __future__ import annotations

import datetime
from functools import cache
from zoneinfo import ZoneInfo

import holidays

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
