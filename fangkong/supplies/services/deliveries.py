"""Deliveries to sealed zones (封控区生活物资配送): for the door-step requests of
the zone's residents (kept here from the zones' ``service_request.filed`` fact)
or as a planned distribution sized on the zone's residents and the need per
person and day. A delivery is planned, sent on its way, and handed over with
proof (who received it, when, a photo or a signature note); the stock leaves the
warehouse in the ledger in the same transaction as the proof, and the requests it
carried are done (``supplies.delivered``, which zones hears).

Zones are read through ``zones.selectors.shared`` and kept here by id.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.events import publish
from fangkong.core.types import Actor, acting_user
from fangkong.supplies import rules
from fangkong.supplies.models import Delivery, Item, Movement, Stock, Warehouse, ZoneRequest
from fangkong.supplies.services.ledger import (
    MAX_QUANTITY,
    MAX_TEXT,
    MovementData,
    _short,
    post_movement,
)
from fangkong.zones.selectors.shared import ZoneInForce, zone_in_force

MAX_LINES = 30
MAX_DAYS = 60
PLAN_AHEAD_DAYS = 30
MAX_PHOTO_BYTES = 3 * 1024 * 1024
PHOTO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
S = Delivery.State


def supplied_zone(actor: Actor, zone_id: int) -> ZoneInForce | None:
    """The zone when it is in force at a level supplied at the door and in the
    actor's area (else None)."""
    zone = zone_in_force(zone_id)
    if zone is None or not permissions.in_scope(actor, zone.scope_path):
        return None
    if zone.level not in rules.supply_rule().delivery_zone_levels:
        return None
    return zone


def distribution_lines(zone: ZoneInForce, days: int) -> list[tuple[int, int]]:
    """What the zone's residents need for ``days`` days: (item id, quantity) for
    each item with a need per person and day, rounded up to whole units."""
    needs = rules.needs()
    out = []
    for item in Item.objects.filter(active=True):
        need = needs.get(item.pk, Decimal(0)) * zone.residents * days
        if need > 0:
            out.append((item.pk, math.ceil(need)))
    return out


def _clean_lines(raw: Iterable[Any], errors: dict[str, str]) -> list[dict[str, int]]:
    lines: list[dict[str, int]] = []
    seen: set[int] = set()
    active = set(Item.objects.filter(active=True).values_list("pk", flat=True))
    for row in raw:
        try:
            item_id, qty = int(row[0]), int(row[1])
        except (TypeError, ValueError, IndexError, KeyError):
            errors["lines"] = _("Each line is an item and a whole quantity.")
            return []
        if item_id not in active:
            errors["lines"] = _("Choose items from the list.")
        elif item_id in seen:
            errors["lines"] = _("Each item once per delivery.")
        elif not 1 <= qty <= MAX_QUANTITY:
            errors["lines"] = _("The quantity is a whole number from 1 to 1,000,000,000.")
        seen.add(item_id)
        lines.append({"item_id": item_id, "quantity": qty})
    if not lines and "lines" not in errors:
        errors["lines"] = _("Say what the delivery carries (at least one item).")
    if len(lines) > MAX_LINES:
        errors["lines"] = _("At most 30 items in one delivery.")
    return lines


def _audit(actor: Actor, delivery: Delivery, action: str, **changes: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=delivery,
        scope_path=delivery.scope_path,
        changes=changes,
    )


