"""Printable gate passes: A4 sheets per building, and a pass's QR code as an image.

For residents without a smartphone, a coordinator prints their building's
passes, eight to an A4 page: the QR (the pass's token, nothing else), the
initials, the short address, the kind and the validity — no more than the
guard sees (contract, "Gate passes"). Drawn with ReportLab: its QR widget
and its built-in CID fonts (``STSong-Light``, rendered by the PDF viewer)
set Chinese text without shipping a font file; the QR image is ReportLab's
own QR matrix painted with Pillow (ReportLab's dependency).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from PIL import Image
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"
COLUMNS, ROWS = 2, 4
MARGIN = 12 * mm
QR_SIZE = 48 * mm
#: Quiet zone around a QR code, in modules (ISO/IEC 18004 asks for four).
QUIET_MODULES = 4
#: The error correction of printed passes: M survives a crease or a smudge.
QR_LEVEL = "M"

pdfmetrics.registerFont(UnicodeCIDFont(FONT))


@dataclass(frozen=True, slots=True)
class PrintedPass:
    """What one pass on a sheet shows.

    :param kind: the kind's label in the sheet's language (``居民通行证``).
    :param valid_until: the last day, ``YYYY-MM-DD``.
    """

    token: str
    initials: str
    address: str
    kind: str
    valid_until: str


def qr_modules(text: str) -> list[list[bool]]:
    """Return the dark modules of ``text``'s QR code, row by row (no quiet zone)."""
    code = QRCode(None, getattr(QRErrorCorrectLevel, QR_LEVEL))
    code.addData(text)
    code.make()
    size = code.getModuleCount()
    return [[bool(code.isDark(row, column)) for column in range(size)] for row in range(size)]


def qr_png(text: str, scale: int = 6) -> bytes:
    """Return ``text``'s QR code as a black-on-white PNG, ``scale`` pixels a module."""
    modules = qr_modules(text)
    side = (len(modules) + 2 * QUIET_MODULES) * scale
    image = Image.new("1", (side, side), 1)
    for row, line in enumerate(modules):
        for column, dark in enumerate(line):
            if dark:
                left = (column + QUIET_MODULES) * scale
                top = (row + QUIET_MODULES) * scale
                image.paste(0, (left, top, left + scale, top + scale))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def sheet_pdf(title: str, passes: Iterable[PrintedPass], labels: Mapping[str, str]) -> bytes:
    """Return an A4 PDF of ``passes``, eight a page, each page headed ``title``.

    :param labels: ``valid_until`` → the words before the date (``有效期至``).
    """
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    pdf.setTitle(title)
    width, height = A4
    cell_w = (width - 2 * MARGIN) / COLUMNS
    cell_h = (height - 2 * MARGIN - 10 * mm) / ROWS
    per_page = COLUMNS * ROWS
    items = list(passes)
    for start in range(0, max(len(items), 1), per_page):
        pdf.setFont(FONT, 12)
        pdf.drawString(MARGIN, height - MARGIN - 4 * mm, title)
        for index, item in enumerate(items[start : start + per_page]):
            column, row = index % COLUMNS, index // COLUMNS
            x = MARGIN + column * cell_w
            y = height - MARGIN - 10 * mm - (row + 1) * cell_h
            _draw_pass(pdf, item, x, y, cell_w, cell_h, labels)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def _draw_pass(
    pdf: canvas.Canvas,
    item: PrintedPass,
    x: float,
    y: float,
    w: float,
    h: float,
    labels: Mapping[str, str],
) -> None:
    """Draw one pass in its cell: a dashed cutting frame, the QR, the words."""
    pdf.setDash(3, 3)
    pdf.setLineWidth(0.5)
    pdf.rect(x + 2 * mm, y + 2 * mm, w - 4 * mm, h - 4 * mm)
    pdf.setDash()
    widget = QrCodeWidget(item.token, barLevel=QR_LEVEL, barWidth=QR_SIZE, barHeight=QR_SIZE)
    drawing = Drawing(QR_SIZE, QR_SIZE)
    drawing.add(widget)
    drawing.drawOn(pdf, x + 4 * mm, y + (h - QR_SIZE) / 2)
    text_x = x + 8 * mm + QR_SIZE
    top = y + h - 16 * mm
    pdf.setFont(FONT, 22)
    pdf.drawString(text_x, top, item.initials)
    pdf.setFont(FONT, 18)
    pdf.drawString(text_x, top - 10 * mm, item.address)
    pdf.setFont(FONT, 11)
    pdf.drawString(text_x, top - 18 * mm, item.kind)
    pdf.drawString(text_x, top - 24 * mm, f"{labels['valid_until']} {item.valid_until}")
