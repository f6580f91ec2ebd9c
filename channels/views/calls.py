"""The agent's phone console: the live screen pop, recent calls, and what the agent does with a call.

Thin shells around ``channels.services.calls``. The forms inside the call card post with htmx and get
the re-rendered card back; without JavaScript they post normally and land back on the console.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from channels import realtime
from channels.services import calls as call_services
from channels.views.calls_card import CallOutcomeForm, ProspectForm, call_log_url, card_context
from crm.access import staff_view
from crm.errors import ApplicationError
from customers.access import customer_get_for_user

CONSOLE_PERMISSION = "channels.use_console"


def _card_context(request: HttpRequest, session, **forms_) -> dict:
    return card_context(session=session, user=request.user, **forms_)


def _card_response(request: HttpRequest, session, *, status: int = 200, **forms_) -> HttpResponse:
    if request.htmx:
        return render(request, "channels/calls/card.html", _card_context(request, session, **forms_), status=status)
    if status != 200:
        return _console(request, session=session, status=status, **forms_)
    return redirect("channels:console")


def _console(request: HttpRequest, *, session=None, status: int = 200, **forms_) -> HttpResponse:
    user = request.user
    session = session or call_services.call_current_for_agent(user=user)
    recent = call_services.calls_recent_for_agent(user=user)
    context = {
        "current_html": render_to_string(
            "channels/calls/card.html", _card_context(request, session, **forms_), request=request
        )
        if session
        else "",
        "recent": recent,
        "extension": getattr(getattr(user, "agent_profile", None), "extension", ""),
    }
    return render(request, "channels/calls/console.html", context, status=status)


@require_GET
@staff_view(permission=CONSOLE_PERMISSION)
def console(request: HttpRequest) -> HttpResponse:
    """The agent's phone console: the call in progress (live), recent calls, outbound call logging."""
    return _console(request)


@require_GET
@staff_view(permission=CONSOLE_PERMISSION)
def console_stream(request: HttpRequest) -> HttpResponse:
    """Server-sent events for the signed-in agent only: screen pops and toasts."""
    response = realtime.sse_response(request, [f"agent:{request.user.pk}"])
    # The stream reads Redis only; a thread serving it for a minute must not hold a database connection.
    if not connection.in_atomic_block:
        connection.close()
    return response


@require_GET
@staff_view(permission=CONSOLE_PERMISSION)
def call_card_hx(request: HttpRequest, pk: int) -> HttpResponse:
    """One call's card (re-read after a change, or opened from the recent calls)."""
    session = call_services.call_get_for_agent(user=request.user, pk=pk)
    if not request.htmx:
        return _console(request, session=session)
    return render(request, "channels/calls/card.html", _card_context(request, session))


@require_POST
@staff_view(permission="channels.add_interaction")
def call_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    """Log the outcome of a call (and optionally open a case)."""
    session = call_services.call_get_for_agent(user=request.user, pk=pk)
    form = CallOutcomeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        if data["open_case"] and not request.user.has_perm("channels.add_case"):
            form.add_error("open_case", _("Your role cannot open cases."))
        else:
            try:
                interaction = call_services.call_outcome_log(session=session, acting_user=request.user, **data)
            except ApplicationError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                message = _("Call logged.")
                if interaction.case_id:
                    message = _("Call logged; case %(number)s opened.") % {"number": interaction.case.number}
                if not request.htmx:
                    messages.success(request, message)
                session.refresh_from_db()
                return _card_response(request, session)
    return _card_response(request, session, status=400, outcome_form=form)


@require_POST
@staff_view(permission="customers.add_customer")
def call_prospect(request: HttpRequest, pk: int) -> HttpResponse:
    """Create a prospect from an unknown caller; the number becomes their phone."""
    session = call_services.call_get_for_agent(user=request.user, pk=pk)
    form = ProspectForm(request.POST)
    if form.is_valid():
        try:
            customer = call_services.call_prospect_create(session=session, acting_user=request.user,
                                                          **form.cleaned_data)  # fmt: skip
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            if not request.htmx:
                messages.success(request, _("Prospect %(name)s created.") % {"name": customer.display_name})
            session.refresh_from_db()
            return _card_response(request, session)
    return _card_response(request, session, status=400, prospect_form=form)


@require_GET
@staff_view(permission=CONSOLE_PERMISSION)
def call_link_search_hx(request: HttpRequest, pk: int) -> HttpResponse:
    """Customers matching the search box, each with a button linking this call to them."""
    from customers.search import customer_search

    session = call_services.call_get_for_agent(user=request.user, pk=pk)
    query = request.GET.get("q", "").strip()
    hits = customer_search(query=query, limit=8) if len(query) >= 2 else []
    return render(request, "channels/calls/link_results.html", {"session": session, "hits": hits, "query": query})


@require_POST
@staff_view(permission="customers.add_contactpoint")
def call_link(request: HttpRequest, pk: int) -> HttpResponse:
    """Link the call to an existing customer: the number is added to their contact points."""
    session = call_services.call_get_for_agent(user=request.user, pk=pk)
    # The id comes from a form field: "abc" or a number beyond the database's range is a 404, not a 500.
    customer = customer_get_for_user(user=request.user, pk=request.POST.get("customer"), live=True)
    try:
        call_services.call_customer_attach(session=session, customer=customer, acting_user=request.user)
    except ApplicationError as error:
        if request.htmx:
            return HttpResponse(error.message, status=400)
        messages.error(request, error.message)
        return redirect("channels:console")
    if not request.htmx:
        messages.success(request, _("Call linked to %(name)s.") % {"name": customer.display_name})
    session.refresh_from_db()
    return _card_response(request, session)


@require_GET
@staff_view(permission=CONSOLE_PERMISSION)
def outbound_search_hx(request: HttpRequest) -> HttpResponse:
    """Customers to call: each result links to the timeline's "Log a call" form for them."""
    from customers.search import customer_search

    query = request.GET.get("q", "").strip()
    hits = customer_search(query=query, limit=8) if len(query) >= 2 else []
    rows = [{"hit": hit, "log_url": call_log_url(hit.pk)} for hit in hits]
    return render(request, "channels/calls/outbound_results.html", {"rows": rows, "query": query})
