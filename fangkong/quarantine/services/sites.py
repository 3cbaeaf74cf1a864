"""Quarantine sites: registration, lifecycle, acceptance inspection and rooms.

Lifecycle (隔离场所): reserve (储备) → vacating (腾退) → inspection and acceptance
(验收) → active (启用) ⇄ standby (备用) → closed. A site takes people only while
active, and becomes active or standby only after an inspection against the
checklist in force (data: ``AcceptanceItem``) passed every required point.
A site with people in it is neither put on standby nor closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.models import Jurisdiction
from fangkong.core.types import Actor, acting_user
from fangkong.quarantine.models import (
    AcceptanceItem,
    AcceptanceResult,
    Room,
    Site,
    SiteAcceptance,
    SiteTransition,
    Stay,
)

S = Site.State

# Allowed steps of the lifecycle; entering ACTIVE or STANDBY from inspection needs
# a passed acceptance.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.RESERVE: frozenset({S.VACATING, S.CLOSED}),
    S.VACATING: frozenset({S.INSPECTION, S.RESERVE, S.CLOSED}),
    S.INSPECTION: frozenset({S.ACTIVE, S.STANDBY, S.VACATING, S.CLOSED}),
    S.ACTIVE: frozenset({S.STANDBY, S.CLOSED}),
    S.STANDBY: frozenset({S.ACTIVE, S.INSPECTION, S.CLOSED}),
    S.CLOSED: frozenset({S.RESERVE}),
}
NEEDS_ACCEPTANCE = frozenset({S.ACTIVE, S.STANDBY})
MAX_ROOMS_PER_CALL = 5000
MAX_TEXT = 2000


def _audit(
    actor: Actor, site: Site, action: str, changes: dict[str, Any], reason: str = ""
) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=site,
        scope_path=site.scope_path,
        changes=changes,
        reason=reason,
    )


def _node_in_scope(actor: Actor, jurisdiction_id: int) -> Jurisdiction:
    node = Jurisdiction.objects.filter(pk=jurisdiction_id).first()
    if node is None or not permissions.in_scope(actor, node.path):
        raise ValidationFailed(fields={"jurisdiction_id": _("Choose an area of your own.")})
    if node.level_index < Jurisdiction.LEVEL_ORDER.index(Jurisdiction.Level.DISTRICT):
        raise ValidationFailed(
            fields={"jurisdiction_id": _("A site belongs to a district or a smaller area.")}
        )
    return node


def _locked_site(actor: Actor, site_id: int) -> Site:
    site = Site.objects.select_for_update().filter(pk=site_id).first()
    if site is None or not permissions.in_scope(actor, site.scope_path):
        raise NotFound()
    return site


@dataclass(frozen=True)
class SiteData:
    name: str
    jurisdiction_id: int
    kind: str = Site.Kind.HOTEL
    address: str = ""
    tier: int = 1
    planned_rooms: int = 0
    contact_name: str = ""
    contact_phone: str = ""
    note: str = ""


def _check_site_data(data: SiteData) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.name.strip() or len(data.name) > 200:
        errors["name"] = _("Give the site a name (up to 200 characters).")
    if data.kind not in Site.Kind.values:
        errors["kind"] = _("Choose one of the listed kinds.")
    if not 1 <= data.tier <= 99:
        errors["tier"] = _("The tier is a number from 1 to 99.")
    if not 0 <= data.planned_rooms <= 100_000:
        errors["planned_rooms"] = _("The planned rooms are a number from 0 to 100,000.")
    if len(data.note) > MAX_TEXT:
        errors["note"] = _("At most 2,000 characters.")
    return errors


@transaction.atomic
def site_create(*, actor: Actor, data: SiteData) -> Site:
    """Register a site (in reserve) in an area of the actor's."""
    permissions.require(actor, "quarantine.sites")
    errors = _check_site_data(data)
    node: Jurisdiction | None = None
    try:
        node = _node_in_scope(actor, data.jurisdiction_id)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors or node is None:
        raise ValidationFailed(fields=errors)
    site = Site.objects.create(
        name=data.name.strip(),
        kind=data.kind,
        jurisdiction=node,
        scope_path=node.path,
        address=data.address.strip()[:300],
        tier=data.tier,
        planned_rooms=data.planned_rooms,
        contact_name=data.contact_name.strip()[:100],
        contact_phone=data.contact_phone.strip()[:32],
        note=data.note.strip(),
    )
    SiteTransition.objects.create(site=site, to_state=site.state, actor=acting_user(actor))
    _audit(
        actor,
        site,
        "quarantine.site_create",
        {"name": [None, site.name], "tier": [None, site.tier]},
    )
    return site


