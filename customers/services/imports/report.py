"""The per-row report of an import: row, column, value, reason; downloadable as CSV.

Values are *stored* as the text they were, never evaluated; the CSV goes through ``crm.spreadsheet``
(formulas neutralised, the separator and BOM of the user's language), as every file Relais hands out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from crm.spreadsheet import csv_dialect, csv_row
from customers.models import ImportJob, ImportRowError


def report_rows(*, job: ImportJob) -> Iterable[ImportRowError]:
    return ImportRowError.objects.filter(job=job).order_by("row_number", "id").iterator(chunk_size=2000)


def report_csv(*, job: ImportJob) -> str:
    """The job's rejected rows as CSV text in the active language (its separator and BOM, its words)."""
    dialect = csv_dialect(get_language())
    buffer = io.StringIO()
    buffer.write(dialect.bom)
    writer = csv.writer(buffer, delimiter=dialect.delimiter)
    writer.writerow(csv_row([_("row"), _("column"), _("value"), _("reason")]))
    for error in report_rows(job=job):
        writer.writerow(csv_row([error.row_number, error.column, error.value, error.reason]))
    return buffer.getvalue()
