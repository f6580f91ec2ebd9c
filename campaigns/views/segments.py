"""Segment screens: the list (size, last refresh, trend), the builder with its live count and sample,
a segment's page (members, refresh on demand, CSV export), static segments from a list or a saved
filter. Thin shells around ``campaigns.services.segments`` and ``campaigns.selectors.segments``.
"""

from __future__ import annotations

import csv
import json

from django.contrib import messages
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns.forms import SegmentForm, StaticSegmentForm
from campaigns.models import Segment, SegmentMember
from campaigns.selectors.builder import builder_fields, builder_labels
from campaigns.selectors.segments import (
    segment_count,
    segment_get_for_user,
    segment_list,
    segment_members_queryset,
    segment_sample,
    sparkline_points,
)
from campaigns.services import segments as segment_services
from crm.access import staff_view
from crm.errors import ApplicationError
from crm.spreadsheet import csv_dialect, csv_row
from customers.forms import form_add_application_error

LIVE_COUNT_TIMEOUT_MS = 1500
MEMBERS_PAGE = 50


@staff_view(permission="campaigns.view_segment")
def segment_list_view(request: HttpRequest) -> HttpResponse:
    """Every live segment with its size, last refresh and trend sparkline (two queries)."""
    segments = segment_list(include_archived=request.GET.get("archived") == "1")
    for segment in segments:
        segment.sparkline = sparkline_points(segment.trend)
    return render(
        request, "campaigns/segments/list.html", {"segments": segments, "archived": request.GET.get("archived") == "1"}
    )


def _builder_context(form: SegmentForm, segment: Segment | None) -> dict:
    return {"form": form, "segment": segment, "fields_json": json.dumps(builder_fields()),
            "labels_json": json.dumps(builder_labels())}  # fmt: skip


@staff_view(permission="campaigns.add_segment")
def segment_create_view(request: HttpRequest) -> HttpResponse:
    """The builder for a new dynamic segment; saving queues its first refresh."""
    form = SegmentForm(request.POST or None, initial={"rules": '{"all": []}'})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            segment = segment_services.segment_create(name=data["name"], description=data["description"],
                                                      rules=data["rules"], acting_user=request.user)  # fmt: skip
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            messages.success(request, _("Segment saved: its members are being counted."))
            return redirect("campaigns:segment_detail", pk=segment.pk)
    return render(request, "campaigns/segments/builder.html", _builder_context(form, None))


@staff_view(permission="campaigns.change_segment")
def segment_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The builder on a dynamic segment's rules (a static one changes name and description only)."""
    segment = segment_get_for_user(user=request.user, pk=pk, permission="campaigns.change_segment")
    initial = {"name": segment.name, "description": segment.description, "rules": json.dumps(segment.rules)}
    form = SegmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            segment_services.segment_update(
                segment=segment, acting_user=request.user, name=data["name"], description=data["description"],
                rules=data["rules"] if segment.is_dynamic else None,
            )  # fmt: skip
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            messages.success(request, _("Segment saved."))
            return redirect("campaigns:segment_detail", pk=segment.pk)
    return render(request, "campaigns/segments/builder.html", _builder_context(form, segment))


@staff_view(permission="campaigns.view_segment")
@require_POST
def segment_count_hx(request: HttpRequest) -> HttpResponse:
    """The builder's live count and sample of 20 for the rules being edited (nothing is saved).

    A rule the compiler refuses answers the message naming its path in the tree (``data-error-path``
    lets the builder mark that condition).
    """
    form = SegmentForm({"name": "-", "rules": request.POST.get("rules", "")})
    segment_id = None
    if request.POST.get("segment_id", "").isdigit():
        segment_id = int(request.POST["segment_id"])
    context: dict = {}
    if not form.is_valid():
        context["error"] = " ".join(form.errors.get("rules", [_("The rules cannot be read.")]))
        context["error_path"] = "rules"
    else:
        rules = form.cleaned_data["rules"]
        try:
            context["count"] = segment_count(rules=rules, segment_id=segment_id, timeout_ms=LIVE_COUNT_TIMEOUT_MS)
            context["sample"] = segment_sample(rules=rules, segment_id=segment_id)
        except ApplicationError as error:
            context["error"], context["error_path"] = error.message, error.field or "rules"
    return render(request, "campaigns/segments/builder.html#live_count", context)


def _members_page(segment: Segment, after: str | None) -> tuple[list, int | None]:
    queryset = segment_members_queryset(segment=segment).order_by("pk")
    if after and after.isdigit():
        queryset = queryset.filter(pk__gt=int(after))
    rows = list(queryset[: MEMBERS_PAGE + 1])
    following = rows[MEMBERS_PAGE - 1].pk if len(rows) > MEMBERS_PAGE else None
    return rows[:MEMBERS_PAGE], following


