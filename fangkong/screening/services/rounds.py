"""Rounds, sampling sites, teams, labs and exclusions."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record, diff
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.models import Jurisdiction, KeyGroup, Person, common_path
from fangkong.core.selectors import access_person_by_id
from fangkong.core.types import Actor, acting_user
from fangkong.screening.models import Exclusion, Lab, PoolingOption, Round, Site, Team
from fangkong.screening.selectors import access_round_by_id

M = TypeVar("M", Site, Lab, Team)


def _node_in_scope(actor: Actor, node_id: int, *, field: str) -> Jurisdiction:
    node = Jurisdiction.objects.filter(pk=node_id).first()
    if node is None or not permissions.in_scope(actor, node.path):
        raise NotFound(fields={field: _("No such area.")})
    return node


def allowed_ratios() -> list[int]:
    return list(PoolingOption.objects.filter(active=True).values_list("ratio", flat=True))


def round_create(
    *,
    actor: Actor,
    name: str,
    area_ids: list[int],
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    pooling_ratio: int,
    target: str = Round.Target.ALL,
    key_group_codes: list[str] | None = None,
    lab_ids: list[int] | None = None,
    disease_code: str = "covid19",
) -> Round:
    permissions.require(actor, "screening.manage")
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("A name is required.")
    if not area_ids:
        errors["area_ids"] = _("Choose at least one area.")
    if ends_at <= starts_at:
        errors["ends_at"] = _("The end is before the start.")
    ratios = allowed_ratios()
    if pooling_ratio not in ratios:
        errors["pooling_ratio"] = _("The pooling ratio must be one of %(ratios)s.") % {
            "ratios": ", ".join(map(str, ratios))
        }
    if target not in Round.Target.values:
        errors["target"] = _("Unknown target population.")
    elif target == Round.Target.ARRIVALS:
        errors["target"] = _(
            "Arrival-test rounds are opened by entry control when a checkpoint takes a sample."
        )
    groups: list[KeyGroup] = []
    if target == Round.Target.KEY_GROUPS:
        codes = key_group_codes or []
        groups = list(KeyGroup.objects.filter(code__in=codes))
        if not codes or len(groups) != len(set(codes)):
            errors["key_group_codes"] = _("Choose known key groups.")
    if errors:
        raise ValidationFailed(fields=errors)
    areas = [_node_in_scope(actor, pk, field="area_ids") for pk in area_ids]
    labs = list(Lab.objects.filter(pk__in=lab_ids or [], active=True))
    if len(labs) != len(set(lab_ids or [])):
        raise ValidationFailed(fields={"lab_ids": _("Unknown lab.")})
    with transaction.atomic():
        rnd = Round.objects.create(
            name=name,
            scope_path=common_path(a.path for a in areas),
            target=target,
            starts_at=starts_at,
            ends_at=ends_at,
            pooling_ratio=pooling_ratio,
            disease_code=disease_code,
            created_by=acting_user(actor),
        )
        rnd.areas.set(areas)
        rnd.key_groups.set(groups)
        rnd.labs.set(labs)
        _door_to_door_for_sealed_zones(actor, rnd, areas, groups)
        audit_record(
            actor=actor,
            action="screening.round.create",
            obj=rnd,
            scope_path=rnd.scope_path,
            changes=diff(
                {},
                {
                    "name": name,
                    "areas": [a.pk for a in areas],
                    "target": target,
                    "pooling_ratio": pooling_ratio,
                    "labs": [lab.pk for lab in labs],
                },
            ),
        )
    return rnd


def _door_to_door_for_sealed_zones(
    actor: Actor, rnd: Round, areas: list[Jurisdiction], groups: list[KeyGroup]
) -> int:
    """Residents of the round's area who live in a zone that keeps people at home
    (足不出户) are due at their door: a door-to-door task each, made with the round."""
    from fangkong.screening.services.followup import door_to_door_tasks_create
    from fangkong.zones.selectors.shared import door_to_door_person_ids

    ids: set[int] = set()
    for area in areas:
        ids.update(door_to_door_person_ids(under_path=area.path))
    everyone = sorted(ids)
    kept: set[int] = set()
    for i in range(0, len(everyone), _CHUNK):
        people = Person.objects.active().filter(pk__in=everyone[i : i + _CHUNK])
        if groups:
            people = people.filter(key_groups__in=groups)
        kept.update(people.values_list("pk", flat=True).distinct())
    wanted = sorted(kept)
    made = 0
    for i in range(0, len(wanted), _CHUNK):
        made += door_to_door_tasks_create(
            actor=actor, round_id=rnd.pk, person_ids=wanted[i : i + _CHUNK]
        )
    return made


_CHUNK = 5000


def round_close(*, actor: Actor, round_id: int) -> Round:
    permissions.require(actor, "screening.manage")
    with transaction.atomic():
        rnd = Round.objects.select_for_update().filter(pk=round_id).first()
        if rnd is None or not permissions.in_scope(actor, rnd.scope_path):
            raise NotFound()
        rnd.state = Round.State.CLOSED
        rnd.save(update_fields=["state", "updated_at"])
        audit_record(
            actor=actor,
            action="screening.round.close",
            obj=rnd,
            scope_path=rnd.scope_path,
            changes={"state": ["open", "closed"]},
        )
    return rnd


def lab_create(
    *, actor: Actor, name: str, code: str, capacity_per_day: int, jurisdiction_id: int
) -> Lab:
    permissions.require(actor, "screening.manage")
    node = _node_in_scope(actor, jurisdiction_id, field="jurisdiction_id")
    if capacity_per_day <= 0:
        raise ValidationFailed(fields={"capacity_per_day": _("The capacity must be positive.")})
    with transaction.atomic():
        if Lab.objects.filter(code=code).exists():
            raise Conflict(fields={"code": _("This code is taken.")})
        lab = Lab.objects.create(
            name=name,
            code=code,
            capacity_per_day=capacity_per_day,
            jurisdiction=node,
            scope_path=node.path,
        )
        audit_record(
            actor=actor,
            action="screening.lab.create",
            obj=lab,
            scope_path=lab.scope_path,
            changes=diff({}, {"name": name, "capacity_per_day": capacity_per_day}),
        )
    return lab


def team_create(*, actor: Actor, name: str, area_id: int, door_to_door: bool = False) -> Team:
    permissions.require(actor, "screening.manage")
    node = _node_in_scope(actor, area_id, field="area_id")
    with transaction.atomic():
        team = Team.objects.create(
            name=name, area=node, scope_path=node.path, door_to_door=door_to_door
        )
        audit_record(
            actor=actor,
            action="screening.team.create",
            obj=team,
            scope_path=team.scope_path,
            changes=diff({}, {"name": name, "door_to_door": door_to_door}),
        )
    return team


def site_create(
    *,
    actor: Actor,
    name: str,
    jurisdiction_id: int,
    lat: float,
    lon: float,
    opens_at: dt.time,
    closes_at: dt.time,
    lanes: int = 1,
    address: str = "",
    hours_text: str = "",
) -> Site:
    permissions.require(actor, "screening.manage")
    node = _node_in_scope(actor, jurisdiction_id, field="jurisdiction_id")
    _check_site(lat=lat, lon=lon, lanes=lanes)
    with transaction.atomic():
        site = Site.objects.create(
            name=name,
            address=address,
            jurisdiction=node,
            scope_path=node.path,
            lat=lat,
            lon=lon,
            opens_at=opens_at,
            closes_at=closes_at,
            hours_text=hours_text or f"{opens_at:%H:%M}–{closes_at:%H:%M}",
            lanes=lanes,
        )
        audit_record(
            actor=actor,
            action="screening.site.create",
            obj=site,
            scope_path=site.scope_path,
            changes=diff({}, {"name": name, "lanes": lanes}),
        )
    return site


def _check_site(*, lat: float, lon: float, lanes: int) -> None:
    errors: dict[str, str] = {}
    if not -90 <= lat <= 90:
        errors["lat"] = _("A latitude is between -90 and 90.")
    if not -180 <= lon <= 180:
        errors["lon"] = _("A longitude is between -180 and 180.")
    if lanes < 1:
        errors["lanes"] = _("A site has at least one lane.")
    if errors:
        raise ValidationFailed(fields=errors)


def _locked_in_scope(actor: Actor, model: type[M], pk: int) -> M:
    obj = model.objects.select_for_update().filter(pk=pk).first()
    if obj is None or not permissions.in_scope(actor, obj.scope_path):
        raise NotFound()
    return obj


def _apply(actor: Actor, obj: M, action: str, changes: dict[str, Any]) -> M:
    """Set the given fields (``None``: unchanged); save and audit what changed."""
    before: dict[str, Any] = {k: getattr(obj, k) for k, v in changes.items() if v is not None}
    after: dict[str, Any] = {k: v for k, v in changes.items() if v is not None}
    changed: dict[str, Any] = {k: v for k, v in after.items() if before[k] != v}
    if not changed:
        return obj
    for k, v in changed.items():
        setattr(obj, k, v)
    obj.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor=actor,
        action=action,
        obj=obj,
        scope_path=obj.scope_path,
        changes=diff({k: before[k] for k in changed}, changed),
    )
    return obj


def site_update(
    *,
    actor: Actor,
    site_id: int,
    name: str | None = None,
    address: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    opens_at: dt.time | None = None,
    closes_at: dt.time | None = None,
    lanes: int | None = None,
    hours_text: str | None = None,
    active: bool | None = None,
) -> Site:
    """Change a sampling site (its hours, lanes, place...); an inactive site leaves
    the portal's list and takes no new tubes. Arguments left ``None`` stay."""
    permissions.require(actor, "screening.manage")
    if name is not None and not name.strip():
        raise ValidationFailed(fields={"name": _("A site needs a name.")})
    with transaction.atomic():
        site = _locked_in_scope(actor, Site, site_id)
        _check_site(
            lat=site.lat if lat is None else lat,
            lon=site.lon if lon is None else lon,
            lanes=site.lanes if lanes is None else lanes,
        )
        opens = opens_at or site.opens_at
        closes = closes_at or site.closes_at
        if hours_text is not None and not hours_text.strip():
            hours_text = f"{opens:%H:%M}–{closes:%H:%M}"
        return _apply(
            actor,
            site,
            "screening.site.update",
            {
                "name": name.strip() if name is not None else None,
                "address": address,
                "lat": lat,
                "lon": lon,
                "opens_at": opens_at,
                "closes_at": closes_at,
                "lanes": lanes,
                "hours_text": hours_text,
                "active": active,
            },
        )


