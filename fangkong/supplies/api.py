"""API of the supplies app (mounted at /api/v1/supplies/): items, warehouses and
their stock, the stock ledger, days of supply, markets and price reports, sealed
zones and deliveries to them with proof of delivery.
Thin: each endpoint validates its input and calls one service or selector;
outside the user's area is a 404."""

import base64
import binascii
import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router
from ninja.pagination import paginate
from ninja.responses import Status

from fangkong.core.errors import NotFound, ValidationFailed
from fangkong.core.pagination import PageNumber
from fangkong.core.schema import Schema
from fangkong.supplies import selectors, services
from fangkong.supplies.models import Delivery, Market, Movement, PriceReport, Warehouse, ZoneRequest

router = Router(tags=["supplies"])


class _Mapped:
    """A queryset seen through a row function, sliced lazily by the paginator."""

    def __init__(self, qs: Any, fn: Any) -> None:
        self.qs, self.fn = qs, fn

    def __getitem__(self, part: slice) -> list[Any]:
        return [self.fn(row) for row in self.qs[part]]

    def __len__(self) -> int:
        return int(self.qs.count())


# --- Schemas ---------------------------------------------------------------------------


class ItemOut(Schema):
    id: int
    code: str
    name: str
    category: str
    category_label: str
    unit: str
    unit_label: str


class WarehouseIn(Schema):
    name: str = Field(..., max_length=200)
    jurisdiction_id: int
    address: str = Field("", max_length=300)


class StockOut(Schema):
    item_id: int
    item: str
    unit: str
    quantity: int


class WarehouseOut(Schema):
    id: int
    name: str
    area: str
    address: str


class WarehouseDetailOut(WarehouseOut):
    stock: list[StockOut]


class MovementIn(Schema):
    kind: str
    warehouse_id: int
    item_id: int
    quantity: int = Field(..., ge=0, le=services.MAX_QUANTITY)
    to_warehouse_id: int | None = None
    counterpart: str = Field("", max_length=200)
    note: str = Field("", max_length=2000)
    occurred_at: dt.datetime | None = None


class MovementOut(Schema):
    id: int
    kind: str
    kind_label: str
    item_id: int
    item: str
    quantity: int
    warehouse_id: int
    warehouse: str
    to_warehouse_id: int | None
    to_warehouse: str | None
    occurred_at: dt.datetime
    counterpart: str
    note: str


class MovementFilters(Schema):
    warehouse_id: int | None = None
    item_id: int | None = None


class ItemSupplyOut(Schema):
    item_id: int
    item: str
    unit: str
    stock: int
    daily_need: Decimal
    days: Decimal | None
    level: str


class DistrictSupplyOut(Schema):
    district_id: int
    district: str
    population: int
    level: str
    items: list[ItemSupplyOut]


class MarketIn(Schema):
    name: str = Field(..., max_length=200)
    jurisdiction_id: int


class MarketOut(Schema):
    id: int
    name: str
    area: str


class PriceIn(Schema):
    market_id: int
    item_id: int
    day: dt.date
    price: Decimal


class PriceCorrectIn(Schema):
    price: Decimal
    reason: str = Field(..., max_length=2000)


class PriceOut(Schema):
    id: int
    market_id: int
    market: str
    item_id: int
    item: str
    day: dt.date
    price: Decimal
    baseline: Decimal | None
    flagged: bool
    flag_reason: str
    alert: bool


class PriceFilters(Schema):
    item_id: int | None = None
    market_id: int | None = None
    since: dt.date | None = None
    flagged: bool | None = None
    alert: bool | None = None


class ChartSeriesOut(Schema):
    name: str
    values: list[str | None]


class ChartOut(Schema):
    item: str
    unit: str
    dates: list[str]
    series: list[ChartSeriesOut]


# --- Rows ------------------------------------------------------------------------------


def _warehouse_out(wh: Warehouse) -> dict[str, Any]:
    return {"id": wh.pk, "name": wh.name, "area": wh.jurisdiction.name, "address": wh.address}


