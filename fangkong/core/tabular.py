"""Reading uploaded row files: one decoding, one row numbering, one row-error type.

Every import (people, jurisdiction tree, lab results, case line lists, check-in
logs) reads its file with these pieces, so that a person sees the same message for
a file that is not text and the same row numbers as in their spreadsheet:

- **Decoding**: UTF-8 with or without BOM, else GB18030 (a superset of GBK);
  anything else is ``FileRejected`` with one translated message
  (``NOT_TEXT_MESSAGE``). ``decode_text`` for bytes in memory, ``detect_encoding``
  + ``text_lines`` to stream a large file.
- **Row numbers**: the spreadsheet's row number, the header being row 1 (so the
  first data row is row 2, ``FIRST_DATA_ROW``); a record whose quoted cell spans
  several lines is one row, as in a spreadsheet. JSON-lines files number lines
  from 1 (they have no header); a cell that an export of ours neutralised as a
  formula (``'=...``, ``fangkong.core.sheets``) reads as it was written.
- **Row errors**: ``RowError(row, column, message)``; a file rejected for its rows
  raises ``ImportRejected(errors)``, whose API body is the one error shape plus
  ``rows`` ([{row, column, message}], at most ``MAX_REPORTED_ERRORS``),
  ``error_count`` and ``rows_truncated``.

Example (an import service of a few columns, all or nothing)::

    from fangkong.core.tabular import ImportRejected, RowError, decode_text, read_table

    def things_import(*, actor, data: bytes) -> int:
        table = read_table(decode_text(data))  # FileRejected: not text, empty, no data rows
        if "name" not in table.columns:
            raise FileRejected(_("The column “name” is missing."))
        errors: list[RowError] = []
        names = []
        for row, cells in table.rows:  # row: the spreadsheet's row number (header = 1)
            name = table.cell(cells, "name")
            if not name:
                errors.append(RowError(row, "name", _("A name is required.")))
            names.append(name)
        if errors:
            raise ImportRejected(errors)  # 400 import_invalid, nothing written
        ...

A management command prints each error with ``str(error)`` ("row 3, name: ...")
and exits non-zero when nothing was imported (``CommandError``).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, NamedTuple

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from fangkong.core.errors import ValidationFailed

HEADER_ROW = 1
FIRST_DATA_ROW = 2
# Rows listed in an error response; the full list stays on the exception / result.
MAX_REPORTED_ERRORS = 1000
NOT_TEXT_MESSAGE = gettext_lazy(
    "The file is not readable text: save it as CSV in UTF-8 (or GB18030/GBK)."
)


class RowError(NamedTuple):
    """One problem in an uploaded file: the spreadsheet's row number (header = row 1;
    JSON lines: the line number), the column as the file names it, and a message."""

    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": str(self.message)}

    def __str__(self) -> str:
        return _("row %(row)s, %(column)s: %(message)s") % self.as_dict()


class FileRejected(ValidationFailed):
    """The file as a whole cannot be read (type, size, columns, encoding)."""

    code = "invalid_file"

    def __init__(self, message: Any, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message, fields={"file": message}, extra=extra)


class FileTooLarge(FileRejected):
    status = 413
    code = "file_too_large"


class ImportRejected(ValidationFailed):
    """Some rows are invalid and nothing was written. ``errors`` holds every
    ``RowError``; ``result`` the import's own report, when it has one."""

    code = "import_invalid"

    def __init__(self, errors: Sequence[RowError], *, result: Any = None) -> None:
        self.errors = sorted(errors, key=lambda e: e.row)
        self.result = result
        shown = self.errors[:MAX_REPORTED_ERRORS]
        rows = len({e.row for e in self.errors})
        super().__init__(
            ngettext(
                "%(count)s row of the file is not valid; nothing was imported. "
                "Correct it and import the file again.",
                "%(count)s rows of the file are not valid; nothing was imported. "
                "Correct them and import the file again.",
                rows,
            )
            % {"count": rows},
            extra={
                "rows": [e.as_dict() for e in shown],
                "error_count": len(self.errors),
                "rows_truncated": len(shown) < len(self.errors),
            },
        )


