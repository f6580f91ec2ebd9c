"""Service desk screens: case list, create, detail and its actions; queues; supervisor; my work.

Thin: forms check shapes, ``channels.services.cases`` / ``assignment`` write, selectors read.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from channels.access import case_get_for_user, follow_up_get_for_user
from channels.choices import CaseCategory, CasePriority, CaseStatus
from channels.forms_desk import (
    CaseAssignForm,
    CaseClassifyForm,
    CaseCreateForm,
    CaseNoteForm,
    CaseStatusForm,
    staff_picker,
)
from channels.models import Case, Queue, QueueMember, SatisfactionSurvey
from channels.selectors_desk import (
    CaseFilters,
    case_list_queryset,
    case_page,
    case_sla_clocks,
    case_thread,
    desk_assignees,
    my_work,
    reply_links,
    staff_search,
    supervisor_agents,
    supervisor_attention,
    supervisor_queues,
)
from channels.services import assignment, cases
from crm.access import staff_view
from crm.errors import ApplicationError
from crm.pickers import PICKER_RESULTS
from crm.redirects import redirect_next
from customers.access import customer_get_for_user
from customers.forms import form_add_application_error


def _case(request: HttpRequest, pk, action: str = "view") -> Case:
    return case_get_for_user(user=request.user, pk=pk, action=action)


@staff_view(permission="channels.view_case")
def case_list(request: HttpRequest) -> HttpResponse:
    """Cases, newest first, filtered (status, queue, assignee, category, priority, breach, customer)."""
    filters = CaseFilters.from_params(request.GET)
    page = case_page(queryset=case_list_queryset(filters=filters, user=request.user), cursor=request.GET.get("cursor"))
    next_params = request.GET.copy()
    if page.next_cursor:
        next_params["cursor"] = page.next_cursor
    context = {
        "filters": filters,
        "page": page,
        "next_query": next_params.urlencode() if page.next_cursor else "",
        "queues": Queue.objects.filter(is_active=True),
        "assignees": desk_assignees(),
        "statuses": CaseStatus.choices,
        "categories": CaseCategory.choices,
        "priorities": CasePriority.choices,
        "now": timezone.now(),
    }
    template = (
        "channels/desk/case_list.html#results" if getattr(request, "htmx", False) else "channels/desk/case_list.html"
    )
    return render(request, template, context)


def _create(request: HttpRequest, customer) -> HttpResponse:
    form = CaseCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = cases.case_create_by_agent(acting_user=request.user, customer=customer, **data)
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            messages.success(request, _("Case %(number)s opened.") % {"number": case.number})
            return redirect(case.get_absolute_url())
    return render(request, "channels/desk/case_form.html", {"form": form, "customer": customer})


@staff_view(permission="channels.add_case")
def case_new(request: HttpRequest) -> HttpResponse:
    """Open a case not tied to a customer yet (a caller who would not give their name, an internal issue)."""
    return _create(request, None)


@staff_view(permission="channels.add_case")
def case_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a case for customer ``pk`` (the "Case" action above the 360 timeline)."""
    customer = customer_get_for_user(user=request.user, pk=pk)
    return _create(request, customer)


@staff_view(permission="channels.view_case")
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    survey = SatisfactionSurvey.objects.filter(case=case).first()
    can_change = request.user.has_perm("channels.change_case")
    context = {
        "case": case,
        "clocks": case_sla_clocks(case),
        "thread": case_thread(case),
        "survey": survey,
        "can_change": can_change,
        "transitions": cases.case_transitions(case) if can_change else [],
        "reply_links": reply_links(case) if request.user.has_perm("channels.reply_customer") else [],
        "assign_form": CaseAssignForm(initial={"assignee": case.assignee_id, "queue": case.queue_id}),
        "classify_form": CaseClassifyForm(initial={"category": case.category, "priority": case.priority}),
        "note_form": CaseNoteForm(),
    }
    return render(request, "channels/desk/case_detail.html", context)