def _movement_out(m: Movement) -> dict[str, Any]:
    return {
        "id": m.pk,
        "kind": m.kind,
        "kind_label": str(m.get_kind_display()),
        "item_id": m.item_id,
        "item": m.item.name,
        "quantity": m.quantity,
        "warehouse_id": m.warehouse_id,
        "warehouse": m.warehouse.name,
        "to_warehouse_id": m.to_warehouse_id,
        "to_warehouse": m.to_warehouse.name if m.to_warehouse else None,
        "occurred_at": m.occurred_at,
        "counterpart": m.counterpart,
        "note": m.note,
    }


def _market_out(market: Market) -> dict[str, Any]:
    return {"id": market.pk, "name": market.name, "area": market.jurisdiction.name}


def _price_out(r: PriceReport) -> dict[str, Any]:
    return {
        "id": r.pk,
        "market_id": r.market_id,
        "market": r.market.name,
        "item_id": r.item_id,
        "item": r.item.name,
        "day": r.day,
        "price": r.price,
        "baseline": r.baseline,
        "flagged": r.flagged,
        "flag_reason": r.flag_reason,
        "alert": r.alert,
    }


# --- Items, warehouses, stock ----------------------------------------------------------


@router.get("/items", response=list[ItemOut])
def item_list(request: HttpRequest) -> list[dict[str, Any]]:
    selectors.warehouse_list_for(request.user)  # the capability and an area
    return [
        {
            "id": it.pk,
            "code": it.code,
            "name": it.name,
            "category": it.category,
            "category_label": str(it.get_category_display()),
            "unit": it.unit,
            "unit_label": str(it.get_unit_display()),
        }
        for it in selectors.items()
    ]


@router.get("/warehouses", response=list[WarehouseOut])
@paginate(PageNumber)
def warehouse_list(request: HttpRequest) -> Any:
    return _Mapped(selectors.warehouse_list_for(request.user), _warehouse_out)


@router.post("/warehouses", response={201: WarehouseOut})
def warehouse_create(request: HttpRequest, payload: WarehouseIn) -> Status[Any]:
    wh = services.warehouse_create(actor=request.user, **payload.dict())
    return Status(201, _warehouse_out(wh))


@router.get("/warehouses/{int:warehouse_id}", response=WarehouseDetailOut)
def warehouse_detail(request: HttpRequest, warehouse_id: int) -> dict[str, Any]:
    wh = selectors.access_warehouse_by_id(request.user, warehouse_id)
    out = _warehouse_out(wh)
    out["stock"] = [
        {
            "item_id": row["item"].pk,
            "item": row["item"].name,
            "unit": str(row["item"].get_unit_display()),
            "quantity": row["quantity"],
        }
        for row in selectors.stock_of(wh)
    ]
    return out


@router.get("/movements", response=list[MovementOut])
@paginate(PageNumber)
def movement_list(request: HttpRequest, filters: Query[MovementFilters]) -> Any:
    qs = selectors.movement_list_for(
        request.user, warehouse_id=filters.warehouse_id, item_id=filters.item_id
    )
    return _Mapped(qs, _movement_out)


@router.post("/movements", response={201: MovementOut})
def movement_record(request: HttpRequest, payload: MovementIn) -> Status[Any]:
    movement = services.movement_record(
        actor=request.user, data=services.MovementData(**payload.dict())
    )
    return Status(201, _movement_out(movement))


@router.get("/days-of-supply", response=list[DistrictSupplyOut])
def days_of_supply(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "district_id": row.district.pk,
            "district": row.district.name,
            "population": row.population,
            "level": row.level,
            "items": [
                {
                    "item_id": it.item.pk,
                    "item": it.item.name,
                    "unit": str(it.item.get_unit_display()),
                    "stock": it.stock,
                    "daily_need": it.daily_need,
                    "days": it.days,
                    "level": it.level,
                }
                for it in row.items
            ],
        }
        for row in selectors.days_of_supply_for(request.user)
    ]


# --- Markets and prices ----------------------------------------------------------------


@router.get("/markets", response=list[MarketOut])
@paginate(PageNumber)
def market_list(request: HttpRequest) -> Any:
    return _Mapped(selectors.market_list_for(request.user), _market_out)


@router.post("/markets", response={201: MarketOut})
def market_create(request: HttpRequest, payload: MarketIn) -> Status[Any]:
    market = services.market_create(actor=request.user, **payload.dict())
    return Status(201, _market_out(market))


