"""Stays: intake, room allocation, exceptions, transfer out, cancellation.

A stay starts pending (the person is at the site, waiting for a room), from a
transfer hand-over (entry's ``transfer.handed_over`` fact) or a direct order,
or is placed straight into a room by a city's batch placement. Its planned end
comes from the quarantine rule (data) of its category and disease.

One person per room is held by the database (a partial unique index over the
rooms of open stays) and by the allocation itself: rooms are taken with their
status flipped from clean to occupied in the same statement that checks it,
locked with SKIP LOCKED on PostgreSQL so parallel batches never wait on each
other nor take the same room. A second person in a room needs an approved
exception (a minor with a guardian, a carer).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from fangkong.core import events, foureyes, permissions
from fangkong.core.audit import audit_record, audit_record_many
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.models import Jurisdiction, Person
from fangkong.core.types import Actor, acting_user
from fangkong.quarantine.models import (
    Approval,
    QuarantineRule,
    Room,
    Site,
    Stay,
    StayCategory,
    StayTest,
)
from fangkong.quarantine.services import rules

MAX_BATCH = 10_000
MAX_TEXT = 2000


@dataclass(frozen=True)
class AdmitData:
    """One person to admit: who, why, since when."""

    person_id: int
    category: str
    disease_code: str = ""
    started_on: dt.date | None = None
    requested_end: dt.date | None = None
    transfer_id: int | None = None
    arrival_id: int | None = None
    source_key: str = ""
    arrived_at: dt.datetime | None = None


@dataclass
class Placement:
    """What a batch placement or allocation did."""

    placed: list[tuple[int, int]] = field(default_factory=list)  # (stay id, room id)
    waiting: list[int] = field(default_factory=list)  # stay ids still without a room


def _audit(
    actor: Actor, stay: Stay, action: str, changes: dict[str, Any], reason: str = ""
) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=stay,
        scope_path=stay.scope_path,
        person_id=stay.person_id,
        changes=changes,
        reason=reason,
    )


def locked_stay(actor: Actor, stay_id: int) -> Stay:
    stay = (
        Stay.objects.select_for_update(of=("self",))
        .select_related("rule", "site", "room", "category")
        .filter(pk=stay_id)
        .first()
    )
    if stay is None or (actor is not None and not permissions.in_scope(actor, stay.scope_path)):
        raise NotFound()
    return stay


def _active_site(actor: Actor, site_id: int, *, for_update: bool = False) -> Site:
    qs = Site.objects.select_for_update() if for_update else Site.objects.all()
    site = qs.filter(pk=site_id).first()
    if site is None or (actor is not None and not permissions.in_scope(actor, site.scope_path)):
        raise NotFound()
    if site.state != Site.State.ACTIVE:
        raise Conflict(
            _("%(site)s is not active and takes nobody.") % {"site": site.name},
            code="site_not_active",
        )
    return site


# --- Intake -------------------------------------------------------------------------------


def _prepare(
    people: Sequence[AdmitData], *, today: dt.date
) -> tuple[dict[int, Person], dict[str, StayCategory], dict[str, str]]:
    errors: dict[str, str] = {}
    if not people:
        raise ValidationFailed(fields={"people": _("Give at least one person.")})
    if len(people) > MAX_BATCH:
        raise ValidationFailed(fields={"people": _("At most 10,000 people at a time.")})
    ids = [p.person_id for p in people]
    persons = {
        p.pk: p
        for p in Person.objects.filter(pk__in=ids, merged_into__isnull=True).only("id", "name")
    }
    categories: dict[str, StayCategory] = {}
    seen: set[int] = set()
    for i, p in enumerate(people):
        key = f"people.{i}"
        if p.person_id not in persons:
            errors[key] = _("Unknown person.")
        elif p.person_id in seen:
            errors[key] = _("This person is listed twice.")
        seen.add(p.person_id)
        if p.category not in categories:
            try:
                categories[p.category] = rules.category_by_code(p.category)
            except ValidationFailed as exc:
                errors[key] = exc.fields.get("category", "")
        if p.started_on and p.started_on > today:
            errors[key] = _("The quarantine cannot start in the future.")
    return persons, categories, errors


def _open_stays_of(person_ids: Sequence[int]) -> dict[int, Stay]:
    return {
        s.person_id: s
        for s in Stay.objects.filter(
            person_id__in=list(person_ids), state__in=Stay.OPEN_STATES
        ).only("id", "person_id", "started_on")
    }


def _new_stay(
    data: AdmitData,
    *,
    site: Site,
    category: StayCategory,
    source: str,
    today: dt.date,
    now: dt.datetime,
    rule_cache: dict[tuple[int, str, dt.date], QuarantineRule] | None = None,
) -> Stay:
    started = data.started_on or today
    key = (category.pk, data.disease_code, started)
    cached = rule_cache.get(key) if rule_cache is not None else None
    rule = cached or rules.quarantine_rule(category, data.disease_code, started)
    if rule_cache is not None:
        rule_cache[key] = rule
    end = rules.planned_end(rule, started)
    requested = data.requested_end if data.requested_end and data.requested_end != end else None
    note = ""
    if requested:
        # Two rules disagree (the sender's and ours): keep both, the later applies.
        note = _("The sender asked for an end on %(asked)s; the rule gives %(rule)s.") % {
            "asked": date_format(requested),
            "rule": date_format(end),
        }
        end = max(end, requested)
    return Stay(
        person_id=data.person_id,
        site=site,
        scope_path=site.scope_path,
        category=category,
        disease_code=data.disease_code,
        rule=rule,
        source=source,
        source_key=data.source_key,
        transfer_id=data.transfer_id,
        arrival_id=data.arrival_id,
        started_on=started,
        planned_end=end,
        requested_end=requested,
        admitted_at=min(data.arrived_at, now) if data.arrived_at else now,
        note=note,
    )


def _schedule_tests(stays: Sequence[Stay], *, today: dt.date) -> None:
    """The rule's test days of each stay, from the day of admission on."""
    rows = []
    for s in stays:
        for day in s.rule.test_days or []:
            due = s.started_on + dt.timedelta(days=int(day) - 1)
            if due >= min(today, timezone.localtime(s.admitted_at).date()):
                rows.append(StayTest(stay=s, due_on=due, day_number=int(day)))
    StayTest.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)


