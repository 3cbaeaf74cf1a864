"""What supplies promises to other apps (the only supplies module they import).

Unscoped by design: the callers pass the area they may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from fangkong.supplies import selectors as _selectors


@dataclass(frozen=True)
class DistrictDays:
    """A district's days of supply: its worst level and the item that runs out first."""

    id: int
    name: str
    level: str  # ok / warn / alert / none (no need known)
    lowest_item: str
    lowest_days: Decimal | None
    items_alert: int


def days_of_supply_by_district(prefix: str, on: dt.date | None = None) -> list[DistrictDays]:
    out = []
    for row in _selectors.days_of_supply_under(prefix, on):
        low = row.lowest
        out.append(
            DistrictDays(
                id=row.district.pk,
                name=row.district.name,
                level=row.level,
                lowest_item=low.item.name if low else "",
                lowest_days=low.days if low else None,
                items_alert=sum(1 for i in row.items if i.level == "alert"),
            )
        )
    return out
