"""``manage.py import_customers FILE --kind KIND --source NAME [--mapping col=field,...] [--dry-run]``."""

from __future__ import annotations

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from crm.errors import ApplicationError
from customers.models import ImportMapping
from customers.services.imports import import_job_create, import_run, mapping_for
from customers.services.imports.jobs import import_job_queue


class Command(BaseCommand):
    help = "Import customers, orders or contracts from a CSV or XLSX file (the same path as the import screen)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--kind", choices=ImportMapping.Kind.values, default=ImportMapping.Kind.CUSTOMERS)
        parser.add_argument("--source", required=True, help="source system, e.g. erp; the mapping is saved per source")
        parser.add_argument("--mapping", default="", help="column=field,... (default: saved or suggested)")
        parser.add_argument("--dry-run", action="store_true", help="check everything, write nothing but the report")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            with path.open("rb") as handle:
                job = import_job_create(kind=options["kind"], source=options["source"], upload=File(handle, path.name))
            header = job.columns["header"]
            if options["mapping"]:
                mapping = dict(pair.split("=", 1) for pair in options["mapping"].split(",") if "=" in pair)
            else:
                mapping = mapping_for(source=job.source, kind=job.kind, header=header)
            # The command runs the job in this process (no worker needed); the task is not sent.
            job = import_job_queue(job=job, mapping=mapping, dry_run=options["dry_run"], enqueue=False)
        except ApplicationError as error:
            raise CommandError(error.message) from None
        job = import_run(job_id=job.pk)
        note = " (dry run, nothing written)" if job.is_dry_run else ""
        self.stdout.write(
            f"{job.get_status_display()}: {job.created_rows} created, {job.updated_rows} updated, "
            f"{job.unchanged_rows} unchanged, {job.flagged_rows} possible duplicates, {job.duplicate_rows} duplicates "
            f"in the file, {job.warning_rows} with warnings, {job.error_rows} rejected of {job.total_rows} rows{note}."
        )
        for error in job.row_errors.all()[:50]:
            self.stdout.write(f"  row {error.row_number}, {error.column}: {error.value!r} - {error.reason}")
        if job.failure:
            raise CommandError(job.failure)
