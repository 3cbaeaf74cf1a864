"""Reads of the supplies app, scoped to the user's area (outside it a warehouse,
market or report does not exist)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from fangkong.core import permissions
from fangkong.core.errors import NotFound
from fangkong.core.models import Jurisdiction, Person, path_upper_bound
from fangkong.supplies import rules
from fangkong.supplies.models import (
    Delivery,
    Item,
    Market,
    Movement,
    PriceReport,
    Stock,
    Warehouse,
    ZoneRequest,
)
from fangkong.zones.selectors.shared import ZoneInForce, service_kinds, zones_in_force


def _scope(user: Any) -> str:
    """The user's path prefix for supplies reads (NotFound when they have none)."""
    permissions.require(user, "supplies.view")
    prefix = permissions.scope_path(user)
    if prefix is None:
        raise NotFound()
    return prefix


def _under(prefix: str, column: str = "scope_path") -> Q:
    if not prefix:
        return Q()
    return Q(**{f"{column}__gte": prefix, f"{column}__lt": path_upper_bound(prefix)})


def items() -> QuerySet[Item]:
    return Item.objects.filter(active=True)


# --- Warehouses and stock ----------------------------------------------------------------


def warehouse_list_for(user: Any) -> QuerySet[Warehouse]:
    return (
        Warehouse.objects.filter(_under(_scope(user)), active=True)
        .select_related("jurisdiction")
        .order_by("scope_path", "name", "id")
    )


def access_warehouse_by_id(user: Any, warehouse_id: int) -> Warehouse:
    wh = Warehouse.objects.select_related("jurisdiction").filter(pk=warehouse_id).first()
    if wh is None or not wh.scope_path.startswith(_scope(user)):
        raise NotFound()
    return wh


def stock_of(warehouse: Warehouse) -> list[dict[str, Any]]:
    """Every active item with the warehouse's balance (zero when never stocked)."""
    held = dict(Stock.objects.filter(warehouse=warehouse).values_list("item_id", "quantity"))
    return [{"item": it, "quantity": int(held.get(it.pk, 0))} for it in items()]


def movement_list_for(
    user: Any, *, warehouse_id: int | None = None, item_id: int | None = None
) -> QuerySet[Movement]:
    qs = Movement.objects.filter(_under(_scope(user))).select_related(
        "item", "warehouse", "to_warehouse", "recorded_by"
    )
    if warehouse_id is not None:
        qs = qs.filter(Q(warehouse_id=warehouse_id) | Q(to_warehouse_id=warehouse_id))
    if item_id is not None:
        qs = qs.filter(item_id=item_id)
    return qs.order_by("-occurred_at", "-id")


# --- Days of supply ----------------------------------------------------------------------


def worst_level(levels: Iterable[str]) -> str:
    """The most urgent of some days-of-supply levels (alert, warn, ok, none)."""
    found = set(levels)
    for lv in ("alert", "warn", "ok"):
        if lv in found:
            return lv
    return "none"


@dataclass
class ItemSupply:
    item: Item
    stock: int
    daily_need: Decimal
    days: Decimal | None
    level: str  # ok / warn / alert / none (no need)


@dataclass
class DistrictSupply:
    district: Jurisdiction
    population: int
    items: list[ItemSupply] = field(default_factory=list)

    @property
    def level(self) -> str:
        return worst_level(i.level for i in self.items)

    @property
    def lowest(self) -> ItemSupply | None:
        known = [i for i in self.items if i.days is not None]
        return min(known, key=lambda i: i.days or 0) if known else None


def _districts_for(prefix: str) -> list[Jurisdiction]:
    district = Jurisdiction.Level.DISTRICT
    found = list(Jurisdiction.objects.subtree_of(prefix).filter(level=district).order_by("path"))
    if found or not prefix:
        return found
    # A user below a district sees the district their area belongs to.
    return list(
        Jurisdiction.objects.filter(level=district, path__in=_prefixes(prefix)).order_by("path")
    )


