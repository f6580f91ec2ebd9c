"""Reads of the timeline: one customer's interactions newest first (keyset pages) and their cost per channel.

The first page of the 360 timeline is an index range scan on ``interaction_timeline``
(customer_id, occurred_at DESC, id DESC); the next pages continue from a ``(occurred_at, id)`` cursor
with a row comparison, which PostgreSQL turns into the same range scan (no OFFSET, no COUNT).
"""

from __future__ import annotations

import datetime
import functools
import json
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from channels.choices import Direction, InteractionChannel, InteractionKind
from channels.models import Interaction
from customers.models import Customer

TIMELINE_PAGE_SIZE = 50

# The columns a timeline entry shows; ``body`` is fetched too, shown on expand without another request.
# Rows are read with values() (plain tuples, no model instances): a third of the cost of building
# Interaction, User, Case and Conversation objects for 50 rows, which dominated the page.
TIMELINE_COLUMNS = {
    "id": "id", "customer_id": "customer_id", "channel": "channel", "direction": "direction", "kind": "kind",
    "occurred_at": "occurred_at", "subject": "subject", "summary": "summary", "body": "body", "outcome": "outcome",
    "duration_seconds": "duration_seconds", "cost": "cost", "currency": "currency", "metadata": "metadata",
    "agent_id": "agent_id", "agent_username": "agent__username", "agent_first_name": "agent__first_name",
    "agent_last_name": "agent__last_name", "case_id": "case_id", "case_number": "case__number",
    "conversation_id": "conversation_id", "conversation_subject": "conversation__subject",
}  # fmt: skip
_CHANNEL_LABELS = dict(InteractionChannel.choices)
_KIND_LABELS = dict(InteractionKind.choices)
_DIRECTION_LABELS = dict(Direction.choices)


@dataclass
class TimelineEntry:
    """One line of the timeline, as the panel and the full page show it."""

    id: int
    customer_id: int | None
    channel: str
    direction: str
    kind: str
    occurred_at: datetime.datetime
    subject: str
    summary: str
    body: str
    outcome: str
    duration_seconds: int | None
    cost: Decimal
    currency: str
    metadata: dict
    agent_id: int | None
    agent_username: str | None
    agent_first_name: str | None
    agent_last_name: str | None
    case_id: int | None
    case_number: str | None
    conversation_id: int | None
    conversation_subject: str | None

    @property
    def pk(self) -> int:
        return self.id

    @property
    def agent_name(self) -> str:
        if self.agent_id is None:
            return ""
        full = f"{self.agent_first_name or ''} {self.agent_last_name or ''}".strip()
        return full or self.agent_username or ""

    def get_channel_display(self) -> str:
        return str(_CHANNEL_LABELS.get(self.channel, self.channel))

    def get_kind_display(self) -> str:
        return str(_KIND_LABELS.get(self.kind, self.kind))

    def get_direction_display(self) -> str:
        return str(_DIRECTION_LABELS.get(self.direction, self.direction))


@dataclass(frozen=True)
class TimelineCursor:
    """Where a timeline page stops: the last entry's ``(occurred_at, id)``; encoded as ``<µs>.<id>``."""

    occurred_at: datetime.datetime
    id: int

    def encode(self) -> str:
        micros = int(self.occurred_at.timestamp()) * 1_000_000 + self.occurred_at.microsecond
        return f"{micros}.{self.id}"

    @classmethod
    def decode(cls, value: str | None) -> TimelineCursor | None:
        """The cursor in ``value``, or None when it is missing or not one of ours (the first page)."""
        if not value:
            return None
        try:
            micros_text, id_text = value.split(".", 1)
            micros, pk = int(micros_text), int(id_text)
            at = datetime.datetime.fromtimestamp(micros // 1_000_000, tz=datetime.UTC).replace(
                microsecond=micros % 1_000_000
            )
        except (ValueError, OverflowError, OSError):
            return None
        return cls(occurred_at=at, id=pk)


@dataclass
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: str | None


@functools.cache
def _timeline_sql() -> str:
    """The page query, written once: the ORM spent longer compiling it (about 2 ms) than PostgreSQL
    planning and running it. Same columns and joins as ``TIMELINE_COLUMNS``; ``{where}`` is filled in."""
    from django.contrib.auth import get_user_model

    from channels.models import Case, Conversation

    columns = ", ".join(
        f"i.{column}" if "__" not in column else {
            "agent__username": "u.username", "agent__first_name": "u.first_name", "agent__last_name": "u.last_name",
            "case__number": "k.number", "conversation__subject": "v.subject",
        }[column]
        for column in TIMELINE_COLUMNS.values()
    )  # fmt: skip
    return (
        f"SELECT {columns} FROM {Interaction._meta.db_table} i"  # noqa: S608 - constants only
        f" LEFT JOIN {get_user_model()._meta.db_table} u ON u.id = i.agent_id"
        f" LEFT JOIN {Case._meta.db_table} k ON k.id = i.case_id"
        f" LEFT JOIN {Conversation._meta.db_table} v ON v.id = i.conversation_id"
        " WHERE {where} ORDER BY i.occurred_at DESC, i.id DESC LIMIT %s"
    )