def _refused(request: HttpRequest, error: ApplicationError) -> None:
    messages.error(request, error.message)


def _back(request: HttpRequest, case: Case):
    return redirect_next(request, case.get_absolute_url())


@staff_view(permission="channels.change_case")
@require_POST
def case_status(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk, "change")
    form = CaseStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a status."))
        return _back(request, case)
    if form.cleaned_data["status"] == case.status:
        messages.info(request, _("The case is already %(status)s.") % {"status": case.get_status_display()})
        return _back(request, case)
    try:
        case = cases.case_update(case=case, status=form.cleaned_data["status"], acting_user=request.user)
    except ApplicationError as error:
        _refused(request, error)
    else:
        label = case.get_status_display()
        messages.success(request, _("%(number)s is now %(status)s.") % {"number": case.number, "status": label})
    return _back(request, case)


@staff_view(permission="channels.change_case")
@require_POST
def case_assign(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk, "change")
    form = CaseAssignForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back(request, case)
    changes = {name: form.cleaned_data[name] for name in ("queue", "assignee") if name in request.POST}
    try:
        case = cases.case_update(case=case, acting_user=request.user, **changes)
    except ApplicationError as error:
        _refused(request, error)
    else:
        who = case.assignee.get_full_name() or case.assignee.username if case.assignee else _("nobody")
        messages.success(request, _("%(number)s assigned to %(who)s.") % {"number": case.number, "who": who})
    return _back(request, case)


@staff_view(permission="channels.change_case")
@require_POST
def case_classify(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk, "change")
    form = CaseClassifyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a category and a priority."))
        return _back(request, case)
    try:
        cases.case_update(case=case, acting_user=request.user, **form.cleaned_data)
    except ApplicationError as error:
        _refused(request, error)
    else:
        messages.success(request, _("Category and priority saved; due dates recomputed."))
    return _back(request, case)


@staff_view(permission="channels.change_case")
@require_POST
def case_note(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk, "change")
    form = CaseNoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write the note first."))
        return _back(request, case)
    try:
        with transaction.atomic():
            cases.case_note_add(case=case, text=form.cleaned_data["text"], acting_user=request.user)
    except ApplicationError as error:
        _refused(request, error)
    else:
        messages.success(request, _("Note added."))
    return _back(request, case)


# -- queues ---------------------------------------------------------------------------------


@staff_view(permission="channels.view_queue")
def queue_list(request: HttpRequest) -> HttpResponse:
    """Every active queue with its load, and the signed-in agent's memberships and availability."""
    mine = {m.queue_id: m for m in QueueMember.objects.filter(user=request.user)}
    queues = supervisor_queues()
    for queue in queues:
        queue.my_membership = mine.get(queue.pk)
    return render(request, "channels/desk/queues.html", {"queues": queues, "memberships": mine})


@staff_view(permission="channels.view_queue")
def queue_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One queue: its members (available or not) and its waiting unassigned cases, oldest first."""
    queue = get_object_or_404(Queue, pk=pk)
    members = list(queue.memberships.select_related("user").order_by("user__username"))
    waiting = list(
        Case.objects.filter(queue=queue, assignee__isnull=True, status__in=["new", "open", "waiting"])
        .select_related("customer")
        .order_by("created_at", "id")[:100]
    )
    membership = next((m for m in members if m.user_id == request.user.pk), None)
    context = {"queue": queue, "members": members, "waiting": waiting, "membership": membership,
               "now": timezone.now()}  # fmt: skip
    return render(request, "channels/desk/queue_detail.html", context)


@staff_view(permission="channels.use_console")
@require_POST
def queue_take_next(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Take next": the oldest unassigned case of the queue becomes mine."""
    queue = get_object_or_404(Queue, pk=pk)
    try:
        case = assignment.case_take_next(queue=queue, user=request.user)
    except ApplicationError as error:
        _refused(request, error)
        return redirect("channels:queue_detail", pk=queue.pk)
    if case is None:
        messages.info(request, _("Nothing is waiting in %(queue)s.") % {"queue": queue})
        return redirect("channels:queue_detail", pk=queue.pk)
    messages.success(request, _("%(number)s is yours.") % {"number": case.number})
    return redirect(case.get_absolute_url())