def _prefixes(path: str) -> list[str]:
    return [path[:i] for i in range(4, len(path) + 1, 4)]


def days_level(days: Decimal | None, warn: Decimal, alert: Decimal) -> str:
    if days is None:
        return "none"
    if days < alert:
        return "alert"
    if days < warn:
        return "warn"
    return "ok"


def supply_of(
    *, stock: int, population: int, need: Decimal, warn: Decimal, alert: Decimal
) -> tuple[Decimal, Decimal | None, str]:
    """Daily need, days of supply (stock ÷ population × need per person) and level."""
    daily = Decimal(population) * need
    if daily <= 0:
        return daily, None, "none"
    days = (Decimal(stock) / daily).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return daily, days, days_level(days, warn, alert)


def days_of_supply_for(user: Any, on: dt.date | None = None) -> list[DistrictSupply]:
    """Days of supply of every item in each district of the user's area: the stock
    of the district's warehouses ÷ (its residents × the need per person and day)."""
    return days_of_supply_under(_scope(user), on)


def days_of_supply_under(prefix: str, on: dt.date | None = None) -> list[DistrictSupply]:
    """The same for the districts under ``prefix`` (the caller scoped it)."""
    rule = rules.supply_rule(on)
    needs = rules.needs(on)
    the_items = list(items())
    out: list[DistrictSupply] = []
    for district in _districts_for(prefix):
        population = (
            Person.objects.active()
            .filter(scope_path__gte=district.path, scope_path__lt=path_upper_bound(district.path))
            .count()
        )
        held = dict(
            Stock.objects.filter(
                _under(district.path, "warehouse__scope_path"),
                _under(prefix, "warehouse__scope_path"),
                warehouse__active=True,
            )
            .values_list("item_id")
            .annotate(total=Sum("quantity"))
        )
        row = DistrictSupply(district=district, population=population)
        for it in the_items:
            stock = int(held.get(it.pk) or 0)
            daily, days, level = supply_of(
                stock=stock,
                population=population,
                need=needs.get(it.pk, Decimal(0)),
                warn=rule.warn_days,
                alert=rule.alert_days,
            )
            row.items.append(ItemSupply(it, stock, daily, days, level))
        out.append(row)
    return out


def supply_alerts_for(user: Any) -> list[dict[str, Any]]:
    """Items of a district below the alert threshold (for the overview and console)."""
    out: list[dict[str, Any]] = []
    for row in days_of_supply_for(user):
        for it in row.items:
            if it.level == "alert":
                out.append({"district": row.district, "item": it.item, "days": it.days})
    return out


# --- Markets and prices ------------------------------------------------------------------


def market_list_for(user: Any) -> QuerySet[Market]:
    return (
        Market.objects.filter(_under(_scope(user)), active=True)
        .select_related("jurisdiction")
        .order_by("scope_path", "name", "id")
    )


def access_market_by_id(user: Any, market_id: int) -> Market:
    market = Market.objects.select_related("jurisdiction").filter(pk=market_id).first()
    if market is None or not market.scope_path.startswith(_scope(user)):
        raise NotFound()
    return market


def price_list_for(
    user: Any,
    *,
    item_id: int | None = None,
    market_id: int | None = None,
    since: dt.date | None = None,
    flagged: bool | None = None,
    alert: bool | None = None,
) -> QuerySet[PriceReport]:
    qs = PriceReport.objects.filter(_under(_scope(user))).select_related("market", "item")
    if item_id is not None:
        qs = qs.filter(item_id=item_id)
    if market_id is not None:
        qs = qs.filter(market_id=market_id)
    if since is not None:
        qs = qs.filter(day__gte=since)
    if flagged is not None:
        qs = qs.filter(flagged=flagged)
    if alert is not None:
        qs = qs.filter(alert=alert)
    return qs.order_by("-day", "market__name", "item__order", "id")


def access_price_by_id(user: Any, report_id: int) -> PriceReport:
    report = PriceReport.objects.select_related("market", "item").filter(pk=report_id).first()
    if report is None or not report.scope_path.startswith(_scope(user)):
        raise NotFound()
    return report


