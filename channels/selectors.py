"""Reads of the timeline: one customer's interactions newest first (keyset pages) and their cost per channel.

The first page of the 360 timeline is an index range scan on ``interaction_timeline``
(customer_id, occurred_at DESC, id DESC); the next pages continue from a ``(occurred_at, id)`` cursor
with a row comparison, which PostgreSQL turns into the same range scan (no OFFSET, no COUNT).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import BooleanField, Count, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone

from channels.choices import InteractionKind
from channels.models import Interaction
from customers.models import Customer

TIMELINE_PAGE_SIZE = 50

# The columns a timeline entry shows; ``body`` is fetched too, shown on expand without another request.
TIMELINE_COLUMNS = [
    "id", "customer_id", "channel", "direction", "kind", "occurred_at", "subject", "summary", "body", "outcome",
    "duration_seconds", "cost", "currency", "external_id", "metadata", "agent__id", "agent__username",
    "agent__first_name", "agent__last_name", "case__id", "case__number", "case__status", "conversation__id",
    "conversation__subject",
]  # fmt: skip


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
    entries: list[Interaction]
    next_cursor: str | None


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
    queryset = interaction_timeline_queryset(customer=customer, channels=channels, kinds=kinds, since=since,
                                             until=until)  # fmt: skip
    if before is not None:
        queryset = queryset.filter(
            RawSQL(
                '("channels_interaction"."occurred_at", "channels_interaction"."id") < (%s, %s)',
                (before.occurred_at, before.id),
                output_field=BooleanField(),
            )
        )
    rows = list(queryset[: limit + 1])
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
    """The filtered timeline of one customer, newest first (the API pages it with its cursor)."""
    customer_id = customer.pk if isinstance(customer, Customer) else customer
    queryset = (
        Interaction.objects.filter(customer_id=customer_id)
        .select_related("agent", "case", "conversation")
        .only(*TIMELINE_COLUMNS)
        .order_by("-occurred_at", "-id")
    )
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
