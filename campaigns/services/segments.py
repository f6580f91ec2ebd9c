# ruff: noqa: S608 -- SQL here joins the compiler's output (fragments written in code, values as parameters)
# with table names from model metadata.
"""Every change to a segment: create, edit, archive, delete, static lists, and the set-based refresh.

The HTML views, the API, the Celery tasks and the admin call these functions; none repeats their
logic. A refresh is one transaction of three statements on the compiled query: who left (DELETE ...
WHERE NOT EXISTS), who entered (INSERT ... SELECT ... ON CONFLICT DO NOTHING), both logged in
``SegmentMembershipChange`` by the same statement, then the size and its snapshot.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Segment, SegmentMember, SegmentMembershipChange, SegmentSizeSnapshot
from campaigns.segments.compiler import CompiledSegment, SegmentRef, segment_compile
from campaigns.segments.registry import RuleError
from crm.errors import ApplicationError
from customers.choices import RecordSource
from customers.models import AttributeDefinition, Customer, SavedFilter
from customers.services.records import history_context

MEMBER = SegmentMember._meta.db_table
CHANGE = SegmentMembershipChange._meta.db_table
MAX_UPLOAD_LINES = 200_000
# Callables ``check(segment)`` that raise ``ApplicationError`` when a segment may not be deleted (a
# campaign's audience uses it): the campaigns' own module appends to it.
segment_delete_checks: list = []
UNMATCHED_SHOWN = 50


# -- Compiling against the database as it is ------------------------------------------------------


def segment_lookup(pk: int) -> SegmentRef | None:
    segment = Segment.objects.filter(pk=pk).only("pk", "name", "kind", "rules").first()
    if segment is None:
        return None
    return SegmentRef(pk=segment.pk, name=segment.name, kind=segment.kind, rules=segment.rules)


def attribute_types() -> dict[str, tuple[str, list[str]]]:
    return {d.key: (d.type, list(d.choices)) for d in AttributeDefinition.objects.all()}


def segment_rules_compile(*, rules, segment_id: int | None = None, now: datetime.datetime | None = None
                          ) -> CompiledSegment:  # fmt: skip
    """Compile ``rules`` with today's attribute definitions and segments; a bad rule is a 400 naming its path."""
    try:
        return segment_compile(rules, now=now or timezone.now(), attributes=attribute_types(),
                               segment_lookup=segment_lookup, segment_id=segment_id)  # fmt: skip
    except RuleError as error:
        raise ApplicationError("invalid_rule", f"{error.path}: {error.message}", field=error.path) from None


# -- Create, edit, archive, delete ------------------------------------------------------------------