def stays_admit(
    *,
    actor: Actor,
    site_id: int,
    people: Sequence[AdmitData],
    source: str = Stay.Source.ORDER,
) -> list[Stay]:
    """Admit people to a site: pending stays waiting for a room. All or none.

    Idempotent by ``source_key`` (a transfer's hand-over delivered twice admits
    once). A person with an open stay elsewhere is refused (named in the error).
    ``actor=None`` is the system acting on a hand-over fact: the people are
    already at the site, so any site that is not closed takes them.
    """
    if actor is not None:
        permissions.require(actor, "quarantine.stays")
    today = timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        if actor is None:
            site = Site.objects.select_for_update().filter(pk=site_id).first()
            if site is None or site.state == Site.State.CLOSED:
                raise NotFound(_("The quarantine site of this hand-over does not take people."))
        else:
            site = _active_site(actor, site_id, for_update=True)
        keys = [p.source_key for p in people if p.source_key]
        done = {s.source_key: s for s in Stay.objects.filter(source_key__in=keys)} if keys else {}
        todo = [p for p in people if not (p.source_key and p.source_key in done)]
        if not todo:
            return list(done.values())
        persons, categories, errors = _prepare(todo, today=today)
        open_stays = _open_stays_of([p.person_id for p in todo])
        for i, p in enumerate(todo):
            other = open_stays.get(p.person_id)
            if other is not None:
                errors[f"people.{i}"] = _("%(name)s is already in quarantine (since %(date)s).") % {
                    "name": persons[p.person_id].name,
                    "date": date_format(other.started_on),
                }
        if errors:
            raise ValidationFailed(fields=errors)
        cache: dict[tuple[int, str, dt.date], QuarantineRule] = {}
        stays = [
            _new_stay(
                p,
                site=site,
                category=categories[p.category],
                source=source,
                today=today,
                now=now,
                rule_cache=cache,
            )
            for p in todo
        ]
        Stay.objects.bulk_create(stays, batch_size=2000)
        _schedule_tests(stays, today=today)
        audit_record_many(
            actor=actor,
            action="quarantine.stay_admit",
            entries=[
                {
                    "object_type": "quarantine.stay",
                    "object_id": s.pk,
                    "scope_path": s.scope_path,
                    "person_id": s.person_id,
                    "changes": {
                        "site": [None, site.name],
                        "planned_end": [None, s.planned_end.isoformat()],
                    },
                }
                for s in stays
            ],
        )
        events.publish(
            "stays.opened",
            stay_ids=[s.pk for s in stays],
            person_ids=[s.person_id for s in stays],
            site_id=site.pk,
            actor=actor,
        )
        return [*done.values(), *stays]


