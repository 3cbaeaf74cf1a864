"""PDF documents for every app (orders, certificates, reports), in Chinese and English.

Text is set in reportlab's built-in CID font ``STSong-Light``: the PDF viewer
supplies the glyphs (Adobe-GB1), so Chinese renders without shipping a font file
and a thousand one-page documents stay small. Latin text uses the same font, so
mixed lines keep one baseline.

    doc = PdfWriter(title="隔离通知书")
    doc.heading("集中隔离医学观察通知书")
    doc.fields([("姓名", "张三"), ("房间", "301")])
    doc.paragraph("……")
    doc.signature("太原市疫情防控指挥部", "2022年10月6日")
    doc.new_page()  # the next document of a bulk print
    data = doc.finish()

Output is reproducible (reportlab's invariant mode: no creation time or random
id), so the same input gives the same bytes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from functools import cache

from django.http import HttpResponse
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"
MARGIN = 22 * mm
# A run of Latin letters/digits is kept together; every other character (CJK,
# punctuation) may start a new line.
_TOKEN = re.compile(r"[A-Za-z0-9@._%+\-/:'’]+ *|\s+|.", re.S)
_NO_LINE_START = set("，。；：、！？）》」』”’,.;:!?)")


@cache
def _register_font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def text_width(text: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, _register_font(), size))


def wrap(text: str, width: float, size: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` points (CJK anywhere,
    Latin words whole unless a word alone is too wide; no line starts with
    closing punctuation)."""
    lines: list[str] = []
    for raw in text.split("\n"):
        line = ""
        line_width = 0.0
        for token in _TOKEN.findall(raw):
            w = text_width(token, size)
            if line and line_width + w > width and token[0] not in _NO_LINE_START:
                lines.append(line.rstrip())
                token = token.lstrip()
                w = text_width(token, size)
                line, line_width = "", 0.0
            while w > width and len(token) > 1:  # a word wider than the line
                cut = len(token)
                while cut > 1 and text_width(token[:cut], size) > width:
                    cut -= 1
                lines.append(token[:cut])
                token = token[cut:]
                w = text_width(token, size)
            line += token
            line_width += w
        lines.append(line.rstrip())
    return lines


