"""Reads of the service desk: the case list (filtered, keyset-paged), the supervisor's tables, "my work".

Each table is one query (aggregates with FILTER, select_related), so page cost does not grow with rows.
"""

from __future__ import annotations

import base64
import datetime
import json
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, Min, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.choices import (
    OPEN_CASE_STATUSES,
    CallbackStatus,
    CaseCategory,
    CasePriority,
    CaseStatus,
    ConversationKind,
    ConversationStatus,
    FollowUpStatus,
)
from channels.models import CallbackRequest, Case, Conversation, FollowUp, Interaction, Queue, QueueMember
from channels.services.interactions import html_sanitise
from channels.services.sla import PARIS, business_minutes_between, sla_remaining_label

PAGE_SIZE = 50
MY_WORK_LIMIT = 200


@dataclass
class CaseFilters:
    """What the case list and ``GET /api/v1/cases/`` filter on (all optional)."""

    status: str = ""  # a status, or "open" for new+open+waiting
    queue: int | None = None
    assignee: str = ""  # a user id, "me" or "none"
    category: str = ""
    priority: str = ""
    breached: str = ""  # "any", "first_response", "resolution"
    customer: int | None = None
    q: str = ""

    @classmethod
    def from_params(cls, params) -> CaseFilters:
        def integer(name):
            value = (params.get(name) or "").strip()
            return int(value) if value.isdigit() else None

        return cls(
            status=(params.get("status") or "").strip(),
            queue=integer("queue"),
            assignee=(params.get("assignee") or "").strip(),
            category=(params.get("category") or "").strip(),
            priority=(params.get("priority") or "").strip(),
            breached=(params.get("breached") or "").strip(),
            customer=integer("customer"),
            q=(params.get("q") or "").strip(),
        )

    @property
    def is_filtered(self) -> bool:
        return any([self.status, self.queue, self.assignee, self.category, self.priority, self.breached,
                    self.customer, self.q])  # fmt: skip


def case_list_queryset(*, filters: CaseFilters, user) -> QuerySet[Case]:
    """Cases matching ``filters`` with what a list row shows (customer, queue, assignee) joined."""
    cases = Case.objects.select_related("customer", "queue", "assignee")
    if filters.status == "open":
        cases = cases.filter(status__in=OPEN_CASE_STATUSES)
    elif filters.status in CaseStatus.values:
        cases = cases.filter(status=filters.status)
    if filters.queue:
        cases = cases.filter(queue_id=filters.queue)
    if filters.assignee == "me":
        cases = cases.filter(assignee=user)
    elif filters.assignee == "none":
        cases = cases.filter(assignee__isnull=True)
    elif filters.assignee.isdigit():
        cases = cases.filter(assignee_id=int(filters.assignee))
    if filters.category in CaseCategory.values:
        cases = cases.filter(category=filters.category)
    if filters.priority in CasePriority.values:
        cases = cases.filter(priority=filters.priority)
    if filters.breached == "first_response":
        cases = cases.filter(first_response_breached=True)
    elif filters.breached == "resolution":
        cases = cases.filter(resolution_breached=True)
    elif filters.breached:
        cases = cases.filter(Q(first_response_breached=True) | Q(resolution_breached=True))
    if filters.customer:
        cases = cases.filter(customer_id=filters.customer)
    if filters.q:
        # Case numbers are generated in capitals ("CS-0000042"): an exact match on the upper-cased
        # query uses the number index; the subject search uses the trigram index on UPPER(subject).
        query = filters.q
        number = Q(number=query.upper())
        cases = cases.filter(number | Q(subject__icontains=query)) if len(query) > 2 else cases.filter(number)
    return cases


@dataclass
class CasePage:
    rows: list
    next_cursor: str | None
    has_previous: bool


def _cursor_encode(created_at: datetime.datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([created_at.isoformat(), pk]).encode()).decode().rstrip("=")


def _cursor_decode(cursor: str) -> tuple[datetime.datetime, int] | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return datetime.datetime.fromisoformat(created), int(pk)
    except (ValueError, TypeError, json.JSONDecodeError):
        return None


