"""Import jobs: upload, map, queue, claim and run (dry run or for real), with progress and the report.

An ``ImportJob`` row is the work to do: the Celery task claims it with a conditional update from
``queued`` to ``running`` (exactly one worker wins), then runs the row path or, for large customer
files, the bulk path.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.errors import ApplicationError
from customers.models import ImportJob, ImportMapping, ImportRowError
from customers.services.imports.bulk import customers_import_bulk
from customers.services.imports.mapping import mapping_clean, mapping_save
from customers.services.imports.reading import ImportFileError, ImportTable, row_count, table_open
from customers.services.imports.rows import backoffice_import_rows, customers_import_rows

BULK_THRESHOLD = 5_000
PREVIEW_ROWS = 20
Kind = ImportMapping.Kind


@transaction.atomic
def import_job_create(*, kind: str, source: str, upload: File, acting_user=None) -> ImportJob:
    """Store an uploaded file as a new job (status ``uploaded``); refuse a too large or unreadable file."""
    if kind not in Kind.values:
        raise ApplicationError("invalid_choice", _("Choose customers, orders or contracts."), field="kind")
    source = (source or "").strip()[:50]
    if not source:
        raise ApplicationError("required", _("Name the source system (e.g. “erp” or “shop”)."), field="source")
    limit = settings.IMPORT_MAX_FILE_MB * 1024 * 1024
    if upload.size and upload.size > limit:
        raise ApplicationError(
            "file_too_large",
            _("The file is larger than %(mb)d MB.") % {"mb": settings.IMPORT_MAX_FILE_MB},
            field="file",
        )
    name = getattr(upload, "name", "import.csv") or "import.csv"
    job = ImportJob(kind=kind, source=source, original_name=name.rsplit("/", 1)[-1][:255], created_by=acting_user)
    job.file.save(job.original_name, upload, save=False)
    table = table_open(job.file.path)  # raises ImportFileError for what cannot be read at all
    job.columns = {"header": table.header}
    job.save()
    return job


def import_job_header(*, job: ImportJob) -> list[str]:
    return list(job.columns.get("header") or table_open(job.file.path).header)


def _values(table: ImportTable, mapping: dict[str, str]) -> Iterator[tuple[int, dict]]:
    positions = [(table.header.index(column), field) for column, field in mapping.items()]
    for number, cells in table.rows:
        yield number, {field: cells[i] if i < len(cells) else "" for i, field in positions}


def import_preview(*, job: ImportJob, mapping: dict[str, str]) -> dict:
    """The first rows as they would be saved and their errors; reads the file, writes nothing."""
    mapping = mapping_clean(kind=job.kind, header=import_job_header(job=job), columns=mapping)
    table = table_open(job.file.path)
    errors: list[dict] = []
    preview: list[dict] = []
    reverse = {field: column for column, field in mapping.items()}

    def report(row, field, value, reason):
        errors.append({"row": row, "column": reverse.get(field, field), "value": value, "reason": reason})

    rows = itertools.islice(_values(table, mapping), PREVIEW_ROWS)
    runner = customers_import_rows if job.kind == Kind.CUSTOMERS else backoffice_import_rows
    runner(job=job, rows=rows, report=report, dry_run=True, preview=preview)
    return {"rows": preview, "errors": errors, "mapping": mapping}


@transaction.atomic
def import_job_queue(
    *, job: ImportJob, mapping: dict[str, str], dry_run: bool, remember: bool = True, enqueue: bool = True
) -> ImportJob:
    """Check the mapping, save it for the source, and queue the job (a dry run or the import).

    A job may be queued again (after its dry run); its previous report is cleared. The task is sent
    after commit. Raises ``ApplicationError`` naming missing required columns.
    """
    locked = ImportJob.objects.select_for_update().get(pk=job.pk)
    if locked.status in {ImportJob.Status.QUEUED, ImportJob.Status.RUNNING}:
        raise ApplicationError("import_busy", _("This import is already queued or running."), status_code=409)
    if locked.status == ImportJob.Status.DONE and not locked.is_dry_run:
        raise ApplicationError("import_done", _("This file was already imported."), status_code=409)
    header = import_job_header(job=locked)
    mapping = mapping_clean(kind=locked.kind, header=header, columns=mapping)
    if remember:
        mapping_save(source=locked.source, kind=locked.kind, columns=mapping)
    ImportRowError.objects.filter(job=locked).delete()
    locked.columns = {"header": header, "mapping": mapping}
    locked.is_dry_run = dry_run
    locked.status = ImportJob.Status.QUEUED
    locked.failure = ""
    locked.total_rows = row_count(locked.file.path)
    locked.processed_rows = locked.created_rows = locked.updated_rows = locked.error_rows = 0
    locked.started_at = locked.finished_at = None
    locked.save()
    if enqueue:
        from customers.tasks.imports import import_run_task

        transaction.on_commit(lambda: import_run_task.delay(locked.pk))
    return locked


def import_job_claim(*, job_id: int) -> ImportJob | None:
    """Move the job from queued to running; return it, or None if another worker has it (or it is not queued)."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now()
    )
    return ImportJob.objects.get(pk=job_id) if claimed == 1 else None


