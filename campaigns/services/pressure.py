# ruff: noqa: S608 -- the SQL here is assembled from constant fragments; every value is a query parameter.
"""The contact-pressure budget: one per customer across every channel and campaign.

A marketing message counts from the moment a worker reserves it (``reserved_at``, under the
customer's advisory lock) — claimed, handed over or sent. The planner also counts the planned messages
of campaigns of equal or higher priority, so a higher-priority campaign is never pushed back by a lower
one; the dispatcher decides at send time, under the lock, and defers a lower-priority message when a
higher one is due for the same slot. A deferred message moves to the next free slot: the next day
(daily cap), the day the oldest counted contact leaves the rolling window, and always inside the
sending windows (outside quiet hours, Sundays and French public holidays).

Both the planner and the dispatcher use ``pressure_lateral_sql``: the rules exist once, in SQL.
"""

from __future__ import annotations

import datetime
import functools
import zoneinfo

import holidays
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import PressurePolicy
from crm.errors import ApplicationError

WINDOW_HORIZON_DAYS = 120
COUNTED = ("claimed", "sending", "sent", "delivered", "opened", "clicked", "bounced", "complained", "unsubscribed")


def policy_active() -> PressurePolicy:
    """The policy in force (created with the defaults the first time it is asked for)."""
    policy = PressurePolicy.objects.filter(is_active=True).first()
    if policy is None:
        policy, _created = PressurePolicy.objects.get_or_create(is_active=True, defaults={"name": "Default",
                                                               "channel_caps": {"sms": [2, 30]}})  # fmt: skip
    return policy


POLICY_FIELDS = ("max_per_window", "window_days", "max_per_day", "quiet_start", "quiet_end", "skip_sundays",
                 "skip_holidays", "channel_caps", "service_exempt", "name")  # fmt: skip


@transaction.atomic
def policy_update(*, acting_user, **changes) -> PressurePolicy:
    """Change the active policy (admins). Caps must be positive; ``channel_caps`` is ``{channel: [n, days]}``."""
    policy = PressurePolicy.objects.select_for_update().get(pk=policy_active().pk)
    for name, value in changes.items():
        if name not in POLICY_FIELDS:
            raise ApplicationError("invalid_field", _("Unknown field: %(name)s") % {"name": name}, field=name)
        setattr(policy, name, value)
    if policy.max_per_window < 1 or policy.max_per_day < 1 or policy.window_days < 1:
        raise ApplicationError("invalid", _("Caps and windows must be at least 1."), field="max_per_window")
    for _channel, cap in (policy.channel_caps or {}).items():
        if not (isinstance(cap, list) and len(cap) == 2 and all(isinstance(v, int) and v >= 1 for v in cap)):
            raise ApplicationError("invalid", _("Write each channel cap as [count, days], e.g. [2, 30]."),
                                   field="channel_caps")  # fmt: skip
    policy.save()
    return policy


def _zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


@functools.lru_cache(maxsize=8)
def _holidays(year: int) -> frozenset[datetime.date]:
    return frozenset(holidays.France(years=year))


def is_closed_day(policy: PressurePolicy, day: datetime.date) -> bool:
    return (policy.skip_sundays and day.weekday() == 6) or (policy.skip_holidays and day in _holidays(day.year))


def sending_windows(policy: PressurePolicy, start: datetime.datetime, *, days: int = WINDOW_HORIZON_DAYS):
    """The periods when a contact may be made, from ``start``'s day on: ``[(from, to), ...]`` (aware).

    Each open day gives one period from the end of the quiet hours to their start (the whole day when
    the policy has no quiet hours). Closed days (Sundays, public holidays) give none.
    """
    zone = _zone()
    first = timezone.localtime(start, zone).date()
    windows = []
    for offset in range(days):
        day = first + datetime.timedelta(days=offset)
        if is_closed_day(policy, day):
            continue
        if policy.quiet_start is None or policy.quiet_end is None:
            begin = datetime.datetime.combine(day, datetime.time(0), zone)
            end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(0), zone)
        else:
            begin = datetime.datetime.combine(day, policy.quiet_end, zone)
            end = datetime.datetime.combine(day, policy.quiet_start, zone)
        windows.append((begin, end))
    return windows


def next_open_time(policy: PressurePolicy, at: datetime.datetime) -> datetime.datetime:
    """The first moment at or after ``at`` that is inside a sending window."""
    for begin, end in sending_windows(policy, at):
        if end > at:
            return max(begin, at)
    return at  # no window in the horizon: the dispatcher re-checks later


def is_quiet(policy: PressurePolicy, at: datetime.datetime) -> bool:
    return next_open_time(policy, at) > at


def pressure_params(policy: PressurePolicy, *, start: datetime.datetime) -> dict:
    """The SQL parameters the lateral join below needs (policy values and the sending windows)."""
    windows = sending_windows(policy, start - datetime.timedelta(days=1))
    caps = policy.channel_caps or {}
    return {
        "p_max_window": policy.max_per_window,
        "p_window": datetime.timedelta(days=policy.window_days),
        "p_max_day": policy.max_per_day,
        "p_cap_channels": list(caps),
        "p_cap_counts": [int(v[0]) for v in caps.values()],
        "p_cap_days": [datetime.timedelta(days=int(v[1])) for v in caps.values()],
        "p_horizon": datetime.timedelta(days=max([policy.window_days, 1, *[int(v[1]) for v in caps.values()]])),
        "p_service_exempt": policy.service_exempt,
        "p_ws": [w[0] for w in windows],
        "p_we": [w[1] for w in windows],
        "p_tz": settings.TIME_ZONE,
    }