@router.get("/prices", response=list[PriceOut])
@paginate(PageNumber)
def price_list(request: HttpRequest, filters: Query[PriceFilters]) -> Any:
    qs = selectors.price_list_for(request.user, **filters.dict())
    return _Mapped(qs, _price_out)


@router.post("/prices", response={201: PriceOut})
def price_report(request: HttpRequest, payload: PriceIn) -> Status[Any]:
    report = services.price_report(actor=request.user, **payload.dict())
    return Status(201, _price_out(report))


@router.post("/prices/{int:report_id}/correct", response=PriceOut)
def price_correct(request: HttpRequest, report_id: int, payload: PriceCorrectIn) -> dict[str, Any]:
    report = services.price_correct(actor=request.user, report_id=report_id, **payload.dict())
    return _price_out(report)


@router.get("/prices/chart/{int:item_id}", response=ChartOut)
def price_chart(request: HttpRequest, item_id: int) -> dict[str, Any]:
    item = selectors.items().filter(pk=item_id).first()
    if item is None:
        raise NotFound()
    return selectors.price_chart(request.user, item)


# --- Sealed zones and deliveries -------------------------------------------------------


class ZoneItemOut(Schema):
    item_id: int
    item: str
    unit: str
    delivered: int
    on_the_way: int
    daily_need: Decimal
    days_left: Decimal | None
    level: str


class ZoneSupplyOut(Schema):
    zone_id: int
    zone: str
    level_name: str
    residents: int
    level: str
    waiting_requests: int
    open_deliveries: int
    items: list[ZoneItemOut]


class ZoneRequestOut(Schema):
    request_id: int
    zone_id: int
    kind: str
    wanted: str
    due_at: dt.datetime
    state: str
    state_label: str
    delivery_id: int | None


class ZoneRequestFilters(Schema):
    zone_id: int | None = None
    state: str = "waiting"


class LineIn(Schema):
    item_id: int
    quantity: int = Field(..., ge=1, le=services.MAX_QUANTITY)


class DeliveryIn(Schema):
    zone_id: int
    warehouse_id: int
    lines: list[LineIn] = Field(default_factory=list, max_length=30)
    days: int | None = Field(None, ge=1, le=60)
    request_ids: list[int] = Field(default_factory=list, max_length=500)
    planned_for: dt.date | None = None
    note: str = Field("", max_length=2000)


class ProofIn(Schema):
    received_by: str = Field(..., max_length=100)
    delivered_at: dt.datetime | None = None
    proof_note: str = Field("", max_length=2000)
    photo_base64: str = Field("", max_length=5_000_000)


class CancelIn(Schema):
    reason: str = Field(..., max_length=2000)


class LineOut(Schema):
    item_id: int
    item: str
    unit: str
    quantity: int


class DeliveryOut(Schema):
    id: int
    zone_id: int
    zone: str
    warehouse_id: int
    warehouse: str
    source: str
    source_label: str
    state: str
    state_label: str
    planned_for: dt.date
    days: int | None
    lines: list[LineOut]
    request_ids: list[int]
    dispatched_at: dt.datetime | None
    delivered_at: dt.datetime | None
    received_by: str
    proof_note: str
    has_photo: bool
    note: str


class DeliveryFilters(Schema):
    state: str | None = None
    zone_id: int | None = None


def _delivery_out(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.pk,
        "zone_id": d.zone_id,
        "zone": d.zone_name,
        "warehouse_id": d.warehouse_id,
        "warehouse": d.warehouse.name,
        "source": d.source,
        "source_label": str(d.get_source_display()),
        "state": d.state,
        "state_label": str(d.get_state_display()),
        "planned_for": d.planned_for,
        "days": d.days,
        "lines": [
            {
                "item_id": ln["item"].pk,
                "item": ln["item"].name,
                "unit": str(ln["item"].get_unit_display()),
                "quantity": ln["quantity"],
            }
            for ln in selectors.delivery_lines(d)
        ],
        "request_ids": list(d.request_ids),
        "dispatched_at": d.dispatched_at,
        "delivered_at": d.delivered_at,
        "received_by": d.received_by,
        "proof_note": d.proof_note,
        "has_photo": bool(d.proof_photo_type),
        "note": d.note,
    }


