"""The one export writer: CSV and XLSX, streamed, safe to open in a spreadsheet.

Every export (people, audit, jurisdiction tree, screening coverage and untested
lists, portal statistics) writes its rows through ``csv_stream`` or
``xlsx_stream``:

- **CSV**: UTF-8 with a BOM (Excel then reads Chinese right), one chunk per row
  (constant memory whatever the size). A text cell that a spreadsheet would run
  as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return) is written with a leading apostrophe, which spreadsheets show as text;
  ``fangkong.core.tabular`` drops that apostrophe again when the file is imported.
- **XLSX** (openpyxl, write-only: rows are never held as cell objects): text cells
  are typed as text, so ``=HYPERLINK(...)`` stays the characters it is.

Numbers, dates and booleans are written as values, never neutralised.

Example::

    from fangkong.core.sheets import csv_response, csv_stream

    rows = ([p.name, p.phone_masked, p.birth_date] for p in people)
    return csv_response(csv_stream([_("Name"), _("Phone"), _("Born")], rows), "people.csv")
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_text(value: Any) -> Any:
    """A text value that cannot start a formula (numbers and dates unchanged)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bool | int | float):
        return value
    return safe_text(str(value))


class CsvLine:
    """A file-like object whose write returns the line (for csv.writer)."""

    def write(self, value: str) -> str:
        return value


def csv_stream(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The CSV file as byte chunks: BOM and header first, then one chunk per row."""
    writer = csv.writer(CsvLine())
    yield ("\ufeff" + writer.writerow([_csv_value(h) for h in header])).encode("utf-8")
    for row in rows:
        yield writer.writerow([_csv_value(v) for v in row]).encode("utf-8")


def _cells(ws: Any, values: Sequence[Any]) -> list[Any]:
    """A row of write-only cells: every text typed as text (never a formula)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES

    out = []
    for value in values:
        # openpyxl types a plain text as text unless it reads as a formula or an
        # error code: only those need a cell of their own (the rest stay cheap).
        if isinstance(value, str) and (value.startswith("=") or value in ERROR_CODES):
            cell = WriteOnlyCell(ws, value=value)
            cell.data_type = "s"  # never "f" (formula), whatever the text starts with
            out.append(cell)
        else:
            out.append(value)
    return out


class _Pipe(io.RawIOBase):
    """An unseekable sink for ``zipfile``: what was written is taken in chunks."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self._parts.append(bytes(b))
        return len(b)

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{_PKG}">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{_PKG}">'
        f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>'
        "</Relationships>"
    ),
    "xl/styles.xml": (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="{_NS}">'
        '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
        '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        "</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}
# Characters XML 1.0 cannot carry (a spreadsheet would refuse the file).
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EPOCH = dt.datetime(1899, 12, 30)  # noqa: DTZ001  (spreadsheet serials are naive local time)
XLSX_ROWS_PER_CHUNK = 500


def _xml_text(value: str) -> str:
    return (
        _ILLEGAL_XML.sub("", value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    )


def _xlsx_cell(value: Any) -> str:
    """One cell: text always as inline text (never a formula), numbers, booleans and
    dates as values (dates in the date style)."""
    if value is None or value == "":
        return "<c/>"
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float | Decimal):
        return f"<c><v>{value}</v></c>"
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.make_naive(value)
        serial = (value - _EPOCH).total_seconds() / 86400
        return f'<c s="2"><v>{serial}</v></c>'
    if isinstance(value, dt.date):
        return f'<c s="1"><v>{(value - _EPOCH.date()).days}</v></c>'
    text = _xml_text(str(value))
    return f'<c t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def xlsx_stream(
    title: str, header: Sequence[Any], rows: Iterable[Sequence[Any]]
) -> Iterator[bytes]:
    """The XLSX workbook (one sheet) as byte chunks, streamed: the zip is written as
    the rows come (deflated, a few hundred rows a chunk), so the first bytes leave
    at once and memory stays flat at any size. Every text is an inline string, so a
    cell starting with ``=`` is never a formula."""
    name = _xml_text(re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Sheet1")
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for part, body in _XLSX_PARTS.items():
            zf.writestr(part, body)
        zf.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{_NS}" '
            f'xmlns:r="{_REL}"><sheets><sheet name="{name}" sheetId="1" r:id="rId1"/>'
            "</sheets></workbook>",
        )
        yield pipe.take()
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                f'<worksheet xmlns="{_NS}"><sheetData>'.encode()
            )
            sheet.write(("<row>" + "".join(_xlsx_cell(str(h)) for h in header) + "</row>").encode())
            batch: list[str] = []
            for row in rows:
                batch.append("<row>" + "".join(_xlsx_cell(v) for v in row) + "</row>")
                if len(batch) >= XLSX_ROWS_PER_CHUNK:
                    sheet.write("".join(batch).encode())
                    batch.clear()
                    chunk = pipe.take()
                    if chunk:
                        yield chunk
            sheet.write(("".join(batch) + "</sheetData></worksheet>").encode())
    yield pipe.take()


def xlsx_workbook(
    sheets: Sequence[tuple[str, Sequence[Any], Iterable[Sequence[Any]]]],
    *,
    charts: Sequence[tuple[int, str]] = (),
) -> bytes:
    """A workbook of several sheets ``(title, header, rows)``, text typed as text.
    ``charts``: ``(sheet index, title)`` adds a bar chart of that sheet (the first
    column as categories, the other columns as series)."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference

    wb = Workbook(write_only=True)
    wanted = dict(charts)
    for i, (title, header, rows) in enumerate(sheets):
        ws = wb.create_sheet(title=title[:31])
        ws.append(_cells(ws, [str(h) for h in header]))
        n = 0
        for row in rows:
            ws.append(_cells(ws, row))
            n += 1
        if i in wanted and n:
            chart = BarChart()
            chart.type = "col"
            chart.grouping = "stacked"
            chart.overlap = 100
            chart.title = wanted[i]
            data = Reference(ws, min_col=2, max_col=len(header), min_row=1, max_row=n + 1)
            chart.add_data(data, titles_from_data=True)
            chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n + 1))
            ws.add_chart(chart, f"{chr(ord('A') + len(header) + 1)}2")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_response(chunks: Iterator[bytes], filename: str) -> StreamingHttpResponse:
    return _response(chunks, filename, "text/csv; charset=utf-8")


def xlsx_response(chunks: Iterator[bytes], filename: str) -> StreamingHttpResponse:
    return _response(chunks, filename, XLSX_TYPE)


def _response(chunks: Iterator[bytes], filename: str, content_type: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