@transaction.atomic
def site_update(*, actor: Actor, site_id: int, data: SiteData) -> Site:
    """Correct a site's details (the area only inside the actor's own)."""
    permissions.require(actor, "quarantine.sites")
    site = _locked_site(actor, site_id)
    errors = _check_site_data(data)
    node = site.jurisdiction
    if data.jurisdiction_id != site.jurisdiction_id:
        try:
            node = _node_in_scope(actor, data.jurisdiction_id)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    before = _snapshot(site)
    site.name = data.name.strip()
    site.kind = data.kind
    site.jurisdiction = node
    site.scope_path = node.path
    site.address = data.address.strip()[:300]
    site.tier = data.tier
    site.planned_rooms = data.planned_rooms
    site.contact_name = data.contact_name.strip()[:100]
    site.contact_phone = data.contact_phone.strip()[:32]
    site.note = data.note.strip()
    site.save()
    if site.scope_path != before["scope_path"]:
        Room.objects.filter(site=site).update(scope_path=site.scope_path)
    changes = {k: [before[k], v] for k, v in _snapshot(site).items() if before[k] != v}
    if changes:
        _audit(actor, site, "quarantine.site_update", changes)
    return site


def _snapshot(site: Site) -> dict[str, Any]:
    return {
        "name": site.name,
        "kind": site.kind,
        "scope_path": site.scope_path,
        "address": site.address,
        "tier": site.tier,
        "planned_rooms": site.planned_rooms,
        "contact_name": site.contact_name,
        "contact_phone": site.contact_phone,
    }


def site_people_count(site: Site) -> int:
    """People in the site's rooms (occupants of its rooms)."""
    return sum(Room.objects.filter(site=site).values_list("occupants", flat=True))


@transaction.atomic
def site_transition(*, actor: Actor, site_id: int, to_state: str, reason: str = "") -> Site:
    """Move a site one step along its lifecycle (see ``TRANSITIONS``).

    Activation needs ``quarantine.activate`` (the command's decision); the other
    steps ``quarantine.sites``. Entering active or standby from inspection needs
    a passed acceptance; a site with people in it is neither put on standby nor
    closed; a site with people waiting for a room is not put on standby either.
    """
    permissions.require(
        actor, "quarantine.activate" if to_state == S.ACTIVE else "quarantine.sites"
    )
    site = _locked_site(actor, site_id)
    if to_state not in S.values:
        raise ValidationFailed(fields={"to_state": _("Choose one of the listed states.")})
    if to_state not in TRANSITIONS[site.state]:
        raise Conflict(
            _("A site that is “%(from)s” cannot become “%(to)s”.")
            % {"from": S(site.state).label, "to": S(to_state).label},
            code="invalid_transition",
        )
    if len(reason) > MAX_TEXT:
        raise ValidationFailed(fields={"reason": _("At most 2,000 characters.")})
    if to_state in NEEDS_ACCEPTANCE and site.state == S.INSPECTION:
        last = site.acceptances.order_by("-inspected_at", "-id").first()
        entered = site.state_since
        if last is None or not last.passed or last.inspected_at < entered:
            raise Conflict(
                _("The site has not passed its acceptance inspection yet."),
                code="not_accepted",
            )
    if to_state == S.ACTIVE and site.accepted_at is None:
        raise Conflict(
            _("The site has not passed its acceptance inspection yet."), code="not_accepted"
        )
    if site.state == S.ACTIVE and to_state in (S.STANDBY, S.CLOSED):
        people = site_people_count(site)
        if people:
            raise Conflict(
                _("%(n)s people are still in this site; release or move them first.")
                % {"n": people},
                code="site_not_empty",
            )
        waiting = Stay.objects.filter(site=site, state=Stay.State.PENDING).count()
        if waiting:
            raise Conflict(
                _("%(n)s people are waiting for a room in this site; move them first.")
                % {"n": waiting},
                code="site_not_empty",
            )
    previous = site.state
    site.state = to_state
    site.state_since = timezone.now()
    site.save(update_fields=["state", "state_since", "updated_at"])
    SiteTransition.objects.create(
        site=site,
        from_state=previous,
        to_state=to_state,
        actor=acting_user(actor),
        reason=reason.strip(),
    )
    _audit(actor, site, "quarantine.site_transition", {"site_state": [previous, to_state]}, reason)
    return site


@transaction.atomic
def site_accept(
    *,
    actor: Actor,
    site_id: int,
    results: Mapping[str, tuple[bool, str]],
    note: str = "",
) -> SiteAcceptance:
    """Record an acceptance inspection: one result (passed, note) per active
    checklist point, keyed by its code. The site passes when every required
    point passed; it must be in inspection."""
    permissions.require(actor, "quarantine.sites")
    site = _locked_site(actor, site_id)
    if site.state != S.INSPECTION:
        raise Conflict(
            _("Only a site in inspection and acceptance can be inspected."),
            code="not_in_inspection",
        )
    items = list(AcceptanceItem.objects.filter(active=True).order_by("order", "code"))
    errors: dict[str, str] = {}
    known = {i.code for i in items}
    for code in results:
        if code not in known:
            errors[code] = _("This is not a point of the checklist in force.")
    for item in items:
        if item.code not in results:
            errors[item.code] = _("Give a result for this point.")
        elif len(results[item.code][1]) > 300:
            errors[item.code] = _("At most 300 characters.")
    if len(note) > MAX_TEXT:
        errors["note"] = _("At most 2,000 characters.")
    if not items:
        errors["__all__"] = _("The checklist has no active points; ask an administrator.")
    if errors:
        raise ValidationFailed(fields=errors)
    passed = all(results[i.code][0] for i in items if i.required)
    acceptance = SiteAcceptance.objects.create(
        site=site,
        inspector=acting_user(actor),
        passed=passed,
        note=note.strip(),
    )
    AcceptanceResult.objects.bulk_create(
        [
            AcceptanceResult(
                acceptance=acceptance,
                item=i,
                passed=bool(results[i.code][0]),
                note=results[i.code][1].strip(),
            )
            for i in items
        ]
    )
    if passed:
        site.accepted_at = acceptance.inspected_at
        site.save(update_fields=["accepted_at", "updated_at"])
    failed = [i.code for i in items if not results[i.code][0]]
    _audit(
        actor,
        site,
        "quarantine.site_accept",
        {"passed": [None, passed], "failed_points": [None, failed]},
        note,
    )
    return acceptance