def _zone_request_out(r: ZoneRequest) -> dict[str, Any]:
    return {
        "request_id": r.request_id,
        "zone_id": r.zone_id,
        "kind": r.kind,
        "wanted": r.wanted,
        "due_at": r.due_at,
        "state": r.state,
        "state_label": str(r.get_state_display()),
        "delivery_id": r.delivery_id,
    }


@router.get("/zones", response=list[ZoneSupplyOut])
def zone_supply(request: HttpRequest) -> list[dict[str, Any]]:
    """Zones supplied at the door: days left per item of what was delivered."""
    return [
        {
            "zone_id": row.zone.id,
            "zone": row.zone.name,
            "level_name": row.zone.level_name,
            "residents": row.zone.residents,
            "level": row.level,
            "waiting_requests": row.waiting_requests,
            "open_deliveries": row.open_deliveries,
            "items": [
                {
                    "item_id": it.item.pk,
                    "item": it.item.name,
                    "unit": str(it.item.get_unit_display()),
                    "delivered": it.delivered,
                    "on_the_way": it.on_the_way,
                    "daily_need": it.daily_need,
                    "days_left": it.days_left,
                    "level": it.level,
                }
                for it in row.items
            ],
        }
        for row in selectors.zone_supply_for(request.user)
    ]


@router.get("/zone-requests", response=list[ZoneRequestOut])
@paginate(PageNumber)
def zone_request_list(request: HttpRequest, filters: Query[ZoneRequestFilters]) -> Any:
    qs = selectors.zone_request_list_for(
        request.user, zone_id=filters.zone_id, state=filters.state or None
    )
    return _Mapped(qs, _zone_request_out)


@router.get("/deliveries", response=list[DeliveryOut])
@paginate(PageNumber)
def delivery_list(request: HttpRequest, filters: Query[DeliveryFilters]) -> Any:
    qs = selectors.delivery_list_for(request.user, state=filters.state, zone_id=filters.zone_id)
    return _Mapped(qs, _delivery_out)


@router.post("/deliveries", response={201: DeliveryOut})
def delivery_plan(request: HttpRequest, payload: DeliveryIn) -> Status[Any]:
    data = payload.dict()
    data["lines"] = [(ln["item_id"], ln["quantity"]) for ln in data["lines"]]
    delivery = services.delivery_plan(actor=request.user, **data)
    return Status(201, _delivery_out(delivery))


@router.get("/deliveries/{int:delivery_id}", response=DeliveryOut)
def delivery_detail(request: HttpRequest, delivery_id: int) -> dict[str, Any]:
    return _delivery_out(selectors.access_delivery_by_id(request.user, delivery_id))


@router.post("/deliveries/{int:delivery_id}/dispatch", response=DeliveryOut)
def delivery_dispatch(request: HttpRequest, delivery_id: int) -> dict[str, Any]:
    return _delivery_out(services.delivery_dispatch(actor=request.user, delivery_id=delivery_id))


@router.post("/deliveries/{int:delivery_id}/deliver", response=DeliveryOut)
def delivery_deliver(request: HttpRequest, delivery_id: int, payload: ProofIn) -> dict[str, Any]:
    """Proof of delivery: who received it, when, a photo (base64 JPEG or PNG) or a
    note of the signature. The stock leaves the warehouse with it."""
    photo = None
    if payload.photo_base64:
        try:
            photo = base64.b64decode(payload.photo_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValidationFailed(
                fields={"photo_base64": _("The photo is a base64-encoded JPEG or PNG image.")}
            ) from exc
    delivery = services.delivery_record_proof(
        actor=request.user,
        delivery_id=delivery_id,
        received_by=payload.received_by,
        delivered_at=payload.delivered_at,
        proof_note=payload.proof_note,
        photo=photo,
    )
    return _delivery_out(delivery)


@router.post("/deliveries/{int:delivery_id}/cancel", response=DeliveryOut)
def delivery_cancel(request: HttpRequest, delivery_id: int, payload: CancelIn) -> dict[str, Any]:
    return _delivery_out(
        services.delivery_cancel(actor=request.user, delivery_id=delivery_id, reason=payload.reason)
    )