@staff_view(permission="channels.use_console")
@require_POST
def availability_set(request: HttpRequest) -> HttpResponse:
    """The agent marks themself available or away, in one queue (``queue``) or all of theirs."""
    is_available = request.POST.get("available") == "1"
    queue = None
    if request.POST.get("queue", "").isdigit():
        queue = get_object_or_404(Queue, pk=int(request.POST["queue"]))
    changed = assignment.queue_member_availability_set(user=request.user, is_available=is_available, queue=queue)
    if not changed:
        messages.error(request, _("You are not a member of any queue yet; ask a supervisor to add you."))
    elif is_available:
        messages.success(request, _("You are available: new cases can be assigned to you."))
    else:
        messages.success(request, _("You are away: no case will be assigned to you until you come back."))
    return redirect_next(request, "channels:queues")


# -- supervisor and my work ---------------------------------------------------------------


@staff_view(permission="channels.supervise_queues")
def supervisor(request: HttpRequest) -> HttpResponse:
    """Queue load and SLA breaches per queue and per agent; cases needing attention, reassignable here.

    The page polls itself every 30 seconds (htmx) for the queue and agent figures only: the attention
    list, with its reassignment forms, stays as it is while the supervisor works in it.
    """
    context = {"queues": supervisor_queues(), "agents": supervisor_agents(), "now": timezone.now()}
    if getattr(request, "htmx", False):
        return render(request, "channels/desk/supervisor.html#live", context)
    attention = supervisor_attention()
    # One staff search picker per row (no list of every staff member): the current names are known.
    names = {str(c.assignee_id): c.assignee.get_full_name() or c.assignee.username for c in attention if c.assignee}
    picker = staff_picker(**{"class": "form-control form-control-sm"})
    picker.labels = lambda values: {value: names.get(value, value) for value in values}
    for case in attention:
        attrs = {"id": f"assignee-{case.pk}", "aria_label": _("Assignee")}
        case.assignee_picker = picker.render("assignee", case.assignee_id, attrs=attrs)
    context["attention"] = attention
    return render(request, "channels/desk/supervisor.html", context)


@staff_view(permission="channels.change_case")
def staff_picker_hx(request: HttpRequest) -> HttpResponse:
    """The staff picker's options: assignable staff matching ``q`` (at most 20), and "Nobody"."""
    q = (request.GET.get("q") or "").strip()[:100]
    people = staff_search(q, limit=PICKER_RESULTS)
    items = [{"value": person.pk, "label": person.get_full_name() or person.username, "detail": person.username}
             for person in people[:PICKER_RESULTS]]  # fmt: skip
    context = {"items": items, "more": len(people) > PICKER_RESULTS, "q": q, "prefix": "staff-option",
               "label": _("Staff"), "empty_label": _("Nobody")}  # fmt: skip
    return render(request, "pickers/options.html", context)


@staff_view(permission="channels.use_console")
def my_work_view(request: HttpRequest) -> HttpResponse:
    items = my_work(user=request.user)
    memberships = list(QueueMember.objects.filter(user=request.user).select_related("queue"))
    return render(request, "channels/desk/my_work.html", {"items": items, "memberships": memberships,
                                                          "now": timezone.now()})  # fmt: skip


@staff_view(permission="channels.change_followup")
@require_POST
def follow_up_done(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of my follow-up tasks done (a supervisor may close anyone's)."""
    task = follow_up_get_for_user(user=request.user, pk=pk, action="change")
    try:
        cases.follow_up_done(follow_up=task, acting_user=request.user)
    except ApplicationError as error:
        _refused(request, error)
    else:
        messages.success(request, _("“%(title)s” done.") % {"title": task.title})
    return redirect_next(request, "channels:my_work")
