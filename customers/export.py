"""CSV and XLSX export of the filtered customer list.

CSV is streamed row by row from a server-side cursor, so a million customers never sit in memory.
XLSX cannot be streamed (it is a zip), so it is written in openpyxl's write-only mode and capped at
``XLSX_MAX_ROWS``. Cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab,
carriage return first) get a leading apostrophe (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from customers.normalise import phone_display

XLSX_MAX_ROWS = 100_000
CHUNK_SIZE = 2_000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = [
    "account_number", "kind", "title", "given_name", "family_name", "company_name", "stage", "language",
    "owner__username", "preferred_channel", "tags", "primary_email", "primary_phone", "primary_postcode",
    "primary_city", "created_at",
]  # fmt: skip


def cell_neutralise(value) -> object:
    """The value as a spreadsheet will show it and never execute it."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(item) for item in value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _headers() -> list[str]:
    return [
        _("Account number"), _("Kind"), _("Title"), _("Given name"), _("Family name"), _("Company"), _("Stage"),
        _("Language"), _("Owner"), _("Preferred channel"), _("Tags"), _("Email"), _("Phone"), _("Postcode"),
        _("City"), _("Created"),
    ]  # fmt: skip


def _rows(queryset: QuerySet, limit: int | None = None) -> Iterator[list]:
    rows = queryset.order_by("-created_at", "-id").values_list(*COLUMNS)
    if limit is not None:
        rows = rows[:limit]
    phone_index = COLUMNS.index("primary_phone")
    created_index = COLUMNS.index("created_at")
    for row in rows.iterator(chunk_size=CHUNK_SIZE):
        row = list(row)
        if row[phone_index]:
            row[phone_index] = phone_display(row[phone_index])
        row[created_index] = row[created_index].isoformat(timespec="seconds")
        yield [cell_neutralise(value) for value in row]


class _Echo:
    def write(self, value: str) -> str:
        return value


def customers_csv_stream(*, queryset: QuerySet) -> Iterator[str]:
    """CSV lines of the export (UTF-8 with a BOM so Excel reads the accents), one at a time."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(_headers())
    for row in _rows(queryset):
        yield writer.writerow(row)


def customers_xlsx_file(*, queryset: QuerySet) -> tempfile.SpooledTemporaryFile:
    """An XLSX workbook of at most ``XLSX_MAX_ROWS`` customers, in a temporary file rewound to its start."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Customers"))
    sheet.append(_headers())
    for row in _rows(queryset, limit=XLSX_MAX_ROWS):
        sheet.append(row)
    output = tempfile.SpooledTemporaryFile(max_size=20 * 1024 * 1024)  # noqa: SIM115 - returned to the caller
    workbook.save(output)
    output.seek(0)
    return output
