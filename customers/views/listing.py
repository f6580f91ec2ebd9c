"""Finding customers: the header search (as you type and as a page), the filtered list, its export, saved filters."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.access import staff_view
from crm.errors import ApplicationError
from crm.pickers import PICKER_RESULTS
from customers.export import XLSX_MAX_ROWS, customers_csv_stream, customers_xlsx_file
from customers.forms import SavedFilterForm, form_add_application_error
from customers.models import SavedFilter
from customers.normalise import phone_display
from customers.search import customer_search
from customers.selectors_list import (
    OWNER_NONE,
    CustomerFilter,
    customer_list_count,
    customer_list_queryset,
    keyset_page,
    owner_search,
    saved_filters_for_user,
)
from customers.services.saved_filters import saved_filter_delete, saved_filter_query_clean, saved_filter_save

SEARCH_DROPDOWN_SIZE = 8
SEARCH_PAGE_SIZE = 50


@staff_view(permission="customers.view_customer")
def customer_search_hx(request: HttpRequest) -> HttpResponse:
    """The header search's dropdown: the best matches for what has been typed so far."""
    query = request.GET.get("q", "").strip()
    hits = customer_search(query=query, limit=SEARCH_DROPDOWN_SIZE) if query else []
    return render(request, "customers/search.html#dropdown", {"query": query, "hits": hits})


@staff_view(permission="customers.view_customer")
def owner_picker_hx(request: HttpRequest) -> HttpResponse:
    """The customer list's owner picker: staff matching ``q`` (at most 20), "No owner" first when nothing
    is typed; choosing nothing (an empty box) means any owner."""
    q = (request.GET.get("q") or "").strip()[:100]
    people = owner_search(q, limit=PICKER_RESULTS)
    items = [{"value": person.pk, "label": person.get_full_name() or person.username, "detail": person.username}
             for person in people[:PICKER_RESULTS]]  # fmt: skip
    if not q:
        items.insert(0, {"value": OWNER_NONE, "label": _("No owner"), "detail": ""})
    context = {"items": items, "more": len(people) > PICKER_RESULTS, "q": q, "prefix": "owner-option",
               "label": _("Owner"), "empty_label": _("Anyone")}  # fmt: skip
    return render(request, "pickers/options.html", context)


@staff_view(permission="customers.view_customer")
def customer_search_page(request: HttpRequest) -> HttpResponse:
    """The full results page (the search box's target without JavaScript, and "see all results")."""
    query = request.GET.get("q", "").strip()
    hits = customer_search(query=query, limit=SEARCH_PAGE_SIZE) if query else []
    if len(hits) == 1 and request.GET.get("go") == "1":
        return redirect(hits[0].url)
    return render(request, "customers/search.html", {"query": query, "hits": hits})


def _filtered(request: HttpRequest) -> CustomerFilter:
    return CustomerFilter(request.GET or None, queryset=customer_list_queryset())


@staff_view(permission="customers.view_customer")
def customer_list(request: HttpRequest) -> HttpResponse:
    """Filterable, sortable customer list paged by keyset; htmx requests get the results block only."""
    filterset = _filtered(request)
    queryset = filterset.qs if filterset.is_bound else filterset.queryset
    sort = filterset.sort_key if filterset.is_bound else "-created"
    page = keyset_page(queryset=queryset, sort=sort, cursor=request.GET.get("cursor"))
    for customer in page.rows:
        customer.phone_shown = phone_display(customer.primary_phone) if customer.primary_phone else ""
    count = customer_list_count(queryset=queryset, is_filtered=filterset.is_bound and filterset.is_filtered)
    query = saved_filter_query_clean(request.GET.urlencode())
    next_params = request.GET.copy()
    if page.next_cursor:
        next_params["cursor"] = page.next_cursor
    context = {
        "filter": filterset,
        "page": page,
        "count": count,
        "query": query,
        "next_query": next_params.urlencode() if page.next_cursor else "",
        "saved_filters": saved_filters_for_user(user=request.user),
        "saved_filter_form": SavedFilterForm(),
        "can_export": request.user.has_perm("customers.view_customer"),
        "can_create": request.user.has_perm("customers.add_customer"),
        "can_save_filter": request.user.has_perm("customers.add_savedfilter"),
        "xlsx_max_rows": XLSX_MAX_ROWS,
    }
    template = "customers/list.html#results" if getattr(request, "htmx", False) else "customers/list.html"
    return render(request, template, context)


@staff_view(permission="customers.view_customer")
def customer_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The filtered list as CSV (streamed, every row) or XLSX (capped); same filters as the list."""
    if fmt not in {"csv", "xlsx"}:
        raise Http404
    filterset = _filtered(request)
    queryset = filterset.qs if filterset.is_bound else filterset.queryset
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        return FileResponse(
            customers_xlsx_file(queryset=queryset),
            as_attachment=True,
            filename=f"customers-{stamp}.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response = StreamingHttpResponse(customers_csv_stream(queryset=queryset), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="customers-{stamp}.csv"'
    return response


@staff_view(permission="customers.add_savedfilter")
@require_POST
def saved_filter_create(request: HttpRequest) -> HttpResponse:
    """Save the list's current query string under a name (private, or shared with the team)."""
    form = SavedFilterForm(request.POST)
    query = request.POST.get("query", "")
    if form.is_valid():
        try:
            saved_filter_save(owner=request.user, name=form.cleaned_data["name"], query=query,
                              is_shared=form.cleaned_data["is_shared"])  # fmt: skip
        except ApplicationError as error:
            form_add_application_error(form, error)
    if form.errors:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        messages.success(request, _("Filter “%(name)s” saved.") % {"name": form.cleaned_data["name"]})
    return redirect(f"{reverse('customers:list')}?{saved_filter_query_clean(query)}")


@staff_view(permission="customers.add_savedfilter")
@require_POST
def saved_filter_remove(request: HttpRequest, pk: int) -> HttpResponse:
    saved = get_object_or_404(SavedFilter, pk=pk, owner=request.user)
    saved_filter_delete(saved_filter=saved, acting_user=request.user)
    messages.success(request, _("Filter “%(name)s” deleted.") % {"name": saved.name})
    return redirect("customers:list")