# --- Rooms -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RoomData:
    number: str
    floor: int = 1
    kind: str = Room.Kind.SINGLE
    own_bathroom: bool = True


def rooms_numbered(
    floors: Iterable[int], per_floor: int, *, kind: str = Room.Kind.SINGLE
) -> list[RoomData]:
    """Rooms numbered the hotel way: floor 3, room 7 is ``307`` (``3007`` above 99 a floor)."""
    width = 2 if per_floor < 100 else 3
    return [
        RoomData(number=f"{floor}{n:0{width}d}", floor=floor, kind=kind)
        for floor in floors
        for n in range(1, per_floor + 1)
    ]


@transaction.atomic
def rooms_add(*, actor: Actor, site_id: int, rooms: list[RoomData]) -> int:
    """Add rooms to a site (all or none). A number already used at the site, a
    duplicate in the list or an unknown type is an error naming the room."""
    permissions.require(actor, "quarantine.sites")
    site = _locked_site(actor, site_id)
    if site.state == S.CLOSED:
        raise Conflict(_("A closed site gets no new rooms."), code="site_closed")
    if not rooms:
        raise ValidationFailed(fields={"rooms": _("Give at least one room.")})
    if len(rooms) > MAX_ROOMS_PER_CALL:
        raise ValidationFailed(fields={"rooms": _("At most 5,000 rooms at a time.")})
    existing = set(Room.objects.filter(site=site).values_list("number", flat=True))
    seen: set[str] = set()
    errors: dict[str, str] = {}
    for r in rooms:
        number = r.number.strip()
        if not number or len(number) > 20:
            errors["rooms"] = _("Every room needs a number of up to 20 characters.")
        elif number in existing or number in seen:
            errors[f"rooms.{number}"] = _("Room %(number)s is already listed.") % {"number": number}
        elif r.kind not in Room.Kind.values:
            errors[f"rooms.{number}"] = _("Room %(number)s has an unknown type.") % {
                "number": number
            }
        elif not -5 <= r.floor <= 200:
            errors[f"rooms.{number}"] = _("Room %(number)s has an impossible floor.") % {
                "number": number
            }
        seen.add(number)
    if errors:
        raise ValidationFailed(fields=dict(list(errors.items())[:20]))
    Room.objects.bulk_create(
        [
            Room(
                site=site,
                number=r.number.strip(),
                floor=r.floor,
                kind=r.kind,
                own_bathroom=r.own_bathroom,
                scope_path=site.scope_path,
            )
            for r in rooms
        ],
        batch_size=1000,
    )
    _audit(actor, site, "quarantine.rooms_add", {"rooms": [None, len(rooms)]})
    return len(rooms)


# Statuses staff may set by hand; "occupied" comes only from allocation and
# "clean" after a stay only from disinfection.
MANUAL_ROOM_STATUSES = frozenset({Room.Status.CLEAN, Room.Status.MAINTENANCE})


@transaction.atomic
def room_set_status(*, actor: Actor, room_id: int, status: str, reason: str = "") -> Room:
    """Mark a room clean (disinfected, or back from maintenance) or under
    maintenance. An occupied room keeps its status until its people leave."""
    permissions.require(actor, "quarantine.stays")
    room = (
        Room.objects.select_for_update(of=("self",))
        .select_related("site")
        .filter(pk=room_id)
        .first()
    )
    if room is None or not permissions.in_scope(actor, room.scope_path):
        raise NotFound()
    if status not in MANUAL_ROOM_STATUSES:
        raise ValidationFailed(
            fields={"status": _("A room can be marked clean or under maintenance.")}
        )
    if room.status == Room.Status.OCCUPIED:
        raise Conflict(
            _("Room %(number)s is occupied; its status changes when its people leave.")
            % {"number": room.number},
            code="room_occupied",
        )
    previous = room.status
    if previous == status:
        return room
    room.status = status
    room.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="quarantine.room_status",
        obj=room,
        scope_path=room.scope_path,
        changes={"room_status": [previous, status]},
        reason=reason,
    )
    return room
