# ruff: noqa: S608 -- SQL here wraps the compiler's output (code-written fragments, values as parameters).
"""Reads of segments: live counts (estimated first, exact when cheap), samples, members, the list's trends."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import OperationalError, connection, transaction
from django.db.models import QuerySet
from django.http import Http404

from campaigns.models import Segment, SegmentMember, SegmentSizeSnapshot
from campaigns.segments.compiler import CompiledSegment
from campaigns.services.segments import segment_rules_compile
from customers.models import Customer

EXACT_COUNT_TIMEOUT_MS = 3000
SAMPLE_SIZE = 20
TREND_POINTS = 20


def segment_get_for_user(*, user, pk: int, permission: str = "campaigns.view_segment") -> Segment:
    """The segment, if ``user`` holds ``permission`` (403 otherwise; 404 for a segment that does not exist)."""
    if not (user.is_authenticated and user.is_active and user.has_perm(permission)):
        raise PermissionDenied
    segment = Segment.objects.select_related("owner").filter(pk=pk).first()
    if segment is None:
        raise Http404
    return segment


@dataclass(frozen=True)
class SegmentCount:
    value: int
    is_estimate: bool = False


def _estimate(compiled: CompiledSegment) -> int:
    sql, params = compiled.select_ids()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


def segment_count(*, rules, segment_id: int | None = None, exact: bool = True,
                  timeout_ms: int = EXACT_COUNT_TIMEOUT_MS) -> SegmentCount:  # fmt: skip
    """How many live customers ``rules`` match: exact within ``timeout_ms``, else the planner's estimate.

    Raises ``ApplicationError`` (``invalid_rule``, naming the path) for a rule outside the whitelist.
    """
    compiled = segment_rules_compile(rules=rules, segment_id=segment_id)
    if not exact:
        return SegmentCount(_estimate(compiled), is_estimate=True)
    sql, params = compiled.count()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(int(timeout_ms))])
            cursor.execute(sql, params)
            return SegmentCount(cursor.fetchone()[0])
    except OperationalError:  # statement timeout: a heavy rule on a large base
        return SegmentCount(_estimate(compiled), is_estimate=True)


def segment_sample(*, rules, segment_id: int | None = None, size: int = SAMPLE_SIZE) -> list[Customer]:
    """Up to ``size`` matching customers, newest first (two queries: the ids, then the rows)."""
    compiled = segment_rules_compile(rules=rules, segment_id=segment_id)
    sql, params = compiled.select_ids()
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} ORDER BY c.id DESC LIMIT %s", [*params, size])
        ids = [row[0] for row in cursor.fetchall()]
    customers = Customer.objects.in_bulk(ids)
    return [customers[pk] for pk in ids if pk in customers]


def segment_members_queryset(*, segment: Segment) -> QuerySet:
    """The segment's members as live customers (a semi-join on the member table's primary key)."""
    members = SegmentMember.objects.filter(segment_id=segment.pk).values("customer_id")
    return Customer.objects.live().filter(pk__in=members)


def segment_list(*, include_archived: bool = False) -> list[Segment]:
    """Segments with their owner and ``trend`` (the last sizes, oldest first): two queries whatever the count."""
    queryset = Segment.objects.select_related("owner")
    segments = list(queryset if include_archived else queryset.filter(is_archived=False))
    trends = segment_trends(segment_ids=[s.pk for s in segments])
    for segment in segments:
        segment.trend = trends.get(segment.pk, [])
    return segments


def segment_trends(*, segment_ids: list[int], points: int = TREND_POINTS) -> dict[int, list[int]]:
    """The last ``points`` sizes of each segment, oldest first, in one window query."""
    if not segment_ids:
        return {}
    table = SegmentSizeSnapshot._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT segment_id, size FROM (
                SELECT segment_id, size, measured_at,
                       row_number() OVER (PARTITION BY segment_id ORDER BY measured_at DESC, id DESC) AS n
                FROM {table} WHERE segment_id = ANY(%s)
            ) t WHERE n <= %s ORDER BY segment_id, measured_at, n DESC
            """,
            [segment_ids, points],
        )
        trends: dict[int, list[int]] = {}
        for segment_id, size in cursor.fetchall():
            trends.setdefault(segment_id, []).append(size)
    return trends


def sparkline_points(values: list[int], *, width: int = 100, height: int = 24) -> str:
    """SVG polyline points for a trend (a flat line for one value, nothing for none)."""
    if not values:
        return ""
    if len(values) == 1:
        values = values * 2
    low, high = min(values), max(values)
    span = (high - low) or 1
    step = width / (len(values) - 1)
    return " ".join(f"{i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}" for i, v in enumerate(values))
