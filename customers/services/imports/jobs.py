"""Import jobs: upload, map, queue, claim and run (dry run or for real), with progress and the report.

An ``ImportJob`` row is the work to do: the Celery task claims it with a conditional update from
``queued`` — or ``running`` with an expired lease, when the worker that had it died — to ``running``
with a fresh lease (exactly one worker wins; ``attempts`` numbers the claims), and a heartbeat
thread renews the lease while the run lives, whatever it is doing (a long set-based statement
included). Customer files of any size go through the one set-based path (``bulk``), whose writes
and the job's ``done`` are one transaction, fenced by the claim's number: a job run again after a
crash imports every row exactly once, and a run that lost its lease cannot commit. Orders and
contracts go row by row (``rows``). A beat job (``import_jobs_sweep``) re-queues jobs whose worker
died or whose message was lost.
"""

from __future__ import annotations

import datetime
import itertools
import threading
import time
from collections.abc import Iterator

from django.conf import settings
from django.core.files.base import File
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.errors import ApplicationError
from customers.models import ImportJob, ImportMapping, ImportRowError
from customers.services.imports.bulk import ImportCounts, customers_import_bulk
from customers.services.imports.mapping import fields_of, mapping_clean, mapping_save
from customers.services.imports.reading import ImportFileError, ImportTable, row_count, table_open
from customers.services.imports.rows import backoffice_import_rows
from customers.services.imports.validation import customer_row_parse

PREVIEW_ROWS = 20
QUEUED_TOO_LONG = datetime.timedelta(minutes=10)
MAX_ATTEMPTS = 5
Kind = ImportMapping.Kind
Level = ImportRowError.Level


def lease() -> datetime.timedelta:
    """How long a claim holds without renewal (``IMPORT_LEASE_SECONDS``); the heartbeat renews it thrice per lease."""
    return datetime.timedelta(seconds=settings.IMPORT_LEASE_SECONDS)


class LeaseLost(Exception):
    """The job was claimed again by another run (this one's lease had expired): this run must not commit."""


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
    """The first rows as they would be saved and their problems: the import itself on those rows, rolled back."""
    mapping = mapping_clean(kind=job.kind, header=import_job_header(job=job), columns=mapping)
    table = table_open(job.file.path)
    errors: list[dict] = []
    preview: list[dict] = []
    reverse = {field: column for column, field in mapping.items()}

    def report(row, field, value, reason, level=Level.REJECTED):
        errors.append({"row": row, "column": reverse.get(field, field), "value": value, "reason": reason,
                       "level": level, "level_label": Level(level).label})  # fmt: skip

    rows = list(itertools.islice(_values(table, mapping), PREVIEW_ROWS))
    if job.kind == Kind.CUSTOMERS:
        counts = customers_import_bulk(job=job, rows=rows, report=report, progress=lambda n: None, dry_run=True,
                                       with_outcomes=True)  # fmt: skip
        labels = {"create": _("create"), "update": _("update"), "unchanged": _("unchanged")}
        for number, values in rows:
            outcome = counts.outcomes.get(number)
            if outcome is not None:
                parsed, _problems = customer_row_parse(values)
                preview.append({"row": number, "action": labels[outcome["action"]],
                                "account_number": outcome["account_number"], **parsed})  # fmt: skip
    else:
        backoffice_import_rows(job=job, rows=rows, report=report, dry_run=True, preview=preview)
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
    _counters_reset(locked)
    locked.started_at = locked.finished_at = locked.lease_expires_at = None
    locked.attempts = 0
    locked.queued_at = timezone.now()
    locked.language = translation.get_language() or settings.LANGUAGE_CODE
    locked.save()
    if enqueue:
        _enqueue(locked.pk)
    return locked


def _counters_reset(job: ImportJob) -> None:
    job.processed_rows = job.created_rows = job.updated_rows = job.error_rows = 0
    job.unchanged_rows = job.flagged_rows = job.duplicate_rows = job.warning_rows = 0


def import_job_claim(*, job_id: int) -> ImportJob | None:
    """Take the job for this worker: queued, or running with an expired lease (its worker died).

    Returns it with a fresh lease, or None when another worker holds it or it is finished. A job that
    was already tried ``MAX_ATTEMPTS`` times fails instead of being run again.
    """
    now = timezone.now()
    claimable = Q(status=ImportJob.Status.QUEUED) | Q(status=ImportJob.Status.RUNNING, lease_expires_at__lt=now)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update(skip_locked=True).filter(claimable, pk=job_id).first()
        if job is None:
            return None
        if job.attempts >= MAX_ATTEMPTS:
            job.status, job.finished_at = ImportJob.Status.FAILED, now
            job.failure = _("The import stopped %(count)d times without finishing; look at the workers' logs.") % {
                "count": job.attempts
            }
            job.save(update_fields=["status", "finished_at", "failure"])
            return None
        # A run that died left its report and progress behind; the set-based writes it had not committed
        # are gone with its transaction, so the run starts again from the first row.
        ImportRowError.objects.filter(job=job).delete()
        _counters_reset(job)
        job.status, job.started_at = ImportJob.Status.RUNNING, now
        job.lease_expires_at, job.attempts = now + lease(), job.attempts + 1
        job.save()
    return job


