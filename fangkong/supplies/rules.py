"""The supplies rules in force on a day (data: per-capita needs, days-of-supply
thresholds, price rules)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from fangkong.core.errors import Conflict
from fangkong.supplies.models import ItemNeed, PriceRule, SupplyRule


def supply_rule(on: dt.date | None = None) -> SupplyRule:
    day = on or timezone.localdate()
    rule = SupplyRule.objects.filter(effective_from__lte=day).order_by("-effective_from").first()
    if rule is None:
        raise Conflict(code="no_supply_rule")
    return rule


def needs(on: dt.date | None = None) -> dict[int, Decimal]:
    """Need per person and day of every item with one in force (item id → amount)."""
    day = on or timezone.localdate()
    out: dict[int, Decimal] = {}
    for row in ItemNeed.objects.filter(effective_from__lte=day).order_by(
        "item_id", "-effective_from"
    ):
        out.setdefault(row.item_id, row.per_person_daily)
    return out


def price_rule(item_id: int, on: dt.date) -> PriceRule:
    """The item's own rule in force on the day, else the rule for every item."""
    rows = PriceRule.objects.filter(
        Q(item_id=item_id) | Q(item__isnull=True), effective_from__lte=on
    ).order_by("item_id", "-effective_from")
    own = [r for r in rows if r.item_id == item_id]
    general = [r for r in rows if r.item_id is None]
    found = own or general
    if not found:
        raise Conflict(code="no_price_rule")
    return found[0]