def lab_update(
    *,
    actor: Actor,
    lab_id: int,
    name: str | None = None,
    capacity_per_day: int | None = None,
    active: bool | None = None,
) -> Lab:
    """Change a lab's name or daily capacity, or take it out of use (an inactive lab
    is offered to no new round; results of tubes it received are still taken)."""
    permissions.require(actor, "screening.manage")
    if capacity_per_day is not None and capacity_per_day <= 0:
        raise ValidationFailed(fields={"capacity_per_day": _("The capacity must be positive.")})
    if name is not None and not name.strip():
        raise ValidationFailed(fields={"name": _("A lab needs a name.")})
    with transaction.atomic():
        lab = _locked_in_scope(actor, Lab, lab_id)
        return _apply(
            actor,
            lab,
            "screening.lab.update",
            {
                "name": name.strip() if name is not None else None,
                "capacity_per_day": capacity_per_day,
                "active": active,
            },
        )


def team_update(
    *,
    actor: Actor,
    team_id: int,
    name: str | None = None,
    door_to_door: bool | None = None,
    active: bool | None = None,
) -> Team:
    """Change a sampling team; an inactive team is given no new retest or
    door-to-door tasks."""
    permissions.require(actor, "screening.manage")
    if name is not None and not name.strip():
        raise ValidationFailed(fields={"name": _("A team needs a name.")})
    with transaction.atomic():
        team = _locked_in_scope(actor, Team, team_id)
        return _apply(
            actor,
            team,
            "screening.team.update",
            {
                "name": name.strip() if name is not None else None,
                "door_to_door": door_to_door,
                "active": active,
            },
        )