def _name_clean(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ApplicationError("required", _("Give the segment a name."), field="name")
    if len(name) > 200:
        raise ApplicationError("too_long", _("A name has at most 200 characters."), field="name")
    return name


def _refresh_after_commit(segment: Segment) -> None:
    from campaigns.tasks.segments import segment_refresh_task

    segment_id = segment.pk
    transaction.on_commit(lambda: segment_refresh_task.delay(segment_id))


@transaction.atomic
def segment_create(*, name: str, rules: dict, acting_user, description: str = "",
                   source: str = RecordSource.AGENT) -> Segment:  # fmt: skip
    """Create a dynamic segment owned by ``acting_user``; its first refresh is queued after commit.

    Raises ``ApplicationError`` for an empty name or a rule outside the whitelist (``field`` is the
    rule's path). The change is recorded in the segment's history with the acting user.
    """
    name = _name_clean(name)
    segment_rules_compile(rules=rules)
    with history_context(acting_user=acting_user, source=source):
        segment = Segment.objects.create(name=name, description=description or "", rules=rules,
                                         kind=Segment.Kind.DYNAMIC, source=Segment.Source.RULES,
                                         owner=acting_user, refresh_status=Segment.RefreshStatus.QUEUED)  # fmt: skip
    _refresh_after_commit(segment)
    return segment


@transaction.atomic
def segment_update(*, segment: Segment, acting_user, name: str | None = None, description: str | None = None,
                   rules: dict | None = None, source: str = RecordSource.AGENT) -> Segment:  # fmt: skip
    """Change a segment's name, description or rules (rules: dynamic segments only; a refresh follows).

    A rule naming this segment, directly or through other segments, is refused as a cycle.
    """
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    changed_rules = rules is not None and rules != segment.rules
    if changed_rules:
        if not segment.is_dynamic:
            raise ApplicationError("static_segment", _("A static segment has no rules to change."), field="rules")
        segment_rules_compile(rules=rules, segment_id=segment.pk)
        segment.rules = rules
        segment.refresh_status = Segment.RefreshStatus.QUEUED
    if name is not None:
        segment.name = _name_clean(name)
    if description is not None:
        segment.description = description
    with history_context(acting_user=acting_user, source=source):
        segment.save()
    if changed_rules:
        _refresh_after_commit(segment)
    return segment


def _referencing(segment_id: int) -> list[Segment]:
    """Segments whose rules name this one (the segment table is small: read it whole)."""

    def names(node) -> bool:
        if isinstance(node, dict):
            if node.get("field") == "segment" and str(node.get("value")) == str(segment_id):
                return True
            return any(names(child) for child in node.values() if isinstance(child, (dict, list)))
        if isinstance(node, list):
            return any(names(child) for child in node)
        return False

    return [s for s in Segment.objects.exclude(pk=segment_id).only("pk", "name", "rules") if names(s.rules)]


@transaction.atomic
def segment_delete(*, segment: Segment, acting_user) -> None:
    """Delete a segment and its members; refused while another segment's rules name it."""
    users = _referencing(segment.pk)
    if users:
        raise ApplicationError("segment_in_use", _("Segment “%(other)s” uses this segment in its rules.")
                               % {"other": users[0].name}, status_code=409)  # fmt: skip
    for check in segment_delete_checks:
        check(segment)
    with history_context(acting_user=acting_user, source=RecordSource.AGENT):
        SegmentMember.objects.filter(segment=segment).delete()
        segment.delete()


@transaction.atomic
def segment_archive(*, segment: Segment, acting_user, archived: bool = True) -> Segment:
    """Hide a segment from lists and schedules (archived segments are not refreshed); reversible."""
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    segment.is_archived = archived
    with history_context(acting_user=acting_user, source=RecordSource.AGENT):
        segment.save(update_fields=["is_archived", "updated_at"])
    return segment


# -- Refresh -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefreshResult:
    segment_id: int
    size: int
    entered: int
    left: int
    duration_ms: int


@transaction.atomic
def segment_refresh_request(*, segment: Segment, acting_user) -> Segment:
    """Queue a refresh of a dynamic segment (the task runs after commit); a static segment is refused."""
    if not segment.is_dynamic:
        raise ApplicationError("static_segment", _("A static segment is a frozen list: it is not refreshed."))
    Segment.objects.filter(pk=segment.pk).update(refresh_status=Segment.RefreshStatus.QUEUED)
    segment.refresh_status = Segment.RefreshStatus.QUEUED
    _refresh_after_commit(segment)
    return segment


def segment_materialise(*, segment_id: int, now: datetime.datetime | None = None) -> RefreshResult | None:
    """Re-evaluate a dynamic segment's rules and bring its members in line, set-based, in one transaction.

    The segment row is locked for the refresh, so two refreshes of one segment run one after the
    other (the second finds nothing to change). Who left and who entered are logged with the same
    timestamp; the size and a snapshot are written. Returns None for a segment that no longer exists,
    is static or archived. A rule that no longer compiles (an attribute definition deleted) marks the
    segment ``failed`` with the message and changes no member.
    """
    now = now or timezone.now()
    started = time.perf_counter()
    try:
        with transaction.atomic():
            segment = Segment.objects.select_for_update(no_key=True).filter(pk=segment_id).first()
            if segment is None or not segment.is_dynamic or segment.is_archived:
                return None
            Segment.objects.filter(pk=segment_id).update(refresh_status=Segment.RefreshStatus.RUNNING)
            compiled = segment_rules_compile(rules=segment.rules, segment_id=segment.pk, now=now)
            left, entered = _members_replace(segment.pk, compiled, now)
            return _refresh_finish(segment, now=now, entered=entered, left=left, started=started)
    except ApplicationError as error:
        Segment.objects.filter(pk=segment_id).update(refresh_status=Segment.RefreshStatus.FAILED,
                                                     refresh_error=error.message)  # fmt: skip
        return None


def _members_replace(segment_id: int, compiled: CompiledSegment, now: datetime.datetime) -> tuple[int, int]:
    """Two statements: DELETE who no longer matches, INSERT who newly matches; each logs its changes."""
    select, params = compiled.select_ids()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH target AS MATERIALIZED ({select}),
            gone AS (
                DELETE FROM {MEMBER} m WHERE m.segment_id = %s
                AND NOT EXISTS (SELECT 1 FROM target t WHERE t.customer_id = m.customer_id)
                RETURNING m.customer_id
            ),
            arrived AS (
                INSERT INTO {MEMBER} (segment_id, customer_id, added_at)
                SELECT %s, t.customer_id, %s FROM target t
                WHERE NOT EXISTS (SELECT 1 FROM {MEMBER} m WHERE m.segment_id = %s AND m.customer_id = t.customer_id)
                ON CONFLICT DO NOTHING
                RETURNING customer_id
            ),
            logged AS (
                INSERT INTO {CHANGE} (segment_id, customer_id, change, occurred_at)
                SELECT %s, customer_id, 'left', %s FROM gone
                UNION ALL SELECT %s, customer_id, 'entered', %s FROM arrived
                RETURNING change
            )
            SELECT count(*) FILTER (WHERE change = 'left'), count(*) FILTER (WHERE change = 'entered') FROM logged
            """,
            [*params, segment_id, segment_id, now, segment_id, segment_id, now, segment_id, now],
        )
        left, entered = cursor.fetchone()
    return left, entered


def _refresh_finish(segment: Segment, *, now, entered: int, left: int, started: float) -> RefreshResult:
    # The row is locked since before the two statements: the previous size plus the difference is exact.
    size = max(segment.size + entered - left, 0)
    duration_ms = int((time.perf_counter() - started) * 1000)
    Segment.objects.filter(pk=segment.pk).update(
        size=size,
        last_refreshed_at=now,
        last_refresh_ms=duration_ms,
        refresh_status=Segment.RefreshStatus.IDLE,
        refresh_error="",
    )
    SegmentSizeSnapshot.objects.create(segment_id=segment.pk, measured_at=now, size=size, entered=entered, left=left,
                                       duration_ms=duration_ms)  # fmt: skip
    return RefreshResult(segment_id=segment.pk, size=size, entered=entered, left=left, duration_ms=duration_ms)


def segments_due_for_refresh(*, now: datetime.datetime | None = None, every_minutes: int | None = None) -> list[int]:
    """Ids of the dynamic, live segments whose last refresh is older than ``SEGMENT_REFRESH_MINUTES``."""
    from django.conf import settings
    from django.db.models import Q

    now = now or timezone.now()
    minutes = every_minutes if every_minutes is not None else getattr(settings, "SEGMENT_REFRESH_MINUTES", 60)
    cutoff = now - datetime.timedelta(minutes=minutes)
    due = Segment.objects.filter(kind=Segment.Kind.DYNAMIC, is_archived=False).filter(
        Q(last_refreshed_at__isnull=True) | Q(last_refreshed_at__lt=cutoff)
    )
    return list(due.order_by("last_refreshed_at", "pk").values_list("pk", flat=True))


# -- Static segments ---------------------------------------------------------------------------------


@dataclass
class StaticListReport:
    segment: Segment
    lines: int
    matched: int
    unmatched: list[tuple[int, str, str]] = field(default_factory=list)  # (line, value, reason)
    unmatched_count: int = 0


def identifiers_parse(text: str) -> list[str]:
    """One account number or email per line (a CSV's first column; a header line is skipped)."""
    import csv
    import io

    values = []
    for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))):
        cell = (row[0] if row else "").strip()
        values.append(cell)
    if values and values[0].lower() in {"account_number", "account number", "email", "numéro de compte", "e-mail"}:
        values[0] = ""
    return values


