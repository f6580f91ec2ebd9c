"""The per-row report of an import: row, column, value, reason; downloadable as CSV.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) as a
formula (CSV injection, OWASP). Values are *stored* as the text they were, never evaluated; only files
that Relais hands out neutralise them with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

from django.utils.translation import gettext as _

from customers.models import ImportJob, ImportRowError

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def spreadsheet_cell(value: str) -> str:
    """``value`` made safe for a spreadsheet: a formula-looking text gets a leading apostrophe.

    Plain signed numbers (``-12.50``) are left alone: they are data, not formulas.
    """
    if value and value.startswith(FORMULA_START) and not NUMBER.match(value):
        return "'" + value
    return value


def report_rows(*, job: ImportJob) -> Iterable[ImportRowError]:
    return ImportRowError.objects.filter(job=job).order_by("row_number", "id").iterator(chunk_size=2000)


def report_csv(*, job: ImportJob) -> str:
    """The job's rejected rows as CSV text (with a BOM so spreadsheet programs read UTF-8)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([_("row"), _("column"), _("value"), _("reason")])
    for error in report_rows(job=job):
        writer.writerow(
            [
                error.row_number,
                spreadsheet_cell(error.column),
                spreadsheet_cell(error.value),
                spreadsheet_cell(error.reason),
            ]
        )
    return buffer.getvalue()
