"""Import screens: upload, column mapping with a preview, the job's progress bar and its report."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.access import staff_view
from crm.errors import ApplicationError
from customers.models import ImportJob, ImportMapping
from customers.services.imports import import_job_create, import_job_queue, import_preview, mapping_for, report_csv
from customers.services.imports.jobs import QUEUED_TOO_LONG, import_job_header
from customers.services.imports.jobs import import_job_requeue as import_job_requeue_service
from customers.services.imports.mapping import fields_of

PERMISSION = "customers.import_customer"
REPORT_ROWS_SHOWN = 200


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What the file holds"), choices=ImportMapping.Kind.choices)
    source = forms.CharField(
        label=gettext_lazy("Source system"),
        max_length=50,
        help_text=gettext_lazy("e.g. “erp” or “shop”: the column mapping is remembered per source."),
    )
    file = forms.FileField(label=gettext_lazy("CSV or Excel (.xlsx) file"))


@staff_view(permission=PERMISSION)
def import_list(request: HttpRequest) -> HttpResponse:
    """Recent imports and the upload form; a valid upload goes on to the column mapping."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = import_job_create(kind=form.cleaned_data["kind"], source=form.cleaned_data["source"],
                                    upload=form.cleaned_data["file"], acting_user=request.user)  # fmt: skip
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return redirect("customers:import_mapping", job_pk=job.pk)
    jobs = ImportJob.objects.select_related("created_by").order_by("-created_at")[:50]
    return render(request, "customers/imports/list.html", {"form": form, "jobs": jobs},
                  status=400 if request.method == "POST" else 200)  # fmt: skip


@staff_view(permission=PERMISSION)
def import_mapping(request: HttpRequest, job_pk: int) -> HttpResponse:
    """Map each column to a field; ``preview`` shows the first rows as saved, ``dry_run``/``import`` queue the job."""
    job = get_object_or_404(ImportJob, pk=job_pk)
    header = import_job_header(job=job)
    fields = fields_of(job.kind)
    if request.method == "POST":
        mapping = {column: request.POST.get(f"col-{n}", "") for n, column in enumerate(header)}
    else:
        mapping = job.columns.get("mapping") or mapping_for(source=job.source, kind=job.kind, header=header)
    context = {"job": job, "fields": fields.values(), "columns": [(n, c, mapping.get(c, "")) for n, c in
                                                                  enumerate(header)]}  # fmt: skip
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "preview":
                context["preview"] = import_preview(job=job, mapping=mapping)
                shown = [f for f in fields.values() if f.name in context["preview"]["mapping"].values()]
                context["preview_fields"] = shown
                context["preview_rows"] = [
                    {**row, "cells": [row.get(f.name) or "" for f in shown]} for row in context["preview"]["rows"]
                ]
            else:
                import_job_queue(job=job, mapping=mapping, dry_run=action != "import")
                return redirect("customers:import_job", job_pk=job.pk)
        except ApplicationError as error:
            context["error"] = error.message
            status = 400
    return render(request, "customers/imports/mapping.html", context, status=status)


def _job_context(job: ImportJob) -> dict:
    now = timezone.now()
    stalled = (job.status == ImportJob.Status.RUNNING and job.lease_expires_at and job.lease_expires_at < now) or (
        job.status == ImportJob.Status.QUEUED and job.queued_at and job.queued_at < now - QUEUED_TOO_LONG
    )
    running = job.status in {ImportJob.Status.QUEUED, ImportJob.Status.RUNNING}
    errors = job.row_errors.all()[:REPORT_ROWS_SHOWN]
    return {"job": job, "errors": errors, "shown": REPORT_ROWS_SHOWN, "running": running, "stalled": stalled}


@require_POST
@staff_view(permission=PERMISSION)
def import_job_requeue(request: HttpRequest, job_pk: int) -> HttpResponse:
    """Queue a failed or stalled job again (its worker died, or its message was lost)."""
    job = get_object_or_404(ImportJob, pk=job_pk)
    try:
        import_job_requeue_service(job=job, acting_user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("customers:import_job", job_pk=job.pk)


@staff_view(permission=PERMISSION)
def import_job(request: HttpRequest, job_pk: int) -> HttpResponse:
    """The job: progress bar (polled while running), counts, the failure if any, and the row report."""
    job = get_object_or_404(ImportJob, pk=job_pk)
    return render(request, "customers/imports/job.html", _job_context(job))


@staff_view(permission=PERMISSION)
def import_job_hx(request: HttpRequest, job_pk: int) -> HttpResponse:
    """The progress partial, polled every second by htmx while the job is queued or running."""
    job = get_object_or_404(ImportJob, pk=job_pk)
    return render(request, "customers/imports/job.html#progress", _job_context(job))


@staff_view(permission=PERMISSION)
def import_report(request: HttpRequest, job_pk: int) -> HttpResponse:
    """The rejected rows as CSV (row, column, value, reason), formulas neutralised."""
    job = get_object_or_404(ImportJob, pk=job_pk)
    response = HttpResponse(report_csv(job=job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-report.csv"'
    return response
