"""Duplicates: the list of candidate pairs, the side-by-side merge preview, dismiss, merge by hand, scan."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.access import staff_view
from crm.errors import ApplicationError
from customers.access import customer_get_for_user
from customers.models import Customer, DuplicatePair
from customers.services.duplicates import (
    duplicate_dismiss,
    duplicate_scan_state,
    duplicate_scan_state_set,
    reason_labels,
)
from customers.services.merge import DUPLICATE, SURVIVOR, customer_merge, customer_merge_preview
from customers.tasks.duplicates import find_duplicates_task

PAGE_SIZE = 25
_LIVE_PAIR = Q(
    customer_low__merged_into__isnull=True,
    customer_low__anonymised_at__isnull=True,
    customer_high__merged_into__isnull=True,
    customer_high__anonymised_at__isnull=True,
)


@staff_view(permission="customers.view_duplicatepair")
def duplicate_list(request: HttpRequest) -> HttpResponse:
    """Pending pairs of live customers, best score first, paginated."""
    pairs = (
        DuplicatePair.objects.filter(_LIVE_PAIR, status=DuplicatePair.Status.PENDING)
        .select_related("customer_low", "customer_high")
        .order_by("-score", "id")
    )
    page = Paginator(pairs, PAGE_SIZE).get_page(request.GET.get("page"))
    for pair in page:
        pair.reason_labels = reason_labels(pair.reasons)
    context = {
        "page": page,
        "can_merge": request.user.has_perm("customers.merge_customer"),
        "can_scan": request.user.has_perm("customers.change_duplicatepair"),
        "scan": duplicate_scan_state(),
    }
    return render(request, "customers/duplicates/list.html", context)


@staff_view(permission="customers.merge_customer")
def duplicate_review(request: HttpRequest, pk: int) -> HttpResponse:
    """One pair side by side; POST merges it with the chosen values (the survivor is ``?survivor=``)."""
    pair = get_object_or_404(DuplicatePair.objects.select_related("customer_low", "customer_high"), pk=pk)
    wanted = request.POST.get("survivor") or request.GET.get("survivor")
    low, high = pair.customer_low, pair.customer_high
    survivor, duplicate = (high, low) if wanted == str(high.pk) else (low, high)
    return _merge_page(request, survivor=survivor, duplicate=duplicate, pair=pair,
                       action=reverse("customers:duplicate_review", kwargs={"pk": pair.pk}))  # fmt: skip


@staff_view(permission="customers.merge_customer")
def customer_merge_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Merge two customers an agent chose by hand: ``/…/<survivor pk>/?with=<pk or account number>``."""
    survivor = customer_get_for_user(user=request.user, pk=pk, action="merge")
    other = (request.POST.get("with") or request.GET.get("with") or "").strip()
    duplicate = None
    if other:
        match = Customer.objects.filter(account_number=other.upper()).first()
        duplicate = match or customer_get_for_user(user=request.user, pk=other, action="merge")
    action = reverse("customers:merge", kwargs={"pk": survivor.pk})
    if duplicate is None:
        return render(request, "customers/duplicates/merge.html", {"survivor": survivor, "action": action})
    return _merge_page(request, survivor=survivor, duplicate=duplicate, pair=None, action=action)


def _merge_page(request: HttpRequest, *, survivor: Customer, duplicate: Customer, pair: DuplicatePair | None,
                action: str) -> HttpResponse:  # fmt: skip
    context = {"survivor": survivor, "duplicate": duplicate, "pair": pair, "action": action, "choices": []}
    if pair is not None and pair.status != DuplicatePair.Status.PENDING:
        context["error"] = _("This pair was already reviewed (%(status)s).") % {"status": pair.get_status_display()}
        return render(request, "customers/duplicates/merge.html", context, status=409)
    try:
        context["choices"] = customer_merge_preview(survivor=survivor, duplicate=duplicate)
    except ApplicationError as error:
        context["error"] = error.message
        return render(request, "customers/duplicates/merge.html", context, status=error.status_code)
    if request.method == "POST":
        overrides = {
            choice.name: request.POST[f"choice_{choice.name}"]
            for choice in context["choices"]
            if choice.overridable and request.POST.get(f"choice_{choice.name}") in (SURVIVOR, DUPLICATE)
        }
        try:
            merged = customer_merge(survivor=survivor, duplicate=duplicate, acting_user=request.user,
                                    overrides=overrides, source="agent")  # fmt: skip
        except ApplicationError as error:
            context["error"] = error.message
            return render(request, "customers/duplicates/merge.html", context, status=error.status_code)
        messages.success(request, _("%(duplicate)s was merged into %(survivor)s.")
                         % {"duplicate": duplicate.account_number, "survivor": merged.account_number})  # fmt: skip
        return redirect(merged.get_absolute_url())
    return render(request, "customers/duplicates/merge.html", context)


@staff_view(permission="customers.change_duplicatepair")
@require_POST
def duplicate_dismiss_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a pair "not a duplicate" and go back to the list."""
    pair = get_object_or_404(DuplicatePair, pk=pk)
    try:
        duplicate_dismiss(pair=pair, acting_user=request.user)
    except ApplicationError as error:
        messages.warning(request, error.message)
    else:
        messages.success(request, _("Marked as not a duplicate; this pair will not be proposed again."))
    return redirect("customers:duplicates")


@staff_view(permission="customers.change_duplicatepair")
@require_POST
def duplicate_scan(request: HttpRequest) -> HttpResponse:
    """Queue a run of the duplicate finder (after commit) and go back to the list, which shows its progress."""
    duplicate_scan_state_set("queued")
    transaction.on_commit(lambda: find_duplicates_task.delay())
    return redirect("customers:duplicates")


@staff_view(permission="customers.view_duplicatepair")
def duplicate_scan_status_hx(request: HttpRequest) -> HttpResponse:
    """The progress indicator, polled by the list while a scan runs; when it ends, htmx reloads the list."""
    scan = duplicate_scan_state()
    if getattr(request, "htmx", False) and scan and scan["state"] == "done" and request.GET.get("watching"):
        response = HttpResponse("")
        response["HX-Refresh"] = "true"
        return response
    return render(request, "customers/duplicates/list.html#scan-status", {"scan": scan})