# --- Allocation ---------------------------------------------------------------------------


def _take_rooms(site_ids: Sequence[int], n: int) -> list[Room]:
    """Up to ``n`` clean rooms of the sites (first tier, floor and number
    first), flipped to occupied. PostgreSQL locks them with SKIP LOCKED, so a
    parallel batch takes other rooms instead of waiting; SQLite serialises
    writing transactions (BEGIN IMMEDIATE). Either way the status is set only
    where it is still clean, and a room that was not is not returned."""
    if n <= 0 or not site_ids:
        return []
    qs = Room.objects.filter(site_id__in=list(site_ids), status=Room.Status.CLEAN).order_by(
        "site__tier", "site_id", "floor", "number"
    )
    if connection.vendor == "postgresql":
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    rooms = list(qs.only("id", "site_id", "number", "floor")[:n])
    if not rooms:
        return []
    ids = [r.pk for r in rooms]
    taken = 0
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        taken += Room.objects.filter(pk__in=chunk, status=Room.Status.CLEAN).update(
            status=Room.Status.OCCUPIED, occupants=1, updated_at=timezone.now()
        )
    if taken != len(ids):  # only possible if a lock was bypassed: never half-write
        raise Conflict(_("Rooms were taken by another allocation; try again."), code="race")
    return rooms


def _put_in_rooms(stays: Sequence[Stay], rooms: Sequence[Room], *, now: dt.datetime) -> None:
    for stay, room in zip(stays, rooms, strict=False):
        stay.room_id = room.pk
        stay.state = Stay.State.IN_ROOM
        stay.roomed_at = now
    Stay.objects.bulk_update(
        list(stays[: len(rooms)]), ["room", "state", "roomed_at"], batch_size=1000
    )


def _after_rooms_taken(site_paths: set[str]) -> None:
    from fangkong.quarantine.services.tiers import tiers_evaluate_for_paths

    paths = sorted(site_paths)
    transaction.on_commit(lambda: tiers_evaluate_for_paths(paths))


def stays_allocate(
    *, actor: Actor, site_id: int, stay_ids: Sequence[int] | None = None
) -> Placement:
    """Give rooms to the site's people waiting for one (or to the listed ones),
    first come first served, as far as clean rooms go; the others keep waiting."""
    permissions.require(actor, "quarantine.stays")
    now = timezone.now()
    with transaction.atomic():
        site = _active_site(actor, site_id)
        qs: QuerySet[Stay] = Stay.objects.filter(site=site, state=Stay.State.PENDING)
        if stay_ids is not None:
            wanted = set(stay_ids)
            qs = qs.filter(pk__in=list(wanted))
        if connection.vendor == "postgresql":
            qs = qs.select_for_update(skip_locked=True)
        stays = list(qs.order_by("admitted_at", "id"))
        if stay_ids is not None and len(stays) != len(set(stay_ids)):
            missing = set(stay_ids) - {s.pk for s in stays}
            raise ValidationFailed(
                fields={
                    "stay_ids": _("%(n)s of these people are not waiting for a room here.")
                    % {"n": len(missing)}
                }
            )
        rooms = _take_rooms([site.pk], len(stays))
        _put_in_rooms(stays, rooms, now=now)
        placed = [(s.pk, r.pk) for s, r in zip(stays, rooms, strict=False)]
        _audit_placed(actor, stays[: len(rooms)], rooms)
        if rooms:
            _after_rooms_taken({site.scope_path})
        return Placement(placed=placed, waiting=[s.pk for s in stays[len(rooms) :]])


def _audit_placed(actor: Actor, stays: Sequence[Stay], rooms: Sequence[Room]) -> None:
    audit_record_many(
        actor=actor,
        action="quarantine.room_allocate",
        entries=[
            {
                "object_type": "quarantine.stay",
                "object_id": s.pk,
                "scope_path": s.scope_path,
                "person_id": s.person_id,
                "changes": {"room": [None, r.number]},
            }
            for s, r in zip(stays, rooms, strict=False)
        ],
    )


