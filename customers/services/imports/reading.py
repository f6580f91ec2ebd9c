"""Reading an import file: CSV (encoding detected, separator sniffed) or XLSX (openpyxl, read-only).

Rows are streamed, never loaded whole, so a 1M-row file reads in constant memory. A file that cannot
be read raises ``ImportFileError`` with a message for the person who uploaded it.
"""

from __future__ import annotations

import codecs
import csv
import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from crm.errors import ApplicationError

SAMPLE_BYTES = 64 * 1024
XLSX_MAGIC = b"PK\x03\x04"


class ImportFileError(ApplicationError):
    def __init__(self, message: str) -> None:
        super().__init__("import_file", message, field="file")


@dataclass
class ImportTable:
    """A file's header and its data rows as ``(row number, cells)``; row 1 is the header."""

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    encoding: str = ""
    delimiter: str = ""


def encoding_detect(sample: bytes) -> str:
    """``utf-8-sig``, ``utf-8`` or ``cp1252`` (``latin-1`` if cp1252 cannot decode it); refuses binary and UTF-16."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in sample:
        raise ImportFileError(
            _(
                "The file is not a text file in UTF-8 or Windows-1252 (it looks like UTF-16 or binary). "
                "Save it as “CSV UTF-8” and upload it again."
            )
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def delimiter_sniff(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=";,\t|").delimiter
    except csv.Error:
        counts = {d: first_line.count(d) for d in ";,\t|"}
        return max(counts, key=counts.get) if any(counts.values()) else ","


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _csv_rows(reader, *, encoding: str) -> Iterator[tuple[int, list[str]]]:
    number = 1
    try:
        for cells in reader:
            number += 1
            stripped = [cell.strip() for cell in cells]
            if any(stripped):
                yield number, stripped
    except UnicodeDecodeError:
        raise ImportFileError(
            _(
                "The file's characters are not valid %(encoding)s after row %(row)d: save it as “CSV UTF-8” "
                "and upload it again."
            )
            % {"encoding": encoding.upper(), "row": number}
        ) from None
    except csv.Error as error:
        raise ImportFileError(
            _("Row %(row)d cannot be read: %(error)s.") % {"row": number + 1, "error": error}
        ) from None


def table_open(path: str | Path) -> ImportTable:
    """Open ``path`` (CSV or XLSX, told apart by content) and return its header and row iterator."""
    path = Path(path)
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if not sample.strip():
        raise ImportFileError(_("The file is empty."))
    if sample.startswith(XLSX_MAGIC):
        return _xlsx_open(path)
    encoding = encoding_detect(sample)
    text_sample = sample.decode(encoding, errors="ignore")
    delimiter = delimiter_sniff(text_sample)
    handle = path.open("r", encoding=encoding, errors="strict", newline="")
    reader = csv.reader(handle, delimiter=delimiter)
    rows = _csv_rows(reader, encoding=encoding)
    try:
        header = next(reader)
    except UnicodeDecodeError:
        raise ImportFileError(_("The file's first row is not valid %(encoding)s.") % {"encoding": encoding}) from None
    except StopIteration:
        raise ImportFileError(_("The file is empty.")) from None
    return ImportTable(header=[cell.strip() for cell in header], rows=rows, encoding=encoding, delimiter=delimiter)


def _xlsx_open(path: Path) -> ImportTable:
    import openpyxl

    try:
        # data_only: a formula cell gives its last computed value; nothing in the file is ever evaluated.
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - openpyxl raises many kinds (zip, XML, key) for a broken file
        raise ImportFileError(_("The spreadsheet cannot be opened: %(error)s") % {"error": error}) from None
    sheet = workbook.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    try:
        header = [_cell_text(cell) for cell in next(values)]
    except StopIteration:
        raise ImportFileError(_("The file is empty.")) from None

    def rows():
        for number, cells in enumerate(values, start=2):
            texts = [_cell_text(cell) for cell in cells]
            if any(texts):
                yield number, texts
        workbook.close()

    return ImportTable(header=header, rows=rows(), encoding="xlsx")


def row_count(path: str | Path) -> int:
    """Data rows in the file (line count for CSV, without the header), read fast in binary."""
    path = Path(path)
    with path.open("rb") as handle:
        head = handle.read(4)
        if head == XLSX_MAGIC:
            import openpyxl

            workbook = openpyxl.load_workbook(path, read_only=True)
            count = max((workbook.worksheets[0].max_row or 1) - 1, 0)
            workbook.close()
            return count
        handle.seek(0)
        lines, last = 0, b""
        while chunk := handle.read(1024 * 1024):
            lines += chunk.count(b"\n")
            last = chunk
    if last and not last.endswith(b"\n"):
        lines += 1
    return max(lines - 1, 0)