def import_job_requeue(*, job: ImportJob, acting_user=None) -> ImportJob:
    """Queue a job again from its page: one that failed, or one stuck queued or running past its lease.

    Raises ``ApplicationError`` for a job that is running on a live lease or already imported.
    """
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        now = timezone.now()
        if locked.status == ImportJob.Status.DONE and not locked.is_dry_run:
            raise ApplicationError("import_done", _("This file was already imported."), status_code=409)
        if locked.status == ImportJob.Status.RUNNING and locked.lease_expires_at and locked.lease_expires_at > now:
            raise ApplicationError("import_busy", _("This import is running."), status_code=409)
        if locked.status == ImportJob.Status.UPLOADED or not (locked.columns or {}).get("mapping"):
            raise ApplicationError("import_not_mapped", _("Map the columns first."), status_code=409)
        locked.status, locked.failure, locked.attempts = ImportJob.Status.QUEUED, "", 0
        locked.queued_at, locked.finished_at, locked.lease_expires_at = now, None, None
        locked.save()
        _enqueue(locked.pk)
    return locked


def _enqueue(job_id: int) -> None:
    from customers.tasks.imports import import_run_task

    transaction.on_commit(lambda: import_run_task.delay(job_id))


def import_jobs_sweep(*, now: datetime.datetime | None = None) -> int:
    """Send the task again for jobs whose worker died (lease expired) or whose message was lost.

    A queued job older than ``QUEUED_TOO_LONG`` gets a new message (a duplicate message is harmless:
    the claim lets one worker in). Returns how many jobs were sent again.
    """
    now = now or timezone.now()
    stale = ImportJob.objects.filter(
        Q(status=ImportJob.Status.RUNNING, lease_expires_at__lt=now)
        | Q(status=ImportJob.Status.QUEUED, queued_at__lt=now - QUEUED_TOO_LONG)
    ).values_list("pk", flat=True)
    ids = list(stale)
    with transaction.atomic():
        ImportJob.objects.filter(pk__in=ids, status=ImportJob.Status.QUEUED).update(queued_at=now)
        for job_id in ids:
            _enqueue(job_id)
    return len(ids)


class _Reporter:
    """Collects the report's rows and progress; writes them in batches (committed as the import goes).

    Each flush also renews the job's lease, fenced by the claim's number: a run whose job was
    claimed again by another (its lease had expired) gets ``LeaseLost`` and stops.
    """

    def __init__(self, job: ImportJob, mapping: dict[str, str]) -> None:
        self.job, self.pending = job, []
        self.rows: dict[str, set[int]] = {level: set() for level in Level.values}
        self.reverse = {field: column for column, field in mapping.items()}
        self.labels = {name: str(f.label) for name, f in fields_of(job.kind).items()}
        self.last_flush = time.monotonic()

    def __call__(self, row: int, field: str, value: str, reason: str, level: str = Level.REJECTED) -> None:
        self.rows[level].add(row)
        column = self.reverse.get(field) or self.labels.get(field, field)
        self.pending.append(
            ImportRowError(
                job=self.job,
                row_number=row,
                column=column[:100],
                value=str(value)[:1000],
                reason=str(reason),
                level=level,
            )  # fmt: skip
        )
        if len(self.pending) >= 2000:
            self.flush()

    @property
    def rejected(self) -> int:
        return len(self.rows[Level.REJECTED])

    @property
    def warned(self) -> int:
        return len(self.rows[Level.WARNING] - self.rows[Level.REJECTED])

    def mine(self):
        """The job, as long as this run's claim holds it."""
        return ImportJob.objects.filter(pk=self.job.pk, status=ImportJob.Status.RUNNING, attempts=self.job.attempts)

    def flush(self, processed: int | None = None) -> None:
        updates = {"error_rows": self.rejected, "warning_rows": self.warned}
        updates["lease_expires_at"] = timezone.now() + lease()
        if processed is not None:
            updates["processed_rows"] = processed
        with transaction.atomic():
            if not self.mine().update(**updates):
                raise LeaseLost
            ImportRowError.objects.bulk_create(self.pending)
        self.pending = []
        self.last_flush = time.monotonic()


