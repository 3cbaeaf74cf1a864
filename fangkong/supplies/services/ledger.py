"""Writes of the supplies app: warehouses and markets, the stock ledger, price
reports. Each write checks the capability and the actor's area, runs in one
transaction and leaves one audit row.

The ledger never goes below zero: a movement locks the stock rows it touches
(``SELECT ... FOR UPDATE``, in the order of their keys so two transfers in
opposite directions cannot deadlock), checks the balance on the locked row and
changes it in the same transaction; the database's check constraint refuses a
negative balance whatever the code does. SQLite serialises writers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Avg, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.models import Jurisdiction
from fangkong.core.types import Actor, acting_user
from fangkong.supplies import rules
from fangkong.supplies.models import (
    Item,
    Market,
    Movement,
    Posting,
    PriceReport,
    Stock,
    Warehouse,
)

MAX_QUANTITY = 1_000_000_000
MAX_TEXT = 2000
MIN_BASELINE_REPORTS = 3
K = Movement.Kind
A = Posting.Account
# The outside account on the other side of each kind of movement.
OUTSIDE = {K.RECEIPT: A.SUPPLIERS, K.ISSUE: A.SUPPLIED, K.LOSS: A.LOSSES, K.CORRECTION: A.COUNT}


def _area(actor: Actor, jurisdiction_id: int) -> Jurisdiction:
    node = Jurisdiction.objects.filter(pk=jurisdiction_id).first()
    if node is None or not permissions.in_scope(actor, node.path):
        raise ValidationFailed(fields={"jurisdiction_id": _("Choose an area of your own.")})
    if node.level_index < Jurisdiction.LEVEL_ORDER.index(Jurisdiction.Level.DISTRICT):
        raise ValidationFailed(
            fields={"jurisdiction_id": _("Choose a district or a smaller area.")}
        )
    return node


def _named_area(
    actor: Actor, name: str, jurisdiction_id: int, errors: dict[str, str]
) -> tuple[str, Jurisdiction]:
    """The cleaned name and the area of a new warehouse or market (every bad field
    named at once)."""
    clean = name.strip()
    if not clean or len(clean) > 200:
        errors["name"] = _("Give a name (up to 200 characters).")
    node: Jurisdiction | None = None
    try:
        node = _area(actor, jurisdiction_id)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    assert node is not None
    return clean, node


# --- Warehouses and markets --------------------------------------------------------------


@transaction.atomic
def warehouse_create(
    *, actor: Actor, name: str, jurisdiction_id: int, address: str = ""
) -> Warehouse:
    permissions.require(actor, "supplies.manage")
    errors = {"address": _("At most 300 characters.")} if len(address) > 300 else {}
    clean, node = _named_area(actor, name, jurisdiction_id, errors)
    wh = Warehouse.objects.create(
        name=clean, jurisdiction=node, scope_path=node.path, address=address.strip()
    )
    audit_record(
        actor=actor,
        action="supplies.warehouse_create",
        obj=wh,
        scope_path=wh.scope_path,
        changes={"name": clean, "jurisdiction": node.name},
    )
    return wh


@transaction.atomic
def market_create(*, actor: Actor, name: str, jurisdiction_id: int) -> Market:
    permissions.require(actor, "supplies.manage")
    clean, node = _named_area(actor, name, jurisdiction_id, {})
    market = Market.objects.create(name=clean, jurisdiction=node, scope_path=node.path)
    audit_record(
        actor=actor,
        action="supplies.market_create",
        obj=market,
        scope_path=market.scope_path,
        changes={"name": clean, "jurisdiction": node.name},
    )
    return market


# --- The stock ledger --------------------------------------------------------------------


@dataclass(frozen=True)
class MovementData:
    """A movement as the user gives it. ``quantity`` is what moves (receipt, issue,
    transfer, loss) or, for a count correction, what was counted."""

    kind: str
    warehouse_id: int
    item_id: int
    quantity: int
    to_warehouse_id: int | None = None
    counterpart: str = ""
    note: str = ""
    occurred_at: dt.datetime | None = None


def _warehouse_for(actor: Actor, warehouse_id: int, field: str) -> Warehouse:
    wh = Warehouse.objects.filter(pk=warehouse_id, active=True).first()
    if wh is None or not permissions.in_scope(actor, wh.scope_path):
        if field == "warehouse_id":
            raise NotFound()
        raise ValidationFailed(fields={field: _("Choose a warehouse of your own area.")})
    return wh


def _check_movement(data: MovementData) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.kind not in K.values:
        errors["kind"] = _("Choose one of the listed kinds of movement.")
    low = 0 if data.kind == K.CORRECTION else 1
    if not low <= data.quantity <= MAX_QUANTITY:
        errors["quantity"] = (
            _("The counted quantity is a whole number from 0 to 1,000,000,000.")
            if data.kind == K.CORRECTION
            else _("The quantity is a whole number from 1 to 1,000,000,000.")
        )
    if data.kind == K.TRANSFER:
        if data.to_warehouse_id is None:
            errors["to_warehouse_id"] = _("Choose the warehouse that receives the transfer.")
        elif data.to_warehouse_id == data.warehouse_id:
            errors["to_warehouse_id"] = _("A transfer goes to another warehouse.")
    elif data.to_warehouse_id is not None:
        errors["to_warehouse_id"] = _("Only a transfer goes to another warehouse.")
    if len(data.counterpart) > 200:
        errors["counterpart"] = _("At most 200 characters.")
    if len(data.note) > MAX_TEXT:
        errors["note"] = _("At most 2,000 characters.")
    if data.occurred_at is not None and data.occurred_at > timezone.now() + dt.timedelta(minutes=5):
        errors["occurred_at"] = _("A movement cannot be recorded for a time still to come.")
    return errors


def _locked_stock(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], Stock]:
    """The stock rows of these (warehouse, item) pairs, created when missing and
    locked in key order (the insert only when one is missing: most movements find
    their rows)."""
    cond = Q()
    for w, i in pairs:
        cond |= Q(warehouse_id=w, item_id=i)
    found = {
        (s.warehouse_id, s.item_id): s
        for s in Stock.objects.select_for_update().filter(cond).order_by("pk")
    }
    if len(found) == len(pairs):
        return found
    Stock.objects.bulk_create(
        [Stock(warehouse_id=w, item_id=i, quantity=0) for w, i in pairs if (w, i) not in found],
        ignore_conflicts=True,
    )
    rows = Stock.objects.select_for_update().filter(cond).order_by("pk")
    return {(s.warehouse_id, s.item_id): s for s in rows}


def _short(wh: Warehouse, item: Item, have: int, want: int) -> Conflict:
    return Conflict(
        _("%(warehouse)s holds %(have)s %(unit)s of %(item)s; %(want)s cannot be taken out.")
        % {
            "warehouse": wh.name,
            "have": have,
            "unit": item.get_unit_display(),
            "item": item.name,
            "want": want,
        },
        fields={"quantity": _("More than the warehouse holds.")},
        code="insufficient_stock",
    )


@transaction.atomic
def movement_record(*, actor: Actor, data: MovementData) -> Movement:
    """Record one movement: two postings that sum to zero and the stock they change."""
    permissions.require(actor, "supplies.stock")
    wh = _warehouse_for(actor, data.warehouse_id, "warehouse_id")
    errors = _check_movement(data)
    item = Item.objects.filter(pk=data.item_id, active=True).first()
    if item is None:
        errors["item_id"] = _("Choose one of the listed items.")
    target: Warehouse | None = None
    if data.kind == K.TRANSFER and data.to_warehouse_id and "to_warehouse_id" not in errors:
        try:
            target = _warehouse_for(actor, data.to_warehouse_id, "to_warehouse_id")
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    assert item is not None
    return post_movement(actor=actor, data=data, wh=wh, item=item, target=target)


def post_movement(
    *,
    actor: Actor,
    data: MovementData,
    wh: Warehouse,
    item: Item,
    target: Warehouse | None = None,
    delivery_id: int | None = None,
) -> Movement:
    """Post a checked movement (the caller has checked the actor may, and the
    input): lock the stock rows, refuse to go below zero, write the movement, its
    two postings, the new balances and the audit row. Part of the caller's
    transaction."""
    pairs = [(wh.pk, item.pk)] + ([(target.pk, item.pk)] if target else [])
    stock = _locked_stock(pairs)
    here = stock[(wh.pk, item.pk)]
    if data.kind == K.CORRECTION:
        delta = data.quantity - here.quantity  # into the warehouse
    elif data.kind == K.RECEIPT:
        delta = data.quantity
    else:
        delta = -data.quantity
    if here.quantity + delta < 0:
        raise _short(wh, item, here.quantity, -delta)
    movement = Movement.objects.create(
        kind=data.kind,
        item=item,
        quantity=-delta,
        warehouse=wh,
        to_warehouse=target,
        scope_path=wh.scope_path,
        occurred_at=data.occurred_at or timezone.now(),
        counterpart=data.counterpart.strip(),
        note=data.note.strip(),
        delivery_id=delivery_id,
        recorded_by=acting_user(actor),
    )
    postings = [
        Posting(movement=movement, account=A.WAREHOUSE, warehouse=wh, item=item, amount=delta)
    ]
    if target is not None:
        postings.append(
            Posting(
                movement=movement, account=A.WAREHOUSE, warehouse=target, item=item, amount=-delta
            )
        )
    else:
        postings.append(
            Posting(movement=movement, account=OUTSIDE[K(data.kind)], item=item, amount=-delta)
        )
    Posting.objects.bulk_create(postings)
    Stock.objects.filter(pk=here.pk).update(quantity=F("quantity") + delta)
    if target is not None:
        Stock.objects.filter(pk=stock[(target.pk, item.pk)].pk).update(
            quantity=F("quantity") - delta
        )
    changes: dict[str, Any] = {
        "kind": data.kind,
        "item": item.name,
        "quantity": abs(delta) if data.kind != K.CORRECTION else data.quantity,
        "warehouse": wh.name,
    }
    if data.kind == K.CORRECTION:
        changes["stock"] = [here.quantity, data.quantity]
    if target is not None:
        changes["to_warehouse"] = target.name
    audit_record(
        actor=actor,
        action="supplies.movement",
        obj=movement,
        scope_path=wh.scope_path,
        changes=changes,
        reason=movement.note,
    )
    return movement


# --- Market prices -----------------------------------------------------------------------


def _price(value: Any) -> Decimal:
    try:
        price = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed(fields={"price": _("Give the price as a number.")}) from exc
    if not price.is_finite() or price <= 0:
        raise ValidationFailed(fields={"price": _("A price is more than zero.")})
    if price != price.quantize(Decimal("0.01")):
        raise ValidationFailed(
            fields={"price": _("Give the price in yuan with at most two decimals.")}
        )
    if price >= Decimal("10000000000"):
        raise ValidationFailed(fields={"price": _("A price is less than ten billion yuan.")})
    return price


def _judge(report: PriceReport) -> None:
    """Fill the report's baseline, impossibility flag and rise alert from the rule
    in force for its item and day."""
    rule = rules.price_rule(report.item_id, report.day)
    since = report.day - dt.timedelta(days=rule.baseline_days)
    prior = PriceReport.objects.filter(
        market_id=report.market_id,
        item_id=report.item_id,
        day__gte=since,
        day__lt=report.day,
        flagged=False,
    ).exclude(pk=report.pk)
    baseline: Decimal | None = None
    if prior.count() >= MIN_BASELINE_REPORTS:
        mean = prior.aggregate(m=Avg("price"))["m"]
        baseline = Decimal(str(mean)).quantize(Decimal("0.01"))
    report.baseline = baseline
    report.flagged, report.flag_reason, report.alert = False, "", False
    if report.price > rule.max_price:
        report.flagged = True
        report.flag_reason = _("Above the highest possible price of %(max)s yuan.") % {
            "max": rule.max_price
        }
    elif baseline is not None and (
        report.price > baseline * rule.impossible_factor
        or report.price * rule.impossible_factor < baseline
    ):
        report.flagged = True
        report.flag_reason = _(
            "More than %(factor)s times away from the baseline of %(baseline)s yuan."
        ) % {"factor": rule.impossible_factor.normalize(), "baseline": baseline}
    elif baseline is not None:
        report.alert = report.price > baseline * (1 + rule.rise_percent / 100)


def _market_for(actor: Actor, market_id: int) -> Market:
    market = Market.objects.filter(pk=market_id, active=True).first()
    if market is None or not permissions.in_scope(actor, market.scope_path):
        raise NotFound()
    return market


@transaction.atomic
def price_report(
    *, actor: Actor, market_id: int, item_id: int, day: dt.date, price: Any
) -> PriceReport:
    """Record the price of an item at a market on a day. An impossible value is
    kept and flagged (left out of baselines and alerts); a second report of the
    same day with another price is a conflict (correct the report instead)."""
    permissions.require(actor, "supplies.prices")
    market = _market_for(actor, market_id)
    errors: dict[str, str] = {}
    item = Item.objects.filter(pk=item_id, active=True).first()
    if item is None:
        errors["item_id"] = _("Choose one of the listed items.")
    if day > timezone.localdate():
        errors["day"] = _("Prices are reported for today or an earlier day.")
    try:
        value = _price(price)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    existing = (
        PriceReport.objects.select_for_update()
        .filter(market=market, item_id=item_id, day=day)
        .first()
    )
    if existing is not None:
        if existing.price == value:
            return existing
        raise Conflict(
            _("%(market)s already reported %(price)s yuan for this item on this day.")
            % {"market": market.name, "price": existing.price},
            fields={"price": _("Correct the report of that day instead.")},
            code="already_reported",
            extra={"report_id": existing.pk},
        )
    report = PriceReport(
        market=market,
        item_id=item_id,
        day=day,
        price=value,
        scope_path=market.scope_path,
        reported_by=acting_user(actor),
    )
    _judge(report)
    report.save()
    audit_record(
        actor=actor,
        action="supplies.price_report",
        obj=report,
        scope_path=report.scope_path,
        changes={
            "market": market.name,
            "item": item.name if item else "",
            "price_day": day.isoformat(),
            "price": str(value),
            "flagged": report.flagged,
            "alert": report.alert,
        },
    )
    return report


@transaction.atomic
def price_correct(*, actor: Actor, report_id: int, price: Any, reason: str) -> PriceReport:
    """Change a reported price (a typing error found later); the old one stays in
    the audit trail with the reason."""
    permissions.require(actor, "supplies.prices")
    report = PriceReport.objects.select_for_update().filter(pk=report_id).first()
    if report is None or not permissions.in_scope(actor, report.scope_path):
        raise NotFound()
    errors: dict[str, str] = {}
    if not reason.strip() or len(reason) > MAX_TEXT:
        errors["reason"] = _("Say why the price is corrected (up to 2,000 characters).")
    try:
        value = _price(price)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    before = report.price
    report.price = value
    _judge(report)
    report.save(
        update_fields=["price", "baseline", "flagged", "flag_reason", "alert", "updated_at"]
    )
    audit_record(
        actor=actor,
        action="supplies.price_correct",
        obj=report,
        scope_path=report.scope_path,
        changes={"price": [str(before), str(value)], "flagged": report.flagged},
        reason=reason.strip(),
    )
    return report