def _resolve(values: list[str]) -> tuple[dict[int, int], list[tuple[int, str, str]]]:
    """Line number -> customer id for the matched lines, and the unmatched lines with the reason."""
    from customers.services.identity import Outcome, evidence_build, identity_resolve_many

    evidence, lines, unmatched = [], [], []
    for line, value in enumerate(values, start=1):
        if not value:
            continue
        try:
            if "@" in value:
                evidence.append(evidence_build(email=value))
            else:
                evidence.append(evidence_build(account_number=value))
            lines.append((line, value))
        except ApplicationError as error:
            unmatched.append((line, value, error.message))
    matched = {}
    for start in range(0, len(evidence), 5000):
        decisions = identity_resolve_many(evidence[start : start + 5000])
        for (line, value), decision in zip(lines[start : start + 5000], decisions, strict=True):
            if decision.outcome == Outcome.MATCH and decision.customer_id:
                matched[line] = decision.customer_id
            else:
                unmatched.append((line, value, _("No customer has this account number or email.")))
    unmatched.sort()
    return matched, unmatched


def _static_create(*, name: str, description: str, source: str, detail: dict, acting_user) -> Segment:
    with history_context(acting_user=acting_user, source=RecordSource.AGENT):
        return Segment.objects.create(name=_name_clean(name), description=description or "", rules={},
                                      kind=Segment.Kind.STATIC, source=source, source_detail=detail,
                                      owner=acting_user)  # fmt: skip