# --- Size and type of an upload -----------------------------------------------

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CONTROL_BYTES = frozenset([*range(0, 9), 11, 12, *range(14, 32), 127])


def open_upload(fileobj: Any, *, filename: str = "") -> IO[bytes]:
    """A seekable binary file positioned at 0, after checking its size.

    Raises FileTooLarge above ``settings.FANGKONG_MAX_IMPORT_BYTES`` and
    FileRejected for an empty file.
    """
    limit = int(settings.FANGKONG_MAX_IMPORT_BYTES)
    size = getattr(fileobj, "size", None)
    if isinstance(size, int) and size > limit:
        raise _too_large(limit)
    try:
        fileobj.seek(0, io.SEEK_END)
        size = fileobj.tell()
        fileobj.seek(0)
        out: IO[bytes] = fileobj
    except (AttributeError, OSError, io.UnsupportedOperation):
        spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
        size = 0
        while chunk := fileobj.read(1024 * 1024):
            size += len(chunk)
            if size > limit:
                spool.close()
                raise _too_large(limit) from None
            spool.write(chunk)
        spool.seek(0)
        out = spool
    if size > limit:
        raise _too_large(limit)
    if size == 0:
        raise FileRejected(_("The file is empty."))
    return out


def check_size(data: bytes) -> bytes:
    """``data`` if it is within ``FANGKONG_MAX_IMPORT_BYTES`` and not empty."""
    limit = int(settings.FANGKONG_MAX_IMPORT_BYTES)
    if len(data) > limit:
        raise _too_large(limit)
    if not data.strip():
        raise FileRejected(_("The file is empty."))
    return data


def _too_large(limit: int) -> FileTooLarge:
    return FileTooLarge(
        _("The file is too large: at most %(size)s MB can be imported at once. Split it.")
        % {"size": f"{limit / (1024 * 1024):.3g}"}
    )