class _Reporter:
    """Collects rejected rows and progress; writes them in batches (committed as the import goes)."""

    def __init__(self, job: ImportJob, mapping: dict[str, str]) -> None:
        self.job, self.pending, self.rejected_rows = job, [], set()
        self.reverse = {field: column for column, field in mapping.items()}
        self.last_flush = time.monotonic()

    def __call__(self, row: int, field: str, value: str, reason: str) -> None:
        self.rejected_rows.add(row)
        self.pending.append(
            ImportRowError(
                job=self.job,
                row_number=row,
                column=self.reverse.get(field, field)[:100],
                value=str(value)[:1000],
                reason=str(reason),
            )
        )
        if len(self.pending) >= 2000:
            self.flush()

    def flush(self, processed: int | None = None) -> None:
        ImportRowError.objects.bulk_create(self.pending)
        self.pending = []
        updates = {"error_rows": len(self.rejected_rows)}
        if processed is not None:
            updates["processed_rows"] = processed
        ImportJob.objects.filter(pk=self.job.pk).update(**updates)
        self.last_flush = time.monotonic()


def _counted(rows, reporter: _Reporter) -> Iterator[tuple[int, dict]]:
    for processed, item in enumerate(rows, start=1):
        yield item
        if time.monotonic() - reporter.last_flush > 0.5:
            reporter.flush(processed)


def import_run(*, job_id: int) -> ImportJob | None:
    """Claim and run an import job; return it finished (done or failed), or None if not claimed.

    Runs outside any transaction: each row (row path) or the final set-based write (bulk path) is its
    own transaction, and progress is committed while it runs. A file-level problem (unreadable file,
    missing columns) fails the job with a message naming it; rejected rows are in the report.
    """
    job = import_job_claim(job_id=job_id)
    if job is None:
        return None
    mapping = job.columns.get("mapping") or {}
    reporter = _Reporter(job, mapping)
    try:
        mapping_clean(kind=job.kind, header=import_job_header(job=job), columns=mapping)
        table = table_open(job.file.path)
        rows = _values(table, mapping)
        if job.kind == Kind.CUSTOMERS and job.total_rows >= BULK_THRESHOLD:
            created, updated = customers_import_bulk(
                job=job, rows=rows, report=reporter, dry_run=job.is_dry_run, progress=lambda n: reporter.flush(n)
            )
        else:
            runner = customers_import_rows if job.kind == Kind.CUSTOMERS else backoffice_import_rows
            created, updated = runner(job=job, rows=_counted(rows, reporter), report=reporter, dry_run=job.is_dry_run)
    except (ImportFileError, ApplicationError) as error:
        reporter.flush()
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED, failure=error.message, finished_at=timezone.now()
        )
        job.refresh_from_db()
        return job
    except Exception as error:
        reporter.flush()
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED,
            finished_at=timezone.now(),
            failure=_("The import stopped on an unexpected error: %(error)s") % {"error": str(error)[:500]},
        )
        raise
    reporter.flush()
    error_rows = len(reporter.rejected_rows)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.DONE,
        finished_at=timezone.now(),
        created_rows=created,
        updated_rows=updated,
        error_rows=error_rows,
        processed_rows=created + updated + error_rows,
        total_rows=created + updated + error_rows,
    )
    job.refresh_from_db()
    return job