def _static_fill(segment: Segment, select_sql: str, params: Iterable) -> int:
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH arrived AS (
                INSERT INTO {MEMBER} (segment_id, customer_id, added_at)
                SELECT DISTINCT %s, x.customer_id, %s FROM ({select_sql}) x ON CONFLICT DO NOTHING
                RETURNING customer_id
            )
            INSERT INTO {CHANGE} (segment_id, customer_id, change, occurred_at)
            SELECT %s, customer_id, 'entered', %s FROM arrived
            """,
            [segment.pk, now, *params, segment.pk, now],
        )
        entered = cursor.rowcount
    Segment.objects.filter(pk=segment.pk).update(size=entered, last_refreshed_at=now)
    SegmentSizeSnapshot.objects.create(segment=segment, measured_at=now, size=entered, entered=entered)
    segment.refresh_from_db()
    return entered


@transaction.atomic
def segment_static_from_list(*, name: str, text: str, acting_user, description: str = "",
                             filename: str = "") -> StaticListReport:  # fmt: skip
    """A static segment of the customers an uploaded list names (account numbers or emails, one per line).

    Each line goes through the identity resolution (``identity_resolve_many``): only a match is
    added; merged customers are followed to their survivor. Lines that match no one are reported
    (line, value, reason), not guessed. Refused when no line matches.
    """
    values = identifiers_parse(text)
    if len(values) > MAX_UPLOAD_LINES:
        raise ApplicationError("too_many_lines", _("A list holds at most %(max)s lines.") % {"max": MAX_UPLOAD_LINES},
                               field="file")  # fmt: skip
    matched, unmatched = _resolve(values)
    if not matched:
        raise ApplicationError("nothing_matched", _("No line of the list matches a customer."), field="file")
    detail = {
        "filename": filename[:200],
        "lines": sum(1 for v in values if v),
        "matched": len(matched),
        "unmatched": len(unmatched),
        "unmatched_sample": [list(u) for u in unmatched[:UNMATCHED_SHOWN]],
    }
    segment = _static_create(name=name, description=description, source=Segment.Source.UPLOAD, detail=detail,
                             acting_user=acting_user)  # fmt: skip
    ids = sorted(set(matched.values()))
    _static_fill(segment, "SELECT unnest(%s::bigint[]) AS customer_id", [ids])
    return StaticListReport(segment=segment, lines=detail["lines"], matched=len(matched),
                            unmatched=unmatched[:UNMATCHED_SHOWN], unmatched_count=len(unmatched))  # fmt: skip


@transaction.atomic
def segment_static_from_filter(*, name: str, saved_filter: SavedFilter, acting_user, description: str = ""
                               ) -> Segment:  # fmt: skip
    """A static segment of the customers a saved customer-list filter finds now (one INSERT ... SELECT)."""
    from customers.selectors_list import CustomerFilter

    filterset = CustomerFilter(QueryDict(saved_filter.query), queryset=Customer.objects.live())
    if not filterset.is_valid():
        raise ApplicationError("invalid_filter", _("This saved filter is no longer valid."), field="saved_filter")
    # values_list of "id" (not "pk", which Django aliases "pk" in the SQL): the column read below.
    sql, params = filterset.qs.order_by().values_list("id", flat=True).query.sql_with_params()
    detail = {"saved_filter": saved_filter.pk, "saved_filter_name": saved_filter.name, "query": saved_filter.query}
    segment = _static_create(name=name, description=description, source=Segment.Source.SAVED_FILTER,
                             detail=detail, acting_user=acting_user)  # fmt: skip
    _static_fill(segment, f"SELECT s.id AS customer_id FROM ({sql}) s", params)
    return segment


# -- Merges ----------------------------------------------------------------------------------------


def segment_members_merge(survivor: Customer, duplicate: Customer) -> None:
    """Merge hook: the duplicate's memberships move to the survivor, once per segment."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {MEMBER} d WHERE d.customer_id = %s AND EXISTS "
            f"(SELECT 1 FROM {MEMBER} s WHERE s.customer_id = %s AND s.segment_id = d.segment_id)",
            [duplicate.pk, survivor.pk],
        )
        cursor.execute(f"UPDATE {MEMBER} SET customer_id = %s WHERE customer_id = %s", [survivor.pk, duplicate.pk])