@transaction.atomic
def delivery_plan(
    *,
    actor: Actor,
    zone_id: int,
    warehouse_id: int,
    lines: Iterable[Any] = (),
    days: int | None = None,
    request_ids: Iterable[int] = (),
    planned_for: dt.date | None = None,
    note: str = "",
) -> Delivery:
    """Plan a delivery from a warehouse to a sealed zone. With ``request_ids`` it
    carries those waiting door-step requests of the zone; otherwise it is a
    planned distribution: give the ``lines`` (item id, quantity), or ``days`` to
    size it on the zone's residents and the need per person and day."""
    permissions.require(actor, "supplies.deliver")
    errors: dict[str, str] = {}
    zone = supplied_zone(actor, zone_id)
    if zone is None:
        errors["zone_id"] = _("Choose a sealed zone of your area that is in force.")
    wh = Warehouse.objects.filter(pk=warehouse_id, active=True).first()
    if wh is None or not permissions.in_scope(actor, wh.scope_path):
        errors["warehouse_id"] = _("Choose a warehouse of your own area.")
    today = timezone.localdate()
    day = planned_for or today
    if not today <= day <= today + dt.timedelta(days=PLAN_AHEAD_DAYS):
        errors["planned_for"] = _("Plan for today or one of the next 30 days.")
    if len(note) > MAX_TEXT:
        errors["note"] = _("At most 2,000 characters.")
    wanted = sorted({int(r) for r in request_ids})
    if days is not None and not 1 <= days <= MAX_DAYS:
        errors["days"] = _("A distribution covers 1 to 60 days.")
    raw = list(lines)
    if not raw and days is not None and zone is not None and "days" not in errors:
        raw = distribution_lines(zone, days)
    clean = _clean_lines(raw, errors)
    requests: list[ZoneRequest] = []
    if wanted and zone is not None:
        requests = list(
            ZoneRequest.objects.select_for_update().filter(
                request_id__in=wanted, zone_id=zone.id, state=ZoneRequest.State.WAITING
            )
        )
        if len(requests) != len(wanted):
            errors["request_ids"] = _(
                "Some of these requests are not waiting for a delivery in this zone."
            )
    if errors:
        raise ValidationFailed(fields=errors)
    assert zone is not None and wh is not None
    delivery = Delivery.objects.create(
        zone_id=zone.id,
        zone_name=zone.name,
        warehouse=wh,
        scope_path=zone.scope_path,
        source=Delivery.Source.REQUESTS if wanted else Delivery.Source.PLANNED,
        request_ids=wanted,
        lines=clean,
        days=days if not wanted else None,
        planned_for=day,
        note=note.strip(),
        planned_by=acting_user(actor),
    )
    ZoneRequest.objects.filter(pk__in=[r.pk for r in requests]).update(
        state=ZoneRequest.State.PLANNED, delivery=delivery, updated_at=timezone.now()
    )
    names = dict(
        Item.objects.filter(pk__in=[ln["item_id"] for ln in clean]).values_list("pk", "name_zh")
    )
    _audit(
        actor,
        delivery,
        "supplies.delivery_plan",
        zone=zone.name,
        warehouse=wh.name,
        source=delivery.source,
        lines=[f"{names.get(ln['item_id'], '')} {ln['quantity']}" for ln in clean],
        requests=len(wanted),
    )
    return delivery


def _locked(actor: Actor, delivery_id: int) -> Delivery:
    permissions.require(actor, "supplies.deliver")
    delivery = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("warehouse")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None or not permissions.in_scope(actor, delivery.scope_path):
        raise NotFound()
    return delivery


def _closed(delivery: Delivery) -> Conflict:
    return Conflict(
        _("This delivery is already %(state)s.") % {"state": delivery.get_state_display()},
        code="delivery_closed",
    )


def _check_stock(delivery: Delivery) -> None:
    held = dict(
        Stock.objects.filter(warehouse=delivery.warehouse).values_list("item_id", "quantity")
    )
    items = Item.objects.in_bulk([ln["item_id"] for ln in delivery.lines])
    for ln in delivery.lines:
        have = int(held.get(ln["item_id"], 0))
        if have < ln["quantity"]:
            raise _short(delivery.warehouse, items[ln["item_id"]], have, ln["quantity"])


@transaction.atomic
def delivery_dispatch(*, actor: Actor, delivery_id: int) -> Delivery:
    """The delivery leaves the warehouse (refused while the warehouse holds less
    than it carries: nothing is sent half-loaded)."""
    delivery = _locked(actor, delivery_id)
    if delivery.state == S.DISPATCHED:
        raise Conflict(_("This delivery is already on its way."), code="already_dispatched")
    if delivery.state != S.PLANNED:
        raise _closed(delivery)
    _check_stock(delivery)
    delivery.state = S.DISPATCHED
    delivery.dispatched_at = timezone.now()
    delivery.save(update_fields=["state", "dispatched_at", "updated_at"])
    _audit(actor, delivery, "supplies.delivery_dispatch", state=[S.PLANNED, S.DISPATCHED])
    return delivery


def _photo_type(photo: bytes) -> str | None:
    for magic, kind in PHOTO_TYPES.items():
        if photo.startswith(magic):
            return kind
    return None