def stays_place(*, actor: Actor, pool_id: int, people: Sequence[AdmitData]) -> Placement:
    """Place a batch of people (a flight, a cluster's contacts) straight into
    rooms of the active sites of an area, first tier first. All or none: when
    the free rooms are too few, nothing is written and the error says how many
    are free (the next tier is proposed for activation)."""
    permissions.require(actor, "quarantine.stays")
    today = timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        pool = Jurisdiction.objects.filter(pk=pool_id).first()
        if pool is None or not permissions.in_scope(actor, pool.path):
            raise NotFound()
        persons, categories, errors = _prepare(people, today=today)
        open_stays = _open_stays_of([p.person_id for p in people])
        for i, p in enumerate(people):
            if p.person_id in open_stays:
                errors[f"people.{i}"] = _("%(name)s is already in quarantine.") % {
                    "name": persons[p.person_id].name
                }
        if errors:
            raise ValidationFailed(fields=dict(list(errors.items())[:50]))
        sites = {
            s.pk: s
            for s in Site.objects.filter(
                state=Site.State.ACTIVE,
                scope_path__gte=pool.path,
                scope_path__lt=pool.path + "~",
            )
        }
        rooms = _take_rooms(list(sites), len(people))
        if len(rooms) < len(people):
            _after_rooms_taken({pool.path})
            raise Conflict(
                _(
                    "Only %(free)s free rooms for %(n)s people in the active sites of "
                    "%(area)s; activate the next tier first."
                )
                % {"free": len(rooms), "n": len(people), "area": pool.name},
                code="not_enough_rooms",
            )
        stays = []
        # One look-up of the rule in force per category, disease and start day.
        cache: dict[tuple[int, str, dt.date], QuarantineRule] = {}
        for p, room in zip(people, rooms, strict=True):
            stay = _new_stay(
                p,
                site=sites[room.site_id],
                category=categories[p.category],
                source=Stay.Source.ORDER,
                today=today,
                now=now,
                rule_cache=cache,
            )
            stay.room_id = room.pk
            stay.state = Stay.State.IN_ROOM
            stay.roomed_at = now
            stays.append(stay)
        Stay.objects.bulk_create(stays, batch_size=2000)
        _schedule_tests(stays, today=today)
        _audit_placed(actor, stays, rooms)
        by_site: dict[int, list[Stay]] = defaultdict(list)
        for s in stays:
            by_site[s.site_id].append(s)
        for sid, group in by_site.items():
            events.publish(
                "stays.opened",
                stay_ids=[s.pk for s in group],
                person_ids=[s.person_id for s in group],
                site_id=sid,
                actor=actor,
            )
        _after_rooms_taken({pool.path})
        return Placement(placed=[(s.pk, s.room_id or 0) for s in stays])


@transaction.atomic
def stay_assign_room(*, actor: Actor, stay_id: int, room_id: int) -> Stay:
    """Put a waiting person in a chosen clean room of their site."""
    permissions.require(actor, "quarantine.stays")
    stay = locked_stay(actor, stay_id)
    if stay.state != Stay.State.PENDING:
        raise Conflict(_("This person already has a room or has left."), code="not_waiting")
    room = Room.objects.select_for_update().filter(pk=room_id, site_id=stay.site_id).first()
    if room is None:
        raise ValidationFailed(fields={"room_id": _("Choose a room of this site.")})
    if room.status != Room.Status.CLEAN:
        raise Conflict(
            _("Room %(number)s is not clean (%(status)s); choose a clean room.")
            % {"number": room.number, "status": Room.Status(room.status).label},
            code="room_not_clean",
        )
    Room.objects.filter(pk=room.pk).update(status=Room.Status.OCCUPIED, occupants=1)
    stay.room = room
    stay.state = Stay.State.IN_ROOM
    stay.roomed_at = timezone.now()
    stay.save(update_fields=["room", "state", "roomed_at", "updated_at"])
    _audit(actor, stay, "quarantine.room_allocate", {"room": [None, room.number]})
    _after_rooms_taken({stay.scope_path})
    return stay


# --- Exceptions: a second person in a room -----------------------------------------------