def interaction_timeline(
    *,
    customer: Customer | int,
    channels: list[str] | None = None,
    kinds: list[str] | None = None,
    before: TimelineCursor | None = None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
    limit: int = TIMELINE_PAGE_SIZE,
) -> TimelinePage:
    """One page of ``customer``'s timeline, newest first, in one query.

    ``channels`` / ``kinds`` keep only those values; ``before`` continues after a previous page's
    last entry. ``next_cursor`` is None on the last page. Entries carry their agent, case number and
    conversation subject (joined, not fetched one by one).
    """
    customer_id = customer.pk if isinstance(customer, Customer) else customer
    where, params = ["i.customer_id = %s"], [customer_id]
    if channels:
        where.append("i.channel = ANY(%s)")
        params.append(list(channels))
    if kinds:
        where.append("i.kind = ANY(%s)")
        params.append(list(kinds))
    if since is not None:
        where.append("i.occurred_at >= %s")
        params.append(since)
    if until is not None:
        where.append("i.occurred_at < %s")
        params.append(until)
    if before is not None:
        where.append("(i.occurred_at, i.id) < (%s, %s)")
        params += [before.occurred_at, before.id]
    params.append(limit + 1)
    with connection.cursor() as cursor:
        cursor.execute(_timeline_sql().format(where=" AND ".join(where)), params)
        rows = [TimelineEntry(*row) for row in cursor.fetchall()]
    for row in rows:
        if isinstance(row.metadata, str | bytes):  # jsonb arrives as text; JSONField would decode it
            row.metadata = json.loads(row.metadata)
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = TimelineCursor(rows[-1].occurred_at, rows[-1].pk).encode() if has_more and rows else None
    return TimelinePage(entries=rows, next_cursor=next_cursor)


def interaction_timeline_queryset(
    *,
    customer: Customer | int,
    channels: list[str] | None = None,
    kinds: list[str] | None = None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
) -> QuerySet[Interaction]:
    """The filtered timeline of one customer as model instances, newest first (the API pages it)."""
    return _filtered(customer=customer, channels=channels, kinds=kinds, since=since, until=until).select_related(
        "agent", "case"
    )


def _filtered(*, customer, channels, kinds, since, until) -> QuerySet[Interaction]:
    customer_id = customer.pk if isinstance(customer, Customer) else customer
    queryset = Interaction.objects.filter(customer_id=customer_id).order_by("-occurred_at", "-id")
    if channels:
        queryset = queryset.filter(channel__in=channels)
    if kinds:
        queryset = queryset.filter(kind__in=kinds)
    if since is not None:
        queryset = queryset.filter(occurred_at__gte=since)
    if until is not None:
        queryset = queryset.filter(occurred_at__lt=until)
    return queryset


@dataclass(frozen=True)
class ChannelCostLine:
    channel: str
    label: str
    count: int
    total: Decimal


@dataclass(frozen=True)
class CostOfService:
    lines: list[ChannelCostLine]
    count: int
    total: Decimal
    since: datetime.datetime


def customer_cost_of_service(*, customer: Customer | int, months: int = 12, now=None) -> CostOfService:
    """How many contacts the customer had per channel over the last ``months`` and what they cost.

    Internal notes are not contacts and are left out.
    One SQL aggregate (GROUP BY channel over the timeline index); lines sorted by total, highest first.
    """
    customer_id = customer.pk if isinstance(customer, Customer) else customer
    since = (now or timezone.now()) - datetime.timedelta(days=round(months * 365.25 / 12))
    rows = (
        Interaction.objects.filter(customer_id=customer_id, occurred_at__gte=since)
        .exclude(kind=InteractionKind.NOTE)
        .values("channel")
        .annotate(count=Count("id"), total=Sum("cost"))
        .order_by()
    )
    labels = dict(Interaction._meta.get_field("channel").choices)
    lines = sorted(
        (
            ChannelCostLine(row["channel"], str(labels.get(row["channel"], row["channel"])), row["count"],
                            row["total"] or Decimal("0"))
            for row in rows
        ),
        key=lambda line: (-line.total, -line.count, line.channel),
    )  # fmt: skip
    return CostOfService(lines=lines, count=sum(line.count for line in lines),
                         total=sum((line.total for line in lines), Decimal("0")), since=since)  # fmt: skip
