"""CSV and XLSX export of the filtered customer list, in the language of the user who asks.

Values are what the list shows, not internal codes: labels for the title, kind, stage, language and
preferred channel ("M.", "Prospect", "Français" on a French page), phone numbers in their display
form, dates in local time, one column per custom attribute headed by its label in that language.

CSV follows the spreadsheet habits of the language (``crm.spreadsheet.csv_dialect``: ``;`` and a
byte-order mark for French, ``,`` otherwise). It is streamed row by row from a server-side cursor,
so a million customers never sit in memory. XLSX cannot be streamed (it is a zip), so it is written
in openpyxl's write-only mode and capped at ``XLSX_MAX_ROWS``. Every cell goes through
``crm.spreadsheet`` (formulas neutralised, control characters replaced), the one rule for every
file Relais hands out.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.spreadsheet import csv_dialect, csv_row, xlsx_row
from customers.choices import CustomerKind, PreferredChannel, Stage, Title
from customers.models import AttributeDefinition
from customers.normalise import phone_display

XLSX_MAX_ROWS = 100_000
CHUNK_SIZE = 2_000
COLUMNS = [
    "account_number", "kind", "title", "given_name", "family_name", "company_name", "stage", "language",
    "owner__username", "preferred_channel", "tags", "primary_email", "primary_phone", "primary_postcode",
    "primary_city", "created_at", "attributes",
]  # fmt: skip


def _headers(definitions: list[AttributeDefinition]) -> list[str]:
    return [
        _("Account number"), _("Kind"), _("Title"), _("Given name"), _("Family name"), _("Company"), _("Stage"),
        _("Language"), _("Owner"), _("Preferred channel"), _("Tags"), _("Email"), _("Phone"), _("Postcode"),
        _("City"), _("Created"), *(definition.display_label for definition in definitions),
    ]  # fmt: skip


def _labels(choices) -> dict[str, str]:
    """Each stored code's label in the active language, once per export (not once per row)."""
    return {value: str(label) for value, label in choices.choices if value}


def _choice_label(labels: dict[str, str], value: str) -> str:
    """The label of a stored code; an empty code (no title...) stays empty, an unknown one shows as is."""
    return labels.get(value, value) if value else ""


def _attribute_value(value, yes: str, no: str):
    if value is True:
        return yes
    if value is False:
        return no
    return value


def _rows(queryset: QuerySet, definitions: list[AttributeDefinition], *, for_xlsx: bool, limit: int | None = None):
    """The export's rows as plain values, labels in the active language."""
    languages = {code: str(name) for code, name in settings.LANGUAGES}
    kinds, titles, stages, channels = (_labels(c) for c in (CustomerKind, Title, Stage, PreferredChannel))
    yes, no = _("Yes"), _("No")
    rows = queryset.order_by("-created_at", "-id").values(*COLUMNS)
    if limit is not None:
        rows = rows[:limit]
    for row in rows.iterator(chunk_size=CHUNK_SIZE):
        created = timezone.localtime(row["created_at"]).replace(tzinfo=None, microsecond=0)
        attributes = row["attributes"] or {}
        yield [
            row["account_number"],
            _choice_label(kinds, row["kind"]), _choice_label(titles, row["title"]),
            row["given_name"], row["family_name"], row["company_name"],
            _choice_label(stages, row["stage"]),
            languages.get(row["language"], row["language"]),
            row["owner__username"],
            _choice_label(channels, row["preferred_channel"]),
            row["tags"], row["primary_email"],
            phone_display(row["primary_phone"]) if row["primary_phone"] else "",
            row["primary_postcode"], row["primary_city"],
            created if for_xlsx else created.isoformat(sep=" ", timespec="minutes"),
            *(_attribute_value(attributes.get(d.key), yes, no) for d in definitions),
        ]  # fmt: skip


class _Echo:
    def write(self, value: str) -> str:
        return value


def customers_csv_stream(*, queryset: QuerySet, language: str | None = None) -> Iterator[str]:
    """CSV lines of the export in ``language`` (the active one by default), one at a time.

    The language is read now, when the response is built: the lines are produced later, while the
    response streams, maybe in another thread where the request's language is not active.
    """
    language = language or translation.get_language()
    return _csv_lines(queryset, language)


def _csv_lines(queryset: QuerySet, language: str) -> Iterator[str]:
    dialect = csv_dialect(language)
    writer = csv.writer(_Echo(), delimiter=dialect.delimiter)
    with translation.override(language):
        definitions = list(AttributeDefinition.objects.all())
        yield dialect.bom + writer.writerow(csv_row(_headers(definitions)))
        for row in _rows(queryset, definitions, for_xlsx=False):
            yield writer.writerow(csv_row(row))


def customers_xlsx_file(*, queryset: QuerySet) -> tempfile.SpooledTemporaryFile:
    """An XLSX workbook of at most ``XLSX_MAX_ROWS`` customers (active language), rewound to its start."""
    from openpyxl import Workbook

    definitions = list(AttributeDefinition.objects.all())
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Customers"))
    sheet.append(xlsx_row(sheet, _headers(definitions)))
    for row in _rows(queryset, definitions, for_xlsx=True, limit=XLSX_MAX_ROWS):
        sheet.append(xlsx_row(sheet, row))
    output = tempfile.SpooledTemporaryFile(max_size=20 * 1024 * 1024)  # noqa: SIM115 - returned to the caller
    workbook.save(output)
    output.seek(0)
    return output