def _check_reason(reason_kind: str, reason: str) -> None:
    errors: dict[str, str] = {}
    if reason_kind not in Approval.Reason.values:
        errors["reason_kind"] = _("Choose one of the listed grounds.")
    if not reason.strip():
        errors["reason"] = _("Give the reason.")
    elif len(reason) > MAX_TEXT:
        errors["reason"] = _("At most 2,000 characters.")
    if errors:
        raise ValidationFailed(fields=errors)


@transaction.atomic
def room_share_request(
    *, actor: Actor, stay_id: int, room_id: int, reason_kind: str, reason: str
) -> Approval:
    """Ask to put a waiting person in an occupied room with its occupant (a minor
    with their guardian, a carer): it waits for another person's approval."""
    permissions.require(actor, "quarantine.stays")
    _check_reason(reason_kind, reason)
    stay = locked_stay(actor, stay_id)
    if stay.state != Stay.State.PENDING:
        raise Conflict(_("This person already has a room or has left."), code="not_waiting")
    room = Room.objects.filter(pk=room_id, site_id=stay.site_id).first()
    if room is None:
        raise ValidationFailed(fields={"room_id": _("Choose a room of this site.")})
    if room.status != Room.Status.OCCUPIED:
        raise Conflict(
            _("Room %(number)s has nobody to share with; allocate it as usual.")
            % {"number": room.number},
            code="room_not_occupied",
        )
    if Approval.objects.filter(stay=stay, state=Approval.State.PENDING).exists():
        raise Conflict(_("A request for this person is already waiting."), code="duplicate")
    approval = Approval.objects.create(
        kind=Approval.Kind.ROOM_SHARE,
        stay=stay,
        room=room,
        reason_kind=reason_kind,
        reason=reason.strip(),
        scope_path=stay.scope_path,
        requested_by=acting_user(actor),
    )
    _audit(actor, stay, "quarantine.share_request", {"room": [None, room.number]}, reason)
    return approval


def _share_room(approval: Approval, actor: Actor) -> None:
    stay = locked_stay(None, approval.stay_id)
    if stay.state != Stay.State.PENDING:
        raise Conflict(_("This person already has a room or has left."), code="not_waiting")
    room = Room.objects.select_for_update().get(pk=approval.room_id or 0)
    if room.status == Room.Status.CLEAN:
        Room.objects.filter(pk=room.pk).update(status=Room.Status.OCCUPIED, occupants=1)
        stay.share = None
    elif room.status == Room.Status.OCCUPIED and room.occupants < stay.rule.room_sharers:
        Room.objects.filter(pk=room.pk).update(occupants=F("occupants") + 1)
        stay.share = approval
    else:
        raise Conflict(
            _("Room %(number)s cannot take one more person now.") % {"number": room.number},
            code="room_full",
        )
    stay.room = room
    stay.state = Stay.State.IN_ROOM
    stay.roomed_at = timezone.now()
    stay.save(update_fields=["room", "share", "state", "roomed_at", "updated_at"])
    _audit(
        actor,
        stay,
        "quarantine.room_allocate",
        {"room": [None, room.number], "shared": [None, True]},
    )


@transaction.atomic
def approval_decide(*, actor: Actor, approval_id: int, approve: bool, note: str = "") -> Approval:
    """Approve or refuse an exception. Never one's own request (four eyes). An
    approved room share takes effect at once; an approved early release lets
    the site release the person."""
    permissions.require(actor, "quarantine.approve")
    approval = Approval.objects.select_for_update().filter(pk=approval_id).first()
    if approval is None or not permissions.in_scope(actor, approval.scope_path):
        raise NotFound()
    if approval.state != Approval.State.PENDING:
        raise Conflict(_("This request was already decided."), code="already_decided")
    user = acting_user(actor)
    foureyes.require_second_person(
        actor=actor,
        first_id=approval.requested_by_id,
        own_message=_("A request is approved by someone other than who made it."),
        own_code="own_request",
    )
    if len(note) > MAX_TEXT:
        raise ValidationFailed(fields={"note": _("At most 2,000 characters.")})
    if not approve and not note.strip():
        raise ValidationFailed(fields={"note": _("Say why the request is refused.")})
    approval.decided_by = user
    approval.decided_at = timezone.now()
    approval.decision_note = note.strip()
    if not approve:
        approval.state = Approval.State.REFUSED
    elif approval.kind == Approval.Kind.ROOM_SHARE:
        approval.state = Approval.State.USED
        approval.save()
        _share_room(approval, actor)
    else:
        approval.state = Approval.State.APPROVED
    approval.save()
    audit_record(
        actor=actor,
        action="quarantine.approval_decide",
        obj=approval,
        scope_path=approval.scope_path,
        person_id=approval.stay.person_id,
        changes={
            "approval_state": [Approval.State.PENDING, approval.state],
            "approval_kind": [None, approval.kind],
        },
        reason=note,
    )
    return approval