@transaction.atomic
def delivery_record_proof(
    *,
    actor: Actor,
    delivery_id: int,
    received_by: str,
    delivered_at: dt.datetime | None = None,
    proof_note: str = "",
    photo: bytes | None = None,
) -> Delivery:
    """The delivery was handed over at the zone: who received it, when, and a
    photo or a signature note. The stock it carried is issued from the warehouse
    in the ledger in this transaction (refused, with nothing written, when the
    warehouse holds less); the requests it carried are delivered."""
    delivery = _locked(actor, delivery_id)
    if not delivery.is_open:
        raise _closed(delivery)
    errors: dict[str, str] = {}
    who = received_by.strip()
    if not who or len(who) > 100:
        errors["received_by"] = _("Give the name of who received it (up to 100 characters).")
    note = proof_note.strip()
    if len(note) > MAX_TEXT:
        errors["proof_note"] = _("At most 2,000 characters.")
    kind = None
    if photo:
        kind = _photo_type(photo)
        if len(photo) > MAX_PHOTO_BYTES:
            errors["photo"] = _("The photo is at most 3 MB.")
        elif kind is None:
            errors["photo"] = _("The photo is a JPEG or PNG image.")
    elif not note:
        errors["proof_note"] = _("Add a photo or a note of the signature as proof.")
    now = timezone.now()
    at = delivered_at or now
    if at > now + dt.timedelta(minutes=5):
        errors["delivered_at"] = _("A delivery cannot be recorded for a time still to come.")
    elif at < delivery.created_at - dt.timedelta(minutes=5):
        errors["delivered_at"] = _("A delivery is handed over after it was planned.")
    if errors:
        raise ValidationFailed(fields=errors)
    items = Item.objects.in_bulk([ln["item_id"] for ln in delivery.lines])
    for ln in delivery.lines:
        post_movement(
            actor=actor,
            data=MovementData(
                kind=Movement.Kind.ISSUE,
                warehouse_id=delivery.warehouse_id,
                item_id=ln["item_id"],
                quantity=ln["quantity"],
                counterpart=delivery.zone_name,
                note=_("Delivery planned for %(day)s, received by %(name)s")
                % {"day": delivery.planned_for.strftime("%Y-%m-%d"), "name": who},
                occurred_at=at,
            ),
            wh=delivery.warehouse,
            item=items[ln["item_id"]],
            delivery_id=delivery.pk,
        )
    before = delivery.state
    delivery.state = S.DELIVERED
    delivery.delivered_at = at
    delivery.dispatched_at = delivery.dispatched_at or at
    delivery.received_by = who
    delivery.proof_note = note
    delivery.proof_photo = photo or None
    delivery.proof_photo_type = kind or ""
    delivery.delivered_by = acting_user(actor)
    delivery.save()
    carried = list(
        ZoneRequest.objects.filter(delivery=delivery, state=ZoneRequest.State.PLANNED)
        .order_by("request_id")
        .values_list("request_id", flat=True)
    )
    ZoneRequest.objects.filter(delivery=delivery, state=ZoneRequest.State.PLANNED).update(
        state=ZoneRequest.State.DELIVERED, updated_at=now
    )
    _audit(
        actor,
        delivery,
        "supplies.delivery_deliver",
        state=[before, S.DELIVERED],
        received_by=who,
        photo=bool(photo),
    )
    publish(
        "supplies.delivered",
        delivery_id=delivery.pk,
        zone_id=delivery.zone_id,
        request_ids=carried,
        delivered_at=at.isoformat(),
        received_by=who,
        actor=actor,
    )
    return delivery


@transaction.atomic
def delivery_cancel(*, actor: Actor, delivery_id: int, reason: str) -> Delivery:
    """Call off a delivery not yet handed over; its requests wait again."""
    delivery = _locked(actor, delivery_id)
    if not delivery.is_open:
        raise _closed(delivery)
    why = reason.strip()
    if not why or len(why) > MAX_TEXT:
        raise ValidationFailed(
            fields={"reason": _("Say why the delivery is cancelled (up to 2,000 characters).")}
        )
    before = delivery.state
    delivery.state = S.CANCELLED
    delivery.note = (delivery.note + "\n" + why).strip()
    delivery.save(update_fields=["state", "note", "updated_at"])
    ZoneRequest.objects.filter(delivery=delivery, state=ZoneRequest.State.PLANNED).update(
        state=ZoneRequest.State.WAITING, delivery=None, updated_at=timezone.now()
    )
    audit_record(
        actor=actor,
        action="supplies.delivery_cancel",
        obj=delivery,
        scope_path=delivery.scope_path,
        changes={"state": [before, S.CANCELLED]},
        reason=why,
    )
    return delivery


# --- Door-step requests (from the zones' facts) ---------------------------------------------


def zone_request_receive(
    *,
    request_id: int,
    zone_id: int | None,
    kind: str,
    due_at: str,
    text: str = "",
    items: list[Any] | None = None,
    scope_path: str = "",
    **_other: Any,
) -> None:
    """A resident of a zone supplied at the door asked for goods the supplies team
    delivers: the request waits for a delivery (once: keyed by the request)."""
    if zone_id is None:
        return
    rule = rules.supply_rule()
    if kind not in rule.delivery_request_kinds:
        return
    zone = zone_in_force(zone_id)
    if zone is None or zone.level not in rule.delivery_zone_levels:
        return
    ZoneRequest.objects.get_or_create(
        request_id=request_id,
        defaults={
            "zone_id": zone_id,
            "kind": kind,
            "text": text,
            "items": items or [],
            "scope_path": scope_path or zone.scope_path,
            "due_at": dt.datetime.fromisoformat(due_at),
        },
    )


def zone_request_close(*, request_id: int, **_other: Any) -> None:
    """The zone's team closed a request (done another way, or cancelled): it no
    longer waits for a delivery. One already in a delivery stays with it."""
    ZoneRequest.objects.filter(request_id=request_id, state=ZoneRequest.State.WAITING).update(
        state=ZoneRequest.State.CLOSED, updated_at=timezone.now()
    )
