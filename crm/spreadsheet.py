"""The one rule for a value Relais writes into a spreadsheet file (every CSV and XLSX it hands out).

Two dangers, one module:

- **Formulas** (CSV injection, OWASP): a spreadsheet runs a cell that starts with ``=``, ``+``, ``-``,
  ``@``, a tab or a carriage return as a formula (``=HYPERLINK(...)``, ``+cmd|...``).
  In **CSV**, such a text gets a leading apostrophe, which makes every spreadsheet read it as text;
  the one exception is a negative number (``-12.50``, ``-3``), which a spreadsheet reads as the
  same number. A phone number in international format is text too, so it keeps its ``+`` and its
  spacing: ``+33 6 12 34 56 78`` is written ``'+33 6 12 34 56 78`` (without the apostrophe, Excel
  would turn ``+33612345678`` into the number 33612345678 and ``+33 6 12…`` into an error).
  In **XLSX**, cells are typed: every text is written as a string cell (never a formula, whatever
  it starts with), and one starting with a formula character is marked "quote prefix", so Excel
  and LibreOffice show ``+33 6 12 34 56 78`` or ``=HYPERLINK(...)`` exactly as stored, without an
  apostrophe, and keep it text when the user edits the cell.
- **Control characters**: the XML inside an XLSX file cannot hold C0 control characters other than
  tab, line feed and carriage return (openpyxl raises ``IllegalCharacterError``). Input refuses them
  today (``crm.input_guard``), but older data may hold some: on write, each one becomes U+FFFD
  (the replacement character ``�``), in CSV and XLSX alike, so an export never fails and the reader
  sees that something was there.

CSV files a person opens follow the spreadsheet habits of their language (``csv_dialect``): for
French, ``;``-separated UTF-8 with a byte-order mark, which French Excel opens straight into columns
with the accents right (it expects ``;`` because ``,`` is its decimal separator); otherwise
comma-separated UTF-8 without a BOM.

Values are *stored* as the text they were; only the files Relais writes are neutralised, here.
``None`` is an empty cell; a list or tuple is written as its items joined by ", ".
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMULA_CHARACTERS = frozenset(FORMULA_START)
# The C0 controls an XLSX cell cannot hold: openpyxl's ILLEGAL_CHARACTERS_RE (tab, LF and CR are legal).
ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
REPLACEMENT = "\ufffd"
NEGATIVE_NUMBER = re.compile(r"^-\d+(?:[.,]\d+)?$")


@dataclass(frozen=True)
class CsvDialect:
    delimiter: str
    bom: str  # written before the first line: "\ufeff" or nothing


def csv_dialect(language: str | None) -> CsvDialect:
    """``;`` and a BOM for French (what French Excel opens as columns), ``,`` and no BOM otherwise."""
    if (language or "").lower().startswith("fr"):
        return CsvDialect(delimiter=";", bom="\ufeff")
    return CsvDialect(delimiter=",", bom="")


def spreadsheet_text(value) -> str:
    """``value`` as text, with the characters no spreadsheet file can hold replaced by U+FFFD."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = ", ".join(spreadsheet_text(item) for item in value)
    text = str(value)
    if text.isprintable():  # no control character at all: the common case, checked in C
        return text
    return ILLEGAL_CHARACTERS.sub(REPLACEMENT, text)


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet would run ``text`` as a formula (a negative number is a number, not one)."""
    return text[:1] in FORMULA_CHARACTERS and not NEGATIVE_NUMBER.match(text)


def csv_cell(value) -> str:
    """``value`` as a CSV cell that a spreadsheet shows and never runs (see the module docstring)."""
    text = spreadsheet_text(value)
    return "'" + text if is_formula_like(text) else text


def csv_row(values) -> list[str]:
    return [csv_cell(value) for value in values]


def xlsx_cell(sheet, value):
    """``value`` as a cell of a write-only openpyxl ``sheet``: numbers, dates and booleans typed, text as text."""
    from openpyxl.cell import WriteOnlyCell

    if value is None or isinstance(value, (bool, int, float, Decimal, datetime.date, datetime.time)):
        if isinstance(value, datetime.datetime) and value.tzinfo is not None:
            value = value.replace(tzinfo=None)  # XLSX has no time zones; the caller passes local time
        return WriteOnlyCell(sheet, value=value)
    text = spreadsheet_text(value)
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # openpyxl would make a formula of a text starting with "="
    if is_formula_like(text):
        cell.quotePrefix = True
    return cell


def xlsx_row(sheet, values) -> list:
    """A row for ``sheet.append``: each value through ``xlsx_cell``."""
    return [xlsx_cell(sheet, value) for value in values]