def case_page(*, queryset: QuerySet[Case], cursor: str | None = None, size: int = PAGE_SIZE) -> CasePage:
    """One page, newest first, after ``cursor`` (keyset on created_at, id: no OFFSET, no COUNT)."""
    queryset = queryset.order_by("-created_at", "-id")
    after = _cursor_decode(cursor) if cursor else None
    if after is not None:
        created, pk = after
        queryset = queryset.filter(Q(created_at__lt=created) | Q(created_at=created, id__lt=pk))
    rows = list(queryset[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        next_cursor = _cursor_encode(rows[-1].created_at, rows[-1].pk)
    return CasePage(rows=rows, next_cursor=next_cursor, has_previous=after is not None)


@dataclass
class SlaClock:
    label: str
    due_at: datetime.datetime | None
    minutes_left: int | None
    is_met: bool = False
    is_breached: bool = False
    met_at: datetime.datetime | None = None

    @property
    def text(self) -> str:
        if self.due_at is None:
            return _("no SLA")
        if self.is_met:
            return _("met")
        if self.minutes_left is None:
            return ""
        if self.minutes_left < 0 or self.is_breached:
            return _("overdue by %(time)s") % {"time": sla_remaining_label(self.minutes_left)}
        return _("%(time)s left") % {"time": sla_remaining_label(self.minutes_left)}


def case_sla_clocks(case: Case, *, now: datetime.datetime | None = None) -> list[SlaClock]:
    """The two SLA clocks of a case with the business time left (or overdue) now."""
    now = now or timezone.now()
    policy = case.sla_policy
    hours = {"day_start": policy.business_day_start, "day_end": policy.business_day_end} if policy else {}
    clocks = []
    for label, due, done, breached in (
        (_("First response"), case.first_response_due_at, case.first_responded_at, case.first_response_breached),
        (_("Resolution"), case.resolution_due_at, case.resolved_at, case.resolution_breached),
    ):
        met = done is not None and (due is None or done <= due)
        left = None
        if due is not None and done is None:
            left = business_minutes_between(now, due, **hours)
        clocks.append(SlaClock(label=label, due_at=due, minutes_left=left, is_met=met,
                               is_breached=breached or (done is not None and due is not None and done > due),
                               met_at=done))  # fmt: skip
    return clocks


def case_thread(case: Case) -> list[Interaction]:
    """The interactions of the case, oldest first, each with ``safe_body``.

    Bodies were sanitised when recorded; they are cleaned again here because rows written by bulk
    loads or older code did not go through ``interaction_record`` (defence in depth for the agent).
    """
    thread = list(Interaction.objects.filter(case=case).select_related("agent").order_by("occurred_at", "id"))
    for item in thread:
        item.safe_body = html_sanitise(item.body) if item.body else ""
    return thread


def reply_links(case: Case) -> list[dict]:
    """Links to the email and SMS composers when those areas are installed (hidden otherwise)."""
    if case.customer_id is None:
        return []
    links = []
    for url_name, label, icon in (("channels:email_compose", _("Reply by email"), "envelope"),
                                  ("channels:sms_compose", _("Reply by SMS"), "device-phone-mobile")):  # fmt: skip
        try:
            url = reverse(url_name, kwargs={"pk": case.customer_id})
        except NoReverseMatch:
            continue
        links.append({"url": f"{url}?case={case.pk}", "label": label, "icon": icon})
    return links


def desk_assignees() -> QuerySet:
    """Staff who can be given a case: active users who are queue members or whose role may change cases.

    EXISTS subqueries rather than joins: joining the case table to find past assignees would read every
    case on each page that shows the picker.
    """
    from django.contrib.auth.models import Permission
    from django.db.models import Exists, OuterRef

    user_model = get_user_model()
    can_change = Permission.objects.filter(codename="change_case", content_type__app_label="channels")
    in_group = user_model.groups.through.objects.filter(user_id=OuterRef("pk"), group__permissions__in=can_change)
    member = QueueMember.objects.filter(user_id=OuterRef("pk"))
    return (
        user_model.objects.filter(is_active=True)
        .filter(Exists(member) | Exists(in_group) | Q(is_superuser=True))
        .order_by("first_name", "last_name", "username")
    )


def staff_search(q: str, *, limit: int) -> list:
    """Assignable staff whose first name, last name or username contains every word of ``q`` (at
    most ``limit`` + 1 rows: the extra one says "more match")."""
    people = desk_assignees()
    for word in (q or "").split()[:4]:
        people = people.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(username__icontains=word)
        )
    return list(people.only("id", "username", "first_name", "last_name", "email")[: limit + 1])


def staff_labels(values) -> dict[str, str]:
    """``{id: name}`` of the staff ids given (the names a picker shows for its current value)."""
    ids = [int(value) for value in values if str(value).isdigit()]
    users = get_user_model().objects.filter(pk__in=ids).only("id", "username", "first_name", "last_name")
    return {str(user.pk): user.get_full_name() or user.username for user in users}


# -- the supervisor's view ------------------------------------------------------------------


def _paris_day_end(now: datetime.datetime) -> datetime.datetime:
    local = now.astimezone(PARIS)
    return datetime.datetime.combine(local.date() + datetime.timedelta(days=1), datetime.time(0, 0), tzinfo=PARIS)


def _open_cases() -> QuerySet[Case]:
    # Every supervisor figure reads open cases only, through the partial indexes on them.
    return Case.objects.filter(status__in=OPEN_CASE_STATUSES)


def supervisor_queues(*, now: datetime.datetime | None = None) -> list[Queue]:
    """Per active queue: open, unassigned, due today, breached (both kinds), oldest waiting.

    Two queries: the active queues, and the open cases grouped by queue (an index-only scan of the
    partial index ``case_open_load``; closed cases are never read).
    """
    now = now or timezone.now()
    unassigned = Q(assignee__isnull=True)
    figures = {
        row.pop("queue_id"): row
        for row in _open_cases()
        .filter(queue__isnull=False)
        .values("queue_id")
        .annotate(
            open_count=Count("queue"),
            unassigned_count=Count("queue", filter=unassigned),
            due_today_count=Count("queue", filter=Q(resolution_due_at__lt=_paris_day_end(now))),
            first_response_breached_count=Count("queue", filter=Q(first_response_breached=True)),
            resolution_breached_count=Count("queue", filter=Q(resolution_breached=True)),
            oldest_waiting_at=Min("created_at", filter=unassigned),
        )
        .order_by()
    }
    empty = {"open_count": 0, "unassigned_count": 0, "due_today_count": 0, "first_response_breached_count": 0,
             "resolution_breached_count": 0, "oldest_waiting_at": None}  # fmt: skip
    queues = list(Queue.objects.filter(is_active=True).order_by("name"))
    for queue in queues:
        for name, value in figures.get(queue.pk, empty).items():
            setattr(queue, name, value)
    return queues


def supervisor_agents() -> list[dict]:
    """Per agent holding open cases, in one query: open cases, breached ones, next resolution due."""
    return list(
        _open_cases()
        .filter(assignee__isnull=False)
        .values("assignee_id", "assignee__username", "assignee__first_name", "assignee__last_name")
        .annotate(
            open_count=Count("assignee"),
            breached_count=Count("assignee", filter=Q(first_response_breached=True) | Q(resolution_breached=True)),
            next_due_at=Min("resolution_due_at"),
        )
        .order_by("-breached_count", "-open_count", "assignee__username")
    )


def supervisor_attention(*, limit: int = 50) -> list[Case]:
    """Open cases needing a supervisor: breached or unassigned, the most overdue first."""
    return list(
        _open_cases()
        .filter(Q(assignee__isnull=True) | Q(first_response_breached=True) | Q(resolution_breached=True))
        .select_related("customer", "queue", "assignee")
        .order_by("resolution_due_at", "created_at")[:limit]
    )


# -- my work --------------------------------------------------------------------------------


@dataclass
class WorkItem:
    kind: str  # case, callback, chat, follow_up
    kind_label: str
    title: str
    due_at: datetime.datetime | None
    url: str
    customer: object = None
    detail: str = ""
    is_late: bool = False
    object: object = field(default=None, repr=False)


def _url(name: str, **kwargs) -> str:
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return ""


def my_work(*, user, now: datetime.datetime | None = None) -> list[WorkItem]:
    """Everything waiting for ``user``, one list sorted by due time (undated items last).

    Open cases assigned to them (due: resolution), call-backs assigned to them or waiting unassigned
    in their queues (due: preferred from), chats assigned to them or waiting (due: waiting since), and
    their open follow-up tasks (due). Four queries, whatever the number of items.
    """
    now = now or timezone.now()
    items: list[WorkItem] = []
    my_queues = QueueMember.objects.filter(user=user).values("queue_id")
    for case in (
        Case.objects.filter(assignee=user, status__in=OPEN_CASE_STATUSES)
        .select_related("customer")
        .order_by("resolution_due_at")[:MY_WORK_LIMIT]
    ):
        items.append(WorkItem("case", _("Case"), f"{case.number} · {case.subject}", case.resolution_due_at,
                              case.get_absolute_url(), case.customer, case.get_status_display(),
                              bool(case.resolution_due_at and case.resolution_due_at < now) or case.resolution_breached,
                              case))  # fmt: skip
    callbacks = (
        CallbackRequest.objects.filter(
            Q(assignee=user, status__in=[CallbackStatus.REQUESTED, CallbackStatus.ASSIGNED])
            | Q(assignee__isnull=True, status=CallbackStatus.REQUESTED, queue_id__in=my_queues)
        )
        .select_related("customer")
        .order_by("preferred_from")[:MY_WORK_LIMIT]
    )
    for callback in callbacks:
        detail = _("in my queue") if callback.assignee_id is None else _("assigned to me")
        url = _url("channels:console") or (callback.customer.get_absolute_url() if callback.customer else "")
        items.append(WorkItem("callback", _("Call-back"), f"{callback.phone} · {callback.reason}",
                              callback.preferred_from, url, callback.customer, detail,
                              callback.preferred_to < now, callback))  # fmt: skip
    chats = (
        Conversation.objects.filter(kind=ConversationKind.CHAT)
        .filter(
            Q(assignee=user, status__in=[ConversationStatus.WAITING, ConversationStatus.OPEN])
            | Q(assignee__isnull=True, status=ConversationStatus.WAITING, queue_id__in=my_queues)
        )
        .select_related("customer")
        .order_by("created_at")[:MY_WORK_LIMIT]
    )
    for chat in chats:
        url = (
            _url("channels:chat_detail", pk=chat.pk)
            or _url("channels:console")
            or (chat.customer.get_absolute_url() if chat.customer else "")
        )
        title = chat.subject or chat.visitor_name or _("Web visitor")
        items.append(WorkItem("chat", _("Chat"), title, chat.created_at, url, chat.customer,
                              chat.get_status_display(), chat.status == ConversationStatus.WAITING, chat))  # fmt: skip
    for task in (
        FollowUp.objects.filter(assignee=user, status=FollowUpStatus.OPEN)
        .select_related("customer", "case")
        .order_by("due_at")[:MY_WORK_LIMIT]
    ):
        url = (
            task.case.get_absolute_url()
            if task.case_id and task.case
            else (task.customer.get_absolute_url() if task.customer else "")
        )
        items.append(WorkItem("follow_up", _("Follow-up"), task.title, task.due_at, url, task.customer, "",
                              task.due_at < now, task))  # fmt: skip
    far = datetime.datetime.max.replace(tzinfo=datetime.UTC)
    items.sort(key=lambda item: (item.due_at or far, item.kind))
    return items


def customer_cases(*, customer, user=None, recent_closed: int = 5) -> dict:
    """The 360 side panel: every open case (soonest due first) and the latest closed ones. Two queries."""
    base = Case.objects.filter(customer=customer).select_related("assignee")
    open_cases = list(base.filter(status__in=OPEN_CASE_STATUSES).order_by("resolution_due_at", "-created_at"))
    closed = list(base.exclude(status__in=OPEN_CASE_STATUSES).order_by("-created_at")[:recent_closed])
    return {"open_cases": open_cases, "closed_cases": closed, "now": timezone.now()}