class PdfWriter:
    """A flowing A4 document written top to bottom, page after page."""

    def __init__(self, *, title: str, author: str = "Fangkong", subject: str = "") -> None:
        _register_font()
        self._buffer = io.BytesIO()
        self.canvas = canvas.Canvas(self._buffer, pagesize=A4, invariant=True)
        self.canvas.setTitle(title)
        self.canvas.setAuthor(author)
        if subject:
            self.canvas.setSubject(subject)
        self.width, self.height = A4
        self.pages = 1
        self._y = self.height - MARGIN
        self._page_used = False
        self._footer = ""

    # --- page handling ----------------------------------------------------------------
    @property
    def text_width(self) -> float:
        return float(self.width - 2 * MARGIN)

    def footer(self, text: str) -> None:
        """A line printed at the bottom of the current and following pages."""
        self._footer = text

    def _draw_footer(self) -> None:
        if self._footer:
            self.canvas.setFont(FONT, 8)
            self.canvas.setFillGray(0.4)
            self.canvas.drawCentredString(self.width / 2, MARGIN / 2, self._footer)
            self.canvas.setFillGray(0)

    def new_page(self) -> None:
        """End the page (the next document of a bulk print starts on a new one)."""
        self._draw_footer()
        self.canvas.showPage()
        self.pages += 1
        self._y = self.height - MARGIN
        self._page_used = False

    def _need(self, height: float) -> None:
        if self._page_used and self._y - height < MARGIN:
            self.new_page()
        self._page_used = True

    def spacer(self, height_mm: float) -> None:
        self._y -= height_mm * mm

    # --- content ------------------------------------------------------------------------
    def heading(self, text: str, *, size: float = 18, centred: bool = True) -> None:
        for line in wrap(text, self.text_width, size):
            self._need(size * 1.5)
            self.canvas.setFont(FONT, size)
            self._y -= size * 1.2
            if centred:
                self.canvas.drawCentredString(self.width / 2, self._y, line)
            else:
                self.canvas.drawString(MARGIN, self._y, line)
        self._y -= size * 0.6

    def line_right(self, text: str, *, size: float = 10) -> None:
        self._need(size * 1.6)
        self.canvas.setFont(FONT, size)
        self._y -= size * 1.4
        self.canvas.drawRightString(self.width - MARGIN, self._y, text)

    def paragraph(self, text: str, *, size: float = 11, indent: bool = False) -> None:
        """Text wrapped to the page width; ``\\n`` starts a new line. With
        ``indent`` the first line is indented by two characters (Chinese style)."""
        leading = size * 1.7
        prefix = "\u3000\u3000" if indent else ""
        for line in wrap(prefix + text, self.text_width, size):
            self._need(leading)
            self.canvas.setFont(FONT, size)
            self._y -= leading
            self.canvas.drawString(MARGIN, self._y, line)
        self._y -= size * 0.5

    def fields(self, rows: Sequence[tuple[str, str]], *, size: float = 11) -> None:
        """Label and value pairs, the labels in a column."""
        label_width = max((text_width(label, size) for label, _v in rows), default=0) + 4 * mm
        leading = size * 1.7
        for label, value in rows:
            lines = wrap(value, self.text_width - label_width, size) or [""]
            self._need(leading * len(lines))
            self.canvas.setFont(FONT, size)
            self._y -= leading
            self.canvas.setFillGray(0.35)
            self.canvas.drawString(MARGIN, self._y, label)
            self.canvas.setFillGray(0)
            self.canvas.drawString(MARGIN + label_width, self._y, lines[0])
            for more in lines[1:]:
                self._y -= leading
                self.canvas.drawString(MARGIN + label_width, self._y, more)
        self._y -= size * 0.5

    def table(
        self,
        header: Sequence[str],
        rows: Iterable[Sequence[str]],
        *,
        widths: Sequence[float] | None = None,
        size: float = 9,
    ) -> None:
        """A ruled table; the header repeats on each new page. ``widths`` are
        shares of the text width (default: equal)."""
        shares = list(widths or [1.0] * len(header))
        total = sum(shares)
        cols = [self.text_width * s / total for s in shares]
        leading = size * 1.5

        def draw_row(cells: Sequence[str], *, bold: bool = False) -> None:
            wrapped = [
                wrap(str(c), w - 2 * mm, size) or [""] for c, w in zip(cells, cols, strict=False)
            ]
            height = leading * max(len(w) for w in wrapped) + 2 * mm
            if self._page_used and self._y - height < MARGIN:
                self.new_page()
                self._page_used = True
                if not bold:
                    draw_row(header, bold=True)
            self._page_used = True
            top = self._y
            self.canvas.setFont(FONT, size)
            if bold:
                self.canvas.setFillGray(0.92)
                self.canvas.rect(MARGIN, top - height, self.text_width, height, stroke=0, fill=1)
                self.canvas.setFillGray(0)
            x = MARGIN
            for lines, w in zip(wrapped, cols, strict=False):
                y = top - 1 * mm
                for ln in lines:
                    y -= leading
                    self.canvas.drawString(x + 1 * mm, y + size * 0.3, ln)
                x += w
            self.canvas.setLineWidth(0.3)
            self.canvas.line(MARGIN, top - height, MARGIN + self.text_width, top - height)
            self._y = top - height

        self._need(leading * 2)
        draw_row(header, bold=True)
        for row in rows:
            draw_row(row)
        self._y -= size

    def bar_chart(
        self,
        labels: Sequence[str],
        series: Sequence[tuple[str, Sequence[float]]],
        *,
        height_mm: float = 55,
        size: float = 7,
    ) -> None:
        """Stacked bars, one per label, with a legend (greys and red: prints in black
        and white too)."""
        fills = [(0.71, 0.14, 0.16), (0.85, 0.65, 0.13), (0.35, 0.35, 0.35), (0.6, 0.6, 0.6)]
        height = height_mm * mm
        self._need(height + size * 4)
        top = self._y
        base = top - height
        totals = [sum(float(s[1][i]) for s in series) for i in range(len(labels))]
        peak = max(totals, default=0) or 1
        c = self.canvas
        c.setLineWidth(0.3)
        c.line(MARGIN, base, MARGIN + self.text_width, base)
        c.setFont(FONT, size)
        c.drawString(MARGIN, top - size, f"{peak:g}")
        slot = self.text_width / max(len(labels), 1)
        bar = slot * 0.6
        every = max(1, int(len(labels) / (self.text_width / (size * 4))) + 1)
        for i, label in enumerate(labels):
            x = MARGIN + i * slot + (slot - bar) / 2
            y = base
            for k, (_name, values) in enumerate(series):
                h = (height - size * 2) * float(values[i]) / peak
                if h > 0:
                    c.setFillColorRGB(*fills[k % len(fills)])
                    c.rect(x, y, bar, h, stroke=0, fill=1)
                    y += h
            c.setFillGray(0)
            if totals[i]:
                c.drawCentredString(x + bar / 2, y + 1.5, f"{totals[i]:g}")
            if i % every == 0:
                c.drawCentredString(x + bar / 2, base - size * 1.3, str(label))
        x = MARGIN
        legend_y = base - size * 3
        for k, (name, _values) in enumerate(series):
            c.setFillColorRGB(*fills[k % len(fills)])
            c.rect(x, legend_y, size, size, stroke=0, fill=1)
            c.setFillGray(0)
            c.drawString(x + size * 1.5, legend_y + 1, name)
            x += size * 3 + text_width(name, size)
        self._y = legend_y - size
        self._page_used = True

    def signature(self, authority: str, date: str, *, size: float = 11) -> None:
        """The issuing authority and the date, right-aligned (where the seal goes)."""
        self.spacer(8)
        self.line_right(authority, size=size)
        self.line_right(date, size=size)

    def finish(self) -> bytes:
        self._draw_footer()
        self.canvas.save()
        return self._buffer.getvalue()


def pdf_response(data: bytes, filename: str, *, inline: bool = True) -> HttpResponse:
    """An HTTP response carrying a PDF (shown in the browser, or downloaded)."""
    response = HttpResponse(data, content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", filename) or "document.pdf"
    response["Content-Disposition"] = f'{disposition}; filename="{ascii_name}"'
    response["Content-Length"] = str(len(data))
    return response
