"""The dashboard's cached aggregates: confirmed and asymptomatic cases per day and
district (``CaseDayFigure``).

A fact about a case (confirmed, excluded) recounts the one cell it belongs to
(its district and report day) through investigation's shared selectors, so a
handler that runs twice, late, or after the publisher's transaction committed
leaves the same rows. ``case_figures_rebuild`` recounts every cell of a period
(nightly, and after an import or a correction that published nothing).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from fangkong.headquarters.models import CaseDayFigure
from fangkong.investigation.selectors import shared as investigation

DISTRICT_PATH = 12  # province, city, district: three segments of the tree's path
CLASSIFICATIONS = ("confirmed", "asymptomatic")


def area_of(scope_path: str) -> str:
    """The cached area of a record: its district (or the node it sits on above one)."""
    return scope_path[:DISTRICT_PATH]


def case_cell_refresh(area_path: str, day: dt.date) -> None:
    """Recount one cell (both classifications) from the cases themselves."""
    counts = investigation.public_case_counts_on(
        area_path, day, exact=len(area_path) < DISTRICT_PATH
    )
    rows = [
        CaseDayFigure(area_path=area_path, day=day, classification=c, n=counts.get(c, 0))
        for c in CLASSIFICATIONS
    ]
    with transaction.atomic():
        CaseDayFigure.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["area_path", "day", "classification"],
            update_fields=["n"],
        )


def on_case_fact(*, case_id: int, **_payload: Any) -> None:
    """``case.confirmed`` / ``case.reclassified`` / ``case.excluded``: recount the
    case's cell."""
    fact = investigation.case_fact(case_id)
    if fact is None or fact.report_date is None:
        return
    case_cell_refresh(area_of(fact.scope_path), fact.report_date)


def case_figures_rebuild(*, days: int = 35, today: dt.date | None = None) -> int:
    """Recount every cell of the last ``days`` days; returns the cells written."""
    today = today or timezone.localdate()
    since = today - dt.timedelta(days=days - 1)
    counts: dict[tuple[str, dt.date, str], int] = {}
    for path, day, cls in investigation.public_case_rows_since("", since):
        key = (area_of(path), day, cls)
        counts[key] = counts.get(key, 0) + 1
    with transaction.atomic():
        CaseDayFigure.objects.filter(day__gte=since).delete()
        CaseDayFigure.objects.bulk_create(
            [
                CaseDayFigure(area_path=a, day=d, classification=c, n=n)
                for (a, d, c), n in sorted(counts.items())
            ],
            batch_size=2000,
        )
    return len(counts)
