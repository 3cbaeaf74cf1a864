"""XLSX exports (openpyxl in write-only mode: rows are streamed into the file,
never held as cell objects)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook


def _book(title: str, header: list[str], rows: Iterator[list[Any]]) -> Iterator[bytes]:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    yield out.getvalue()


def coverage_xlsx(rows: list[Any]) -> Iterator[bytes]:
    header = [
        _("Area"),
        _("Target"),
        _("Excluded"),
        _("Sampled"),
        _("With result"),
        _("Negative"),
        _("Positive"),
        _("Coverage %"),
    ]
    return _book(
        _("Coverage"),
        header,
        (
            [
                r.name,
                r.target,
                r.excluded,
                r.sampled,
                r.with_result,
                r.negative,
                r.positive,
                r.coverage,
            ]
            for r in rows
        ),
    )


def untested_xlsx(rows: list[dict[str, Any]]) -> Iterator[bytes]:
    header = [_("Name"), _("Document"), _("Phone"), _("Building"), _("Unit"), _("Limited mobility")]
    return _book(
        _("Untested"),
        header,
        (
            [
                r["name"],
                r["doc"],
                r["phone"],
                r["building"],
                r["unit"],
                _("yes") if r["limited_mobility"] else "",
            ]
            for r in rows
        ),
    )