def price_alerts_for(user: Any, *, days: int = 7) -> QuerySet[PriceReport]:
    since = timezone.localdate() - dt.timedelta(days=days - 1)
    return price_list_for(user, since=since, alert=True)


def price_chart(user: Any, item: Item, *, days: int = 14) -> dict[str, Any]:
    """Daily prices of an item per market over the last ``days`` (flagged reports
    left out), with each market's latest baseline: data for the chart."""
    end = timezone.localdate()
    start = end - dt.timedelta(days=days - 1)
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    by_market: dict[int, dict[dt.date, str]] = defaultdict(dict)
    names: dict[int, str] = {}
    alerts: list[dict[str, Any]] = []
    for rep in price_list_for(user, item_id=item.pk, since=start).filter(flagged=False):
        by_market[rep.market_id][rep.day] = str(rep.price)
        names[rep.market_id] = rep.market.name
        if rep.alert:
            alerts.append({"market": rep.market.name, "day": rep.day.strftime("%m-%d")})
    series = [
        {"name": names[m], "values": [by_market[m].get(d) for d in dates]}
        for m in sorted(names, key=lambda k: names[k])
    ]
    return {
        "item": item.name,
        "unit": item.get_unit_display(),
        "dates": [d.strftime("%m-%d") for d in dates],
        "series": series,
        "alerts": alerts,
    }


# --- Sealed zones and deliveries ---------------------------------------------------------


@dataclass
class ZoneItemSupply:
    item: Item
    delivered: int  # since the zone came into force
    on_the_way: int  # in deliveries planned or on their way
    daily_need: Decimal
    days_left: Decimal | None
    level: str


@dataclass
class ZoneSupply:
    """A zone supplied at the door: what was delivered since it came into force,
    against its residents' need (days left), and its open work."""

    zone: ZoneInForce
    items: list[ZoneItemSupply] = field(default_factory=list)
    waiting_requests: int = 0
    open_deliveries: int = 0

    @property
    def level(self) -> str:
        return worst_level(i.level for i in self.items)

    @property
    def lowest(self) -> ZoneItemSupply | None:
        known = [i for i in self.items if i.days_left is not None]
        return min(known, key=lambda i: i.days_left or 0) if known else None