class _Heartbeat:
    """Renews the job's lease from its own thread (and database connection) while the run lives.

    A long set-based statement blocks the run's own thread for minutes at 1M rows; the lease must not
    expire meanwhile, or the sweeper would hand a live job to another worker. A worker that dies takes
    its heartbeat with it, and the lease runs out.
    """

    def __init__(self, job: ImportJob) -> None:
        self.job_id, self.attempt = job.pk, job.attempts
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"import-lease-{job.pk}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join()

    def _beat(self) -> None:
        interval = lease().total_seconds() / 3
        try:
            while not self.stopped.wait(interval):
                try:
                    with transaction.atomic():
                        # The run's final transaction holds the job's row until it commits: skip a beat
                        # rather than wait on it.
                        connection.cursor().execute("SET LOCAL lock_timeout = '1s'")
                        ImportJob.objects.filter(
                            pk=self.job_id, status=ImportJob.Status.RUNNING, attempts=self.attempt
                        ).update(lease_expires_at=timezone.now() + lease())
                except DatabaseError:
                    connection.close()  # a new connection at the next beat
        finally:
            connection.close()  # this thread's own connection


def _counted(rows, reporter: _Reporter) -> Iterator[tuple[int, dict]]:
    for processed, item in enumerate(rows, start=1):
        yield item
        if time.monotonic() - reporter.last_flush > 0.5:
            reporter.flush(processed)


def import_run(*, job_id: int) -> ImportJob | None:
    """Claim and run an import job; return it finished (done or failed), or None if not claimed.

    Runs outside any transaction: the final set-based write (customers) or each row (orders and
    contracts) is its own transaction, and progress is committed while it runs. The report is
    written in the language of the person who queued the job. A file-level problem (unreadable
    file, missing columns) fails the job with a message naming it; the rows' problems are in the
    report. A run that lost its claim to another (``LeaseLost``) stops without writing more and
    returns None.
    """
    job = import_job_claim(job_id=job_id)
    if job is None:
        return None
    with translation.override(job.language or settings.LANGUAGE_CODE), _Heartbeat(job):
        try:
            return _import_run(job)
        except LeaseLost:
            return None


def _finish(reporter: _Reporter, *, created: int, updated: int, counts: ImportCounts | None) -> None:
    """Write the rest of the report and mark the job done with its counters; ``LeaseLost`` if it is not ours.

    For a customer import this runs inside the import's own transaction: the rows and the job's
    ``done`` commit together, so a crash between them cannot leave written rows on a job run again.
    """
    reporter.flush()
    unchanged = counts.unchanged if counts else 0
    duplicates = counts.duplicates if counts else 0
    total = created + updated + unchanged + duplicates + reporter.rejected
    done = reporter.mine().update(
        status=ImportJob.Status.DONE,
        finished_at=timezone.now(),
        lease_expires_at=None,
        created_rows=created,
        updated_rows=updated,
        unchanged_rows=unchanged,
        flagged_rows=counts.flagged if counts else 0,
        duplicate_rows=duplicates,
        error_rows=reporter.rejected,
        warning_rows=reporter.warned,
        processed_rows=total,
        total_rows=total,
    )
    if not done:
        raise LeaseLost


def _fail(reporter: _Reporter, failure: str) -> None:
    reporter.flush()
    reporter.mine().update(
        status=ImportJob.Status.FAILED, failure=failure, finished_at=timezone.now(), lease_expires_at=None
    )


def _import_run(job: ImportJob) -> ImportJob:
    mapping = job.columns.get("mapping") or {}
    reporter = _Reporter(job, mapping)
    try:
        mapping_clean(kind=job.kind, header=import_job_header(job=job), columns=mapping)
        table = table_open(job.file.path)
        rows = _values(table, mapping)
        if job.kind == Kind.CUSTOMERS:

            def finish(counts: ImportCounts) -> None:  # inside the import's transaction
                _finish(reporter, created=counts.created, updated=counts.updated, counts=counts)

            counts = customers_import_bulk(job=job, rows=rows, report=reporter, dry_run=job.is_dry_run,
                                           progress=reporter.flush, before_commit=finish)  # fmt: skip
            if job.is_dry_run:
                _finish(reporter, created=counts.created, updated=counts.updated, counts=counts)
        else:
            created, updated = backoffice_import_rows(
                job=job, rows=_counted(rows, reporter), report=reporter, dry_run=job.is_dry_run
            )
            _finish(reporter, created=created, updated=updated, counts=None)
    except (ImportFileError, ApplicationError) as error:
        _fail(reporter, error.message)
    except LeaseLost:
        raise
    except Exception as error:
        _fail(reporter, _("The import stopped on an unexpected error: %(error)s") % {"error": str(error)[:500]})
        raise
    job.refresh_from_db()
    return job