@staff_view(permission="campaigns.view_segment")
def segment_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A segment: size, refresh state (polled while a refresh runs), how it was built, its members."""
    segment = segment_get_for_user(user=request.user, pk=pk)
    members, following = _members_page(segment, request.GET.get("after"))
    history = list(segment.size_history.order_by("-measured_at")[:10])
    context = {
        "segment": segment,
        "members": members,
        "following": following,
        "history": history,
        "sparkline": sparkline_points([h.size for h in reversed(history)]),
        "refreshing": segment.refresh_status in (Segment.RefreshStatus.QUEUED, Segment.RefreshStatus.RUNNING),
    }
    return render(request, "campaigns/segments/detail.html", context)


@staff_view(permission="campaigns.view_segment")
def segment_status_hx(request: HttpRequest, pk: int) -> HttpResponse:
    """The refresh state, polled while a refresh is queued or running; once done, the page reloads."""
    segment = segment_get_for_user(user=request.user, pk=pk)
    refreshing = segment.refresh_status in (Segment.RefreshStatus.QUEUED, Segment.RefreshStatus.RUNNING)
    if not refreshing and request.GET.get("watching"):
        response = HttpResponse("")
        response["HX-Refresh"] = "true"
        return response
    return render(request, "campaigns/segments/detail.html#refresh_state",
                  {"segment": segment, "refreshing": refreshing})  # fmt: skip


@staff_view(permission="campaigns.refresh_segment")
@require_POST
def segment_refresh_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a refresh (the Celery task ``campaigns.segment_refresh_task``)."""
    segment = segment_get_for_user(user=request.user, pk=pk, permission="campaigns.refresh_segment")
    try:
        segment_services.segment_refresh_request(segment=segment, acting_user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.info(request, _("Refresh queued: the members are being recomputed."))
    return redirect("campaigns:segment_detail", pk=segment.pk)


@staff_view(permission="campaigns.change_segment")
@require_POST
def segment_archive_view(request: HttpRequest, pk: int) -> HttpResponse:
    segment = segment_get_for_user(user=request.user, pk=pk, permission="campaigns.change_segment")
    archived = request.POST.get("archived", "1") == "1"
    segment_services.segment_archive(segment=segment, acting_user=request.user, archived=archived)
    messages.success(request, _("Segment archived.") if archived else _("Segment restored."))
    return redirect("campaigns:segment_detail", pk=segment.pk)


@staff_view(permission="campaigns.delete_segment")
@require_POST
def segment_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    segment = segment_get_for_user(user=request.user, pk=pk, permission="campaigns.delete_segment")
    try:
        segment_services.segment_delete(segment=segment, acting_user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("campaigns:segment_detail", pk=segment.pk)
    messages.success(request, _("Segment deleted."))
    return redirect("campaigns:segment_list")


class _Echo:
    def write(self, value: str) -> str:
        return value


EXPORT_COLUMNS = ("account_number", "title", "given_name", "family_name", "company_name", "stage", "language")


def _export_rows(segment: Segment, language: str):
    with translation.override(language):
        header = [_("Account number"), _("Title"), _("First name"), _("Last name"), _("Company"), _("Stage"),
                  _("Language"), _("Member since")]  # fmt: skip
    dialect = csv_dialect(language)
    writer = csv.writer(_Echo(), delimiter=dialect.delimiter)
    yield dialect.bom + writer.writerow(csv_row(header))
    since = SegmentMember.objects.filter(segment_id=segment.pk, customer_id=OuterRef("pk")).values("added_at")[:1]
    queryset = (segment_members_queryset(segment=segment).annotate(member_since=Subquery(since)).order_by("pk")
                .values_list(*EXPORT_COLUMNS, "member_since"))  # fmt: skip
    for *values, moment in queryset.iterator(chunk_size=2000):
        when = timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""
        yield writer.writerow(csv_row([*values, when]))


@staff_view(permission="campaigns.view_segment")
def segment_export_view(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The members as CSV, streamed (``crm.spreadsheet``: French files are ``;``-separated with a BOM)."""
    segment = segment_get_for_user(user=request.user, pk=pk)
    language = translation.get_language() or "fr"
    response = StreamingHttpResponse(_export_rows(segment, language), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="segment-{segment.pk}.csv"'
    return response


@staff_view(permission="campaigns.add_segment")
def segment_static_create_view(request: HttpRequest) -> HttpResponse:
    """A static segment from an uploaded list (through the identity resolution) or a saved filter."""
    initial = {"source": "saved_filter"} if request.GET.get("saved_filter") else {}
    if request.GET.get("saved_filter", "").isdigit():
        initial["saved_filter"] = int(request.GET["saved_filter"])
    form = StaticSegmentForm(request.POST or None, request.FILES or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["source"] == "upload":
                report = segment_services.segment_static_from_list(
                    name=data["name"], text=data["text"], acting_user=request.user, description=data["description"],
                    filename=data["file"].name,
                )  # fmt: skip
                segment = report.segment
                messages.success(request, _("%(matched)s of %(lines)s lines matched a customer.")
                                 % {"matched": report.matched, "lines": report.lines})  # fmt: skip
            else:
                segment = segment_services.segment_static_from_filter(
                    name=data["name"], saved_filter=data["saved_filter"], acting_user=request.user,
                    description=data["description"],
                )  # fmt: skip
                messages.success(request, _("Static segment created with %(size)s customers.")
                                 % {"size": segment.size})  # fmt: skip
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            return redirect("campaigns:segment_detail", pk=segment.pk)
    return render(request, "campaigns/segments/static_form.html", {"form": form})
