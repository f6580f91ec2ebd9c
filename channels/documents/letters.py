"""Letters to PDF (reportlab): A4, the address block in the window of a French DL window envelope.

Window position (documented in docs/channels/postal.md): the common French position for a sheet
folded in three into a DL (110 x 220 mm) or C5 window envelope, window on the right: on the sheet,
the rectangle from 110 to 200 mm from the left edge and from 45 to 90 mm from the top (90 x 45 mm,
the largest of the usual 85-90 x 40-45 mm windows). The address block (AFNOR NF Z10-011: at most
six lines of at most 38 characters) is printed from 118 mm from the left, first baseline 55 mm from
the top, so it keeps 5 mm or more from every edge of the window even for the smaller windows or a
sheet that slips in the envelope. A line too wide for the window gets a smaller font (down to 8 pt)
rather than leaving the window.

Nothing is stored: a letter's PDF is rendered again from its ``Letter`` row (the text and address
as they were when it was created), so it reads the same every time. Page compression is off, as for
invoices (a letter is a few kilobytes, and text stays checkable without a parser).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from channels.models import Letter
from customers.documents import SELLER_LINES

PAGE_WIDTH, PAGE_HEIGHT = A4
# The envelope window on the sheet, in millimetres from the left and from the top.
WINDOW_LEFT_MM, WINDOW_TOP_MM, WINDOW_WIDTH_MM, WINDOW_HEIGHT_MM = 110, 45, 90, 45
ADDRESS_LEFT_MM = WINDOW_LEFT_MM + 8
ADDRESS_FIRST_BASELINE_MM = WINDOW_TOP_MM + 10
ADDRESS_LINE_MM = 4.6
ADDRESS_MAX_WIDTH_MM = WINDOW_WIDTH_MM - 8 - 10  # ends by 190 mm: inside an 85 mm window too
ADDRESS_FONT, ADDRESS_SIZE, ADDRESS_MIN_SIZE = "Helvetica", 10, 8
LETTER_PLACE = "Lyon"  # where the letters are signed: the sender's city (SELLER_LINES)

MARGIN_LEFT, MARGIN_RIGHT = 22 * mm, PAGE_WIDTH - 20 * mm
BODY_FONT, BODY_SIZE, BODY_LEADING = "Helvetica", 10.5, 14.5
BODY_TOP_FIRST = PAGE_HEIGHT - 128 * mm
BODY_TOP_NEXT = PAGE_HEIGHT - 25 * mm
BODY_BOTTOM = 25 * mm


def window_rectangle() -> tuple[float, float, float, float]:
    """The window in PDF points: ``(x0, y0, x1, y1)`` with the origin bottom left."""
    x0 = WINDOW_LEFT_MM * mm
    y1 = PAGE_HEIGHT - WINDOW_TOP_MM * mm
    return x0, y1 - WINDOW_HEIGHT_MM * mm, x0 + WINDOW_WIDTH_MM * mm, y1


def letter_reference(letter: Letter) -> str:
    return f"L{letter.pk:08d}"


def letter_language(letter: Letter) -> str:
    return (letter.template.language if letter.template_id and letter.template else "") or letter.customer.language


@dataclass
class _Page:
    lines: list[tuple[float, str, str, float]] = field(default_factory=list)  # (y, text, font, size)


def address_font_size(lines: list[str]) -> float:
    """The largest size (10 pt down to 8 pt) at which every line fits in the window."""
    size = ADDRESS_SIZE
    widest = max((stringWidth(line, ADDRESS_FONT, 1) for line in lines), default=0)
    while size > ADDRESS_MIN_SIZE and widest * size > ADDRESS_MAX_WIDTH_MM * mm:
        size -= 0.5
    return size


def _body_pages(letter: Letter, signature: list[str]) -> list[_Page]:
    """Lay the body out: paragraphs wrapped to the text width, new pages as needed, then the signature."""
    width = MARGIN_RIGHT - MARGIN_LEFT
    pages = [_Page()]
    y = BODY_TOP_FIRST

    def emit(text: str, font: str = BODY_FONT, size: float = BODY_SIZE) -> None:
        nonlocal y
        if y < BODY_BOTTOM:
            pages.append(_Page())
            y = BODY_TOP_NEXT
        pages[-1].lines.append((y, text, font, size))
        y -= BODY_LEADING

    paragraphs = letter.body.replace("\r\n", "\n").split("\n")
    for paragraph in paragraphs:
        if not paragraph.strip():
            y -= BODY_LEADING * 0.6
            continue
        for line in simpleSplit(paragraph.rstrip(), BODY_FONT, BODY_SIZE, width):
            emit(line)
    if signature:
        y -= BODY_LEADING
        if y - BODY_LEADING * len(signature) < BODY_BOTTOM:
            y = BODY_BOTTOM - 1  # keep the signature block together on the next page
        for n, line in enumerate(signature):
            emit(line, "Helvetica-Bold" if n == 0 else BODY_FONT)
    return pages


def _signature(letter: Letter) -> list[str]:
    lines = []
    if letter.created_by_id and letter.created_by:
        lines.append(letter.created_by.get_full_name() or letter.created_by.get_username())
    lines.append(_("Customer service"))
    lines.append(SELLER_LINES[0])
    return lines


def letter_page_count(letter: Letter) -> int:
    with translation.override(letter_language(letter)):
        return len(_body_pages(letter, _signature(letter)))


def _draw_letter(pdf: canvas.Canvas, letter: Letter) -> int:
    pages = _body_pages(letter, _signature(letter))
    reference = letter_reference(letter)
    for number, page in enumerate(pages, start=1):
        if number == 1:
            _draw_first_page_head(pdf, letter, reference)
        else:
            pdf.setFont("Helvetica", 8)
            pdf.drawString(MARGIN_LEFT, PAGE_HEIGHT - 15 * mm, f"{letter.customer.display_name} · {reference}")
        for y, text, font, size in page.lines:
            pdf.setFont(font, size)
            pdf.drawString(MARGIN_LEFT, y, text)
        pdf.setFont("Helvetica", 7.5)
        pdf.drawRightString(
            MARGIN_RIGHT, 12 * mm,
            _("Ref. %(reference)s · page %(page)s of %(pages)s")
            % {"reference": reference, "page": number, "pages": len(pages)},
        )  # fmt: skip
        pdf.showPage()
    return len(pages)


def _draw_first_page_head(pdf: canvas.Canvas, letter: Letter, reference: str) -> None:
    # Sender, top left (outside the window: the envelope shows only the recipient).
    pdf.setFont("Helvetica-Bold", 11)
    pdf.drawString(MARGIN_LEFT, PAGE_HEIGHT - 20 * mm, SELLER_LINES[0])
    pdf.setFont("Helvetica", 8.5)
    for n, line in enumerate(SELLER_LINES[1:], start=1):
        pdf.drawString(MARGIN_LEFT, PAGE_HEIGHT - 20 * mm - n * 4.2 * mm, line)

    lines = [line for line in letter.address_lines if line][:6]  # printed without blank lines
    size = address_font_size(lines)
    pdf.setFont(ADDRESS_FONT, size)
    for n, line in enumerate(lines):
        pdf.drawString(ADDRESS_LEFT_MM * mm, PAGE_HEIGHT - (ADDRESS_FIRST_BASELINE_MM + n * ADDRESS_LINE_MM) * mm, line)

    created = timezone.localtime(letter.created_at).date()
    pdf.setFont("Helvetica", 10)
    pdf.drawString(
        WINDOW_LEFT_MM * mm, PAGE_HEIGHT - 100 * mm,
        _("%(place)s, %(date)s") % {"place": LETTER_PLACE, "date": formats.date_format(created, "DATE_FORMAT")},
    )  # fmt: skip
    pdf.setFont("Helvetica", 8.5)
    pdf.drawString(MARGIN_LEFT, PAGE_HEIGHT - 100 * mm,
                   _("Customer account: %(account)s") % {"account": letter.customer.account_number})  # fmt: skip
    pdf.drawString(MARGIN_LEFT, PAGE_HEIGHT - 104.5 * mm, _("Our reference: %(reference)s") % {"reference": reference})
    if letter.subject:
        pdf.setFont("Helvetica-Bold", 10.5)
        subject = simpleSplit(_("Subject: %(subject)s") % {"subject": letter.subject}, "Helvetica-Bold", 10.5,
                              MARGIN_RIGHT - MARGIN_LEFT)  # fmt: skip
        for n, line in enumerate(subject[:2]):
            pdf.drawString(MARGIN_LEFT, PAGE_HEIGHT - (115 + n * 5) * mm, line)


def letters_pdf(letters: Iterable[Letter], *, title: str = "") -> tuple[bytes, list[int]]:
    """Render letters one after the other (each starts on a new page); return the PDF and page counts.

    Each letter is drawn in its own language (its template's, else the customer's). The caller passes
    letters with ``customer``, ``template`` and ``created_by`` selected (no query per letter).
    """
    buffer = io.BytesIO()
    counts = letters_pdf_write(letters, buffer, title=title)
    return buffer.getvalue(), counts


def letters_pdf_write(letters: Iterable[Letter], output: BinaryIO, *, title: str = "") -> list[int]:
    """``letters_pdf`` into a file (a batch's PDF goes to a temporary file, then streams to the browser);
    ``letters`` may be an iterator (one chunk of rows in memory at a time)."""
    pdf = canvas.Canvas(output, pagesize=A4, pageCompression=0)
    pdf.setAuthor(SELLER_LINES[0])
    if title:
        pdf.setTitle(title)
    counts = []
    for letter in letters:
        with translation.override(letter_language(letter)):
            counts.append(_draw_letter(pdf, letter))
    if not counts:
        pdf.showPage()
    pdf.save()
    return counts


def letter_pdf(letter: Letter) -> bytes:
    """One letter as a PDF (see ``letters_pdf``)."""
    with translation.override(letter_language(letter)):
        title = _("Letter %(reference)s") % {"reference": letter_reference(letter)}
    return letters_pdf([letter], title=title)[0]