def sniff_kind(f: IO[bytes], *, filename: str = "", allow_xlsx: bool = True) -> str:
    """``"xlsx"`` or ``"text"`` from the file's content; FileRejected otherwise."""
    head = f.read(8192)
    f.seek(0)
    name = filename.lower()
    if not head.strip():
        raise FileRejected(_("The file is empty."))
    if head.startswith(b"PK\x03\x04"):
        if allow_xlsx:
            return "xlsx"
        raise FileRejected(_("This is a compressed (zip or Excel) file; upload a CSV or GeoJSON."))
    if head.startswith(_OLE_MAGIC):
        raise FileRejected(
            _("Old Excel (.xls) files cannot be read: save the sheet as .xlsx or as CSV (UTF-8).")
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16
        raise FileRejected(NOT_TEXT_MESSAGE)
    if any(b in _CONTROL_BYTES for b in head):
        raise FileRejected(
            _("This file is not a spreadsheet: upload a CSV (UTF-8 or GB18030) or XLSX file.")
            if allow_xlsx
            else _("This file is not a CSV or GeoJSON text file.")
        )
    if name.endswith((".xlsx", ".xlsm")):
        raise FileRejected(_("The file is named .xlsx but is not an Excel workbook."))
    return "text"


# --- Decoding -----------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """The text of a whole file: UTF-8 (a BOM is dropped), else GB18030.

    Raises FileRejected (one message for every import, ``NOT_TEXT_MESSAGE``) for
    bytes that are neither (UTF-16 among them). A NUL character is refused too: no
    database column stores it.
    """
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise FileRejected(NOT_TEXT_MESSAGE)


def detect_encoding(f: IO[bytes]) -> str:
    """``utf-8-sig`` if the whole file is valid UTF-8, else ``gb18030`` (streamed)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := f.read(1024 * 1024):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        encoding = "utf-8-sig"
    except UnicodeDecodeError:
        encoding = "gb18030"
    f.seek(0)
    return encoding


def text_lines(f: IO[bytes], encoding: str) -> Iterator[str]:
    """Decoded lines (ending kept) for the csv module, reading in chunks."""
    f.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    pending = ""
    try:
        while chunk := f.read(1024 * 1024):
            parts = (pending + decoder.decode(chunk)).split("\n")
            pending = parts.pop()
            for part in parts:
                yield part + "\n"
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise FileRejected(NOT_TEXT_MESSAGE) from None
    if pending:
        yield pending


# --- Rows -----------------------------------------------------------------------


def csv_records(
    source: str | Iterable[str], *, delimiter: str | None = None
) -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet row number, cells) for each CSV record, blank records skipped.

    ``source`` is the decoded text or its lines (``text_lines``). The delimiter
    (comma, tab or semicolon) is guessed from the first line unless given.
    """
    lines: Iterator[str] = iter(
        io.StringIO(source, newline="") if isinstance(source, str) else source
    )
    first = next(lines, "")
    if delimiter is None:
        counts = {d: first.count(d) for d in (",", "\t", ";")}
        delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","

    def chained() -> Iterator[str]:
        yield first
        yield from lines

    reader = csv.reader(chained(), delimiter=delimiter)
    number = 0
    try:
        for number, cells in enumerate(reader, start=HEADER_ROW):  # noqa: B007
            if any(c.strip() for c in cells):
                if any("\x00" in c for c in cells):
                    raise FileRejected(NOT_TEXT_MESSAGE)
                yield number, [_formula_text(c) for c in cells]
    except csv.Error as exc:
        raise FileRejected(
            _("Row %(row)s of the file is not valid CSV (%(detail)s).")
            % {"row": number + 1, "detail": str(exc)}
        ) from None


def _formula_text(cell: str) -> str:
    """A cell our exports neutralised (``'=...``, ``fangkong.core.sheets``) reads as written."""
    if cell[:1] == "'" and cell[1:2] in _FORMULA_CHARS and cell[1:2]:
        return cell[1:]
    return cell


_FORMULA_CHARS = "=+-@\t\r"


def csv_rows(f: IO[bytes], encoding: str) -> Iterator[tuple[int, list[str]]]:
    """``csv_records`` of a binary file, streamed in the given encoding."""
    return csv_records(text_lines(f, encoding))


@dataclass
class Table:
    """A CSV file's header and its data rows (``read_table``)."""

    header: list[str]
    columns: dict[str, int]  # header name (stripped, lower case) -> cell index
    rows: Iterator[tuple[int, list[str]]]

    def cell(self, cells: list[str], column: str) -> str:
        """The stripped cell of ``column`` ('' when the row is short or lacks it)."""
        index = self.columns.get(column)
        if index is None or index >= len(cells):
            return ""
        return cells[index].strip()


def read_table(source: str | Iterable[str], *, delimiter: str | None = None) -> Table:
    """The header (first non-blank row) and the data rows of a CSV text.

    Raises FileRejected for a file without a header or without data rows.
    """
    records = csv_records(source, delimiter=delimiter)
    first = next(records, None)
    if first is None:
        raise FileRejected(_("The file is empty."))
    header = [h.replace("\ufeff", "").strip() for h in first[1]]
    second = next(records, None)
    if second is None:
        raise FileRejected(_("The file has a header row but no data rows."))

    def rows() -> Iterator[tuple[int, list[str]]]:
        yield second
        yield from records

    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        columns.setdefault(name.lower(), index)
    return Table(header=header, columns=columns, rows=rows())


def json_lines(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number from 1, object) for each non-blank line of a JSON-lines text.

    Raises FileRejected naming the first line that is not a JSON object.
    """
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            raise FileRejected(_("Line %(n)s is not valid JSON.") % {"n": number}) from None
        if not isinstance(obj, dict):
            raise FileRejected(_("Line %(n)s is not a JSON object.") % {"n": number})
        yield number, obj