def pressure_lateral_sql(*, customer: str, at: str, channel: str, purpose: str, priority: str, exclude_id: str,
                         count_planned: bool) -> str:  # fmt: skip
    """A ``LEFT JOIN LATERAL (...) pr ON true`` computing for one row: ``pr.over`` (budget full at
    ``at``), ``pr.slot`` (the next free moment, inside a sending window) and ``pr.quiet`` (``at`` is
    outside the sending windows). Arguments are SQL expressions of the outer query.

    Counted: marketing messages of the customer reserved in the horizon (claimed or sent), and when
    ``count_planned`` the planned ones of equal or higher priority at their ``not_before``. A service
    message is exempt when the policy says so (quiet hours still apply). ``COUNTED`` renders as a SQL
    list of literals (constants of this module, never input).
    """
    planned = (
        f" OR (p.status = 'planned' AND p.priority >= {priority} AND p.not_before IS NOT NULL"
        f" AND p.not_before > {at} - %(p_horizon)s AND p.not_before < {at} + interval '1 day')"
        if count_planned
        else ""
    )
    return f"""
    LEFT JOIN LATERAL (
        SELECT
            NOT ex.exempt AND (c.n_window >= %(p_max_window)s OR c.n_day >= %(p_max_day)s
                               OR coalesce(c.cap_full, false)) AS over,
            c.n_window, c.n_day,
            slot_of.slot,
            quiet_of.quiet
        FROM (
            SELECT
                count(*) FILTER (WHERE t.at_ > {at} - %(p_window)s AND t.at_ <= {at}) AS n_window,
                count(*) FILTER (WHERE (t.at_ AT TIME ZONE %(p_tz)s)::date = ({at} AT TIME ZONE %(p_tz)s)::date)
                    AS n_day,
                (array_agg(t.at_ ORDER BY t.at_ DESC) FILTER (WHERE t.at_ > {at} - %(p_window)s
                    AND t.at_ <= {at}))[%(p_max_window)s] AS kth,
                bool_or(caps.full_) AS cap_full,
                max(caps.free_at) AS cap_free_at
            FROM (SELECT 1) one
            LEFT JOIN LATERAL (
                SELECT coalesce(p.reserved_at, p.not_before) AS at_, p.channel AS ch
                FROM campaigns_message p
                WHERE p.customer_id = {customer} AND p.id <> {exclude_id} AND p.purpose = 'marketing'
                  AND ((p.reserved_at IS NOT NULL AND p.reserved_at > {at} - %(p_horizon)s
                        AND p.status IN {COUNTED!r}){planned})
            ) t ON true
            LEFT JOIN LATERAL (
                SELECT cnt >= cap.n AS full_, CASE WHEN cnt >= cap.n THEN kth_ch + cap.d END AS free_at
                FROM unnest(%(p_cap_channels)s::text[], %(p_cap_counts)s::int[], %(p_cap_days)s::interval[])
                     AS cap(ch, n, d),
                LATERAL (
                    SELECT count(*) AS cnt,
                           (array_agg(coalesce(q.reserved_at, q.not_before)
                                      ORDER BY coalesce(q.reserved_at, q.not_before) DESC))[cap.n] AS kth_ch
                    FROM campaigns_message q
                    WHERE q.customer_id = {customer} AND q.id <> {exclude_id} AND q.channel = cap.ch
                      AND q.purpose = 'marketing' AND q.reserved_at IS NOT NULL AND q.status IN {COUNTED!r}
                      AND q.reserved_at > {at} - cap.d
                ) qc
                WHERE cap.ch = {channel}
            ) caps ON true
        ) c
        CROSS JOIN (SELECT ({purpose} = 'service' AND %(p_service_exempt)s) AS exempt) ex
        CROSS JOIN LATERAL (
            SELECT CASE WHEN ex.exempt THEN {at} ELSE greatest(
                {at},
                CASE WHEN c.n_day >= %(p_max_day)s
                     THEN ((({at} AT TIME ZONE %(p_tz)s)::date + 1)::timestamp AT TIME ZONE %(p_tz)s) END,
                CASE WHEN c.n_window >= %(p_max_window)s THEN c.kth + %(p_window)s END,
                c.cap_free_at
            ) END AS raw_slot
        ) r
        CROSS JOIN LATERAL (
            SELECT coalesce((SELECT greatest(r.raw_slot, w.ws) FROM unnest(%(p_ws)s::timestamptz[],
                             %(p_we)s::timestamptz[]) AS w(ws, we)
                             WHERE w.we > r.raw_slot ORDER BY w.ws LIMIT 1), r.raw_slot) AS slot
        ) slot_of
        CROSS JOIN LATERAL (
            SELECT NOT EXISTS (SELECT 1 FROM unnest(%(p_ws)s::timestamptz[], %(p_we)s::timestamptz[]) AS w(ws, we)
                               WHERE w.ws <= {at} AND w.we > {at}) AS quiet
        ) quiet_of
    ) pr ON true
    """