# --- Leaving a room ------------------------------------------------------------------------


def vacate_room(stay: Stay) -> None:
    """The person left their room: the last one out leaves it awaiting disinfection."""
    if stay.room_id is None:
        return
    room = Room.objects.select_for_update().get(pk=stay.room_id)
    left = max(room.occupants - 1, 0)
    room.occupants = left
    if left == 0:
        room.status = Room.Status.AWAITING_DISINFECTION
    room.save(update_fields=["occupants", "status", "updated_at"])
    if left and stay.share_id is None:
        # The primary occupant left: one of the sharers becomes the primary.
        heir = (
            Stay.objects.filter(room_id=room.pk, state=Stay.State.IN_ROOM)
            .exclude(pk=stay.pk)
            .order_by("roomed_at", "id")
            .first()
        )
        if heir is not None:
            Stay.objects.filter(pk=heir.pk).update(share=None)


@transaction.atomic
def stay_cancel(*, actor: Actor, stay_id: int, reason: str) -> Stay:
    """Cancel a stay opened by mistake (wrong person, duplicate order)."""
    permissions.require(actor, "quarantine.stays")
    if not reason.strip():
        raise ValidationFailed(fields={"reason": _("Give the reason.")})
    stay = locked_stay(actor, stay_id)
    if not stay.is_open:
        raise Conflict(_("This stay has already ended."), code="stay_ended")
    vacate_room(stay)
    previous = stay.state
    stay.state = Stay.State.CANCELLED
    stay.ended_at = timezone.now()
    stay.ended_by = acting_user(actor)
    stay.end_note = reason.strip()
    stay.save(update_fields=["state", "ended_at", "ended_by", "end_note", "updated_at"])
    Approval.objects.filter(stay=stay, state=Approval.State.PENDING).update(
        state=Approval.State.CANCELLED
    )
    _audit(actor, stay, "quarantine.stay_cancel", {"stay_state": [previous, stay.state]}, reason)
    events.publish(
        "stay.ended", stay_id=stay.pk, person_id=stay.person_id, outcome="cancelled", actor=actor
    )
    return stay


@dataclass(frozen=True)
class OrderData:
    """A direct order at a site's desk: the person by their ID document."""

    doc_type: str
    doc_number: str
    name: str
    category: str
    disease_code: str = ""
    started_on: dt.date | None = None
    phone: str = ""
    language: str = "zh-hans"


def stay_admit_by_document(*, actor: Actor, site_id: int, data: OrderData) -> Stay:
    """Admit a person found by their ID document, registering them first when
    the registry does not know them. A registered document with another name is
    refused (check the document) rather than silently taken."""
    from fangkong.core.identity import normalise_document
    from fangkong.core.selectors import person_find_by_document
    from fangkong.core.services import PersonData, person_create

    permissions.require(actor, "quarantine.stays")
    if not data.name.strip():
        raise ValidationFailed(fields={"name": _("Give the name on the document.")})
    doc = normalise_document(data.doc_type, data.doc_number)
    with transaction.atomic():
        person = person_find_by_document(doc.doc_type, doc.number)
        if person is None:
            person = person_create(
                actor=actor,
                data=PersonData(
                    doc_type=doc.doc_type,
                    doc_number=doc.number,
                    name=data.name.strip(),
                    phone=data.phone,
                    language=data.language,
                ),
            )
        elif person.name.strip() != data.name.strip():
            raise ValidationFailed(
                fields={
                    "name": _("This document is registered under another name; check the document.")
                }
            )
        stay = stays_admit(
            actor=actor,
            site_id=site_id,
            people=[
                AdmitData(
                    person_id=person.pk,
                    category=data.category,
                    disease_code=data.disease_code,
                    started_on=data.started_on,
                )
            ],
        )[0]
    return stay
