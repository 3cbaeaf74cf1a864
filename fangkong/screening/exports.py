"""XLSX exports, through the one export writer (``fangkong.core.sheets``: text
cells typed as text, so a name starting with ``=`` is never a formula)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from fangkong.core.sheets import xlsx_stream


def _book(title: str, header: list[str], rows: Iterator[list[Any]]) -> Iterator[bytes]:
    return xlsx_stream(title, header, rows)


def coverage_xlsx(rows: list[Any]) -> Iterator[bytes]:
    header = [
        _("Area"),
        _("Target"),
        pgettext("excluded from a round", "Excluded"),
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