def zone_days_left(
    *, delivered: int, residents: int, need: Decimal, days_in_force: int
) -> tuple[Decimal, Decimal | None]:
    """Daily need and the days a zone's deliveries still cover: what was delivered
    since it came into force ÷ (residents × need per person and day), less the
    days gone by (never below zero)."""
    daily = Decimal(residents) * need
    if daily <= 0:
        return daily, None
    covered = Decimal(delivered) / daily - days_in_force
    left = max(covered, Decimal(0)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return daily, left


def zone_supply_for(user: Any, *, zone_id: int | None = None) -> list[ZoneSupply]:
    """The zones of the user's area supplied at the door (the rule's levels), each
    with its days left per item, waiting requests and open deliveries."""
    prefix = _scope(user)
    rule = rules.supply_rule()
    needs = rules.needs()
    zones = zones_in_force(under_path=prefix, levels=list(rule.delivery_zone_levels))
    if zone_id is not None:
        zones = [z for z in zones if z.id == zone_id]
    if not zones:
        return []
    ids = [z.id for z in zones]
    since = {z.id: z.since or timezone.now() for z in zones}
    delivered: dict[tuple[int, int], int] = defaultdict(int)
    for zid, item_id, qty, at in Movement.objects.filter(
        delivery__zone_id__in=ids, delivery__state=Delivery.State.DELIVERED
    ).values_list("delivery__zone_id", "item_id", "quantity", "occurred_at"):
        if at >= since[zid]:
            delivered[(zid, item_id)] += int(qty)
    coming: dict[tuple[int, int], int] = defaultdict(int)
    open_count: dict[int, int] = defaultdict(int)
    for d in Delivery.objects.filter(
        zone_id__in=ids, state__in=[Delivery.State.PLANNED, Delivery.State.DISPATCHED]
    ).only("zone_id", "lines"):
        open_count[d.zone_id] += 1
        for ln in d.lines:
            coming[(d.zone_id, ln["item_id"])] += int(ln["quantity"])
    waiting = dict(
        ZoneRequest.objects.filter(zone_id__in=ids, state=ZoneRequest.State.WAITING)
        .order_by()
        .values_list("zone_id")
        .annotate(n=Count("id"))
        .values_list("zone_id", "n")
    )
    today = timezone.localdate()
    the_items = list(items())
    out = []
    for z in zones:
        gone = (today - timezone.localdate(since[z.id])).days
        row = ZoneSupply(
            zone=z, waiting_requests=int(waiting.get(z.id, 0)), open_deliveries=open_count[z.id]
        )
        for it in the_items:
            got = delivered[(z.id, it.pk)]
            daily, left = zone_days_left(
                delivered=got,
                residents=z.residents,
                need=needs.get(it.pk, Decimal(0)),
                days_in_force=gone,
            )
            level = days_level(left, rule.warn_days, rule.alert_days)
            row.items.append(ZoneItemSupply(it, got, coming[(z.id, it.pk)], daily, left, level))
        out.append(row)
    return out


def zone_request_list_for(
    user: Any, *, zone_id: int | None = None, state: str | None = ZoneRequest.State.WAITING
) -> QuerySet[ZoneRequest]:
    qs = ZoneRequest.objects.filter(_under(_scope(user)))
    if zone_id is not None:
        qs = qs.filter(zone_id=zone_id)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("due_at", "id")


def delivery_list_for(
    user: Any, *, state: str | None = None, zone_id: int | None = None
) -> QuerySet[Delivery]:
    qs = Delivery.objects.filter(_under(_scope(user))).select_related("warehouse")
    if state:
        qs = qs.filter(state=state)
    if zone_id is not None:
        qs = qs.filter(zone_id=zone_id)
    return qs.defer("proof_photo").order_by("-planned_for", "-id")


def access_delivery_by_id(user: Any, delivery_id: int) -> Delivery:
    d = Delivery.objects.select_related("warehouse").filter(pk=delivery_id).first()
    if d is None or not d.scope_path.startswith(_scope(user)):
        raise NotFound()
    return d


def delivery_lines(delivery: Delivery) -> list[dict[str, Any]]:
    """The delivery's lines with their items."""
    found = Item.objects.in_bulk([ln["item_id"] for ln in delivery.lines])
    return [
        {"item": found[ln["item_id"]], "quantity": int(ln["quantity"])}
        for ln in delivery.lines
        if ln["item_id"] in found
    ]


def supplied_zones_for(user: Any) -> list[ZoneInForce]:
    """Zones in force in the user's area at a level supplied at the door."""
    levels = list(rules.supply_rule().delivery_zone_levels)
    return zones_in_force(under_path=_scope(user), levels=levels)


def with_kind_names(rows: list[ZoneRequest]) -> list[ZoneRequest]:
    """The requests with ``kind_name``: the door-step service's name in the language."""
    names = dict(service_kinds())
    for r in rows:
        r.kind_name = names.get(r.kind, "")  # type: ignore[attr-defined]
    return rows


def stock_lines_for(warehouses: list[Warehouse]) -> dict[int, int]:
    """How many items each warehouse holds some of (warehouse id → count)."""
    return dict(
        Stock.objects.filter(warehouse__in=warehouses, quantity__gt=0)
        .order_by()
        .values_list("warehouse_id")
        .annotate(n=Count("id"))
        .values_list("warehouse_id", "n")
    )


def delivery_photo(delivery: Delivery) -> tuple[bytes, str] | None:
    """The proof photo of a delivery and its content type (None without one)."""
    row = Delivery.objects.filter(pk=delivery.pk).values_list("proof_photo", "proof_photo_type")
    found = row.first()
    if not found or not found[0] or not found[1]:
        return None
    return bytes(found[0]), str(found[1])