def site_set_queue(*, actor: Actor, site_id: int, queue_state: str) -> Site:
    """Site staff set the live queue state shown on the portal."""
    if not (
        permissions.has_capability(actor, "screening.sample")
        or permissions.has_capability(actor, "screening.manage")
    ):
        permissions.require(actor, "screening.sample")
    if queue_state not in Site.Queue.values:
        raise ValidationFailed(fields={"queue_state": _("Unknown queue state.")})
    with transaction.atomic():
        site = Site.objects.select_for_update().filter(pk=site_id).first()
        if site is None or not permissions.in_scope(actor, site.scope_path):
            raise NotFound()
        before = site.queue_state
        site.queue_state = queue_state
        site.queue_updated_at = timezone.now()
        site.save(update_fields=["queue_state", "queue_updated_at", "updated_at"])
        audit_record(
            actor=actor,
            action="screening.site.queue",
            obj=site,
            scope_path=site.scope_path,
            changes={"queue_state": [before, queue_state]},
        )
    return site


def exclusion_add(
    *, actor: Actor, round_id: int, person_id: int, reason: str, note: str = ""
) -> Exclusion:
    """Record why a person of the round's target will not be sampled (audited)."""
    permissions.require(actor, "screening.manage")
    if reason not in Exclusion.Reason.values:
        raise ValidationFailed(fields={"reason": _("Unknown exclusion reason.")})
    with transaction.atomic():
        rnd = access_round_by_id(actor, round_id, capability="screening.manage")
        person = access_person_by_id(actor, person_id)
        excl, created = Exclusion.objects.get_or_create(
            round=rnd,
            person=person,
            defaults={
                "reason": reason,
                "note": note.strip(),
                "person_scope_path": person.scope_path,
                "created_by": acting_user(actor),
            },
        )
        if not created:
            raise Conflict(fields={"person_id": _("This person is already excluded.")})
        audit_record(
            actor=actor,
            action="screening.exclusion.add",
            obj=excl,
            scope_path=person.scope_path,
            person_id=person.pk,
            changes=diff({}, {"round": rnd.pk, "reason": reason}),
            reason=note,
        )
    return excl
