"""Writes of the zones app.

Zones change only through proposals: a district officer (``zone.declare``)
proposes to declare a zone, change its level, add or remove units or lift it;
a commander (``zone.approve``, someone other than the proposer) approves, and
only then does anything take effect — the residents' status reasons (through
the status services), their SMS batch (through notify, sent by the worker after
commit), the published fact (``zone.declared`` / ``zone.lifted``) and the map.
Each write is one transaction with its audit row; a refusal leaves nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import foureyes, permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.events import publish
from fangkong.core.models import PATH_SEGMENT, Jurisdiction, Person, common_path, path_upper_bound
from fangkong.core.types import Actor, acting_user
from fangkong.zones.geometry import centre, clean_polygon, points_inside
from fangkong.zones.models import (
    LiftRecommendation,
    Zone,
    ZoneLevel,
    ZoneProposal,
    ZoneUnit,
)

UNIT_LEVELS = (
    Jurisdiction.Level.COMMUNITY,
    Jurisdiction.Level.GRID,
    Jurisdiction.Level.BUILDING,
)
MAP_VERSION_KEY = "zones:map-version"


# --- Helpers ---------------------------------------------------------------


def minimal_paths(paths: Iterable[str]) -> list[str]:
    """Drop paths inside another path of the list (their people are counted once)."""
    out: list[str] = []
    for p in sorted(set(paths)):
        if out and p.startswith(out[-1]):
            continue
        out.append(p)
    return out


def people_under(paths: Iterable[str]) -> Any:
    cond = Q()
    roots = minimal_paths(paths)
    if not roots:
        return Person.objects.none()
    for p in roots:
        cond |= Q(scope_path__gte=p, scope_path__lt=path_upper_bound(p))
    return Person.objects.active().filter(cond)


def resident_ids(paths: Iterable[str]) -> list[int]:
    """Residents under these nodes: one index range scan per disjoint node (an OR
    of ranges may be planned as a scan of the whole table)."""
    out: list[int] = []
    for p in minimal_paths(paths):
        out.extend(
            Person.objects.active()
            .filter(scope_path__gte=p, scope_path__lt=path_upper_bound(p))
            .order_by()
            .values_list("id", flat=True)
        )
    return out


def _district_of(path: str) -> Jurisdiction | None:
    ancestors = [path[: i * PATH_SEGMENT] for i in range(1, len(path) // PATH_SEGMENT + 1)]
    return Jurisdiction.objects.filter(path__in=ancestors, level="district").first()


def map_version() -> int:
    return int(cache.get(MAP_VERSION_KEY) or 0)


def _bump_map_version() -> None:
    def bump() -> None:
        try:
            cache.incr(MAP_VERSION_KEY)
        except ValueError:
            cache.set(MAP_VERSION_KEY, 1, None)

    transaction.on_commit(bump)


def _level(code_or_id: Any) -> ZoneLevel:
    if isinstance(code_or_id, ZoneLevel):
        return code_or_id
    qs = ZoneLevel.objects.filter(active=True)
    level = (
        qs.filter(pk=code_or_id).first()
        if isinstance(code_or_id, int)
        else qs.filter(code=str(code_or_id or "")).first()
    )
    if level is None:
        raise ValidationFailed(fields={"level": _("Choose one of the zone levels.")})
    return level


def _select_units(
    actor: Actor, *, node_ids: Iterable[int] | None, polygon: Any
) -> tuple[list[Jurisdiction], Any]:
    """Units from explicit nodes and/or the buildings inside a drawn polygon, all
    inside the actor's area."""
    prefix = permissions.scope_path(actor)
    if prefix is None:
        raise NotFound()
    ids = sorted({int(i) for i in (node_ids or [])})
    units: list[Jurisdiction] = []
    if ids:
        found = list(Jurisdiction.objects.filter(pk__in=ids))
        outside = [n.pk for n in found if not n.path.startswith(prefix)]
        missing = sorted(set(ids) - {n.pk for n in found})
        if outside or missing:
            raise NotFound(
                _("Some units are outside your area."),
                fields={
                    "units": _("These units are outside your area: %(ids)s.")
                    % {"ids": ", ".join(map(str, (outside + missing)[:10]))}
                },
            )
        wrong = [n for n in found if n.level not in UNIT_LEVELS]
        if wrong:
            raise ValidationFailed(
                fields={
                    "units": _(
                        "A zone is made of buildings, grid units or communities, not %(name)s."
                    )
                    % {"name": wrong[0].name}
                }
            )
        units.extend(found)
    geom = None
    if polygon not in (None, "", [], {}):
        geom = clean_polygon(polygon)
        minx, miny, maxx, maxy = geom.bounds
        rows = Jurisdiction.objects.subtree_of(prefix).filter(level="building")
        candidates = [
            (pk, *centre(path, boundary))
            for pk, path, boundary in rows.values_list("pk", "path", "boundary")
        ]
        inside = points_inside(
            geom, [c for c in candidates if minx <= c[1] <= maxx and miny <= c[2] <= maxy]
        )
        if not inside:
            raise ValidationFailed(
                fields={"polygon": _("The area you drew holds no building of your area.")}
            )
        known = {u.pk for u in units}
        units.extend(Jurisdiction.objects.filter(pk__in=[i for i in inside if i not in known]))
    if not units:
        raise ValidationFailed(
            fields={
                "units": _("Choose at least one building, grid unit or community, or draw an area.")
            }
        )
    return units, geom


def _proposal_audit(actor: Actor, proposal: ZoneProposal, action: str, **changes: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=proposal,
        scope_path=proposal.scope_path,
        changes={k: [None, v] for k, v in changes.items()},
        reason=proposal.reason,
    )


def _access_zone(actor: Actor, zone_id: int, *, lock: bool = False) -> Zone:
    qs = Zone.objects.select_related("level")
    if lock:
        qs = qs.select_for_update(of=("self",))
    zone = qs.filter(pk=zone_id).first()
    if zone is None or not permissions.in_scope(actor, zone.scope_path):
        raise NotFound()
    return zone


# --- Proposals ---------------------------------------------------------------


def zone_propose_declare(
    *,
    actor: Actor,
    name: str,
    level: Any,
    node_ids: Iterable[int] | None = None,
    polygon: Any = None,
    reason: str = "",
    case_ids: Iterable[int] = (),
    decision_number: str = "",
) -> ZoneProposal:
    """Propose a new zone. Nothing takes effect before a commander approves it."""
    permissions.require(actor, "zone.declare")
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(fields={"name": _("Give the zone a name.")})
    lvl = _level(level)
    units, geom = _select_units(actor, node_ids=node_ids, polygon=polygon)
    paths = [u.path for u in units]
    scope = common_path(paths)
    cases: list[Any] = []
    if case_ids:
        from fangkong.investigation.selectors.shared import case_ids_visible_to

        ids = sorted(set(case_ids))
        cases = case_ids_visible_to(actor, ids)
        if len(cases) != len(ids):
            raise NotFound(fields={"cases": _("Some linked cases are outside your area.")})
    with transaction.atomic():
        zone = Zone.objects.create(
            name=name[:200],
            level=lvl,
            scope_path=scope,
            district=_district_of(scope),
            polygon=shape_to_geojson(geom) if geom is not None else None,
            reason=reason,
            decision_number=decision_number[:80],
            declared_by=acting_user(actor),
            case_ids=sorted(set(cases)),
        )
        ZoneUnit.objects.bulk_create(
            [ZoneUnit(zone=zone, node=u, path=u.path, active=False) for u in units]
        )
        proposal = ZoneProposal.objects.create(
            zone=zone,
            kind=ZoneProposal.Kind.DECLARE,
            level=lvl,
            node_ids=[u.pk for u in units],
            reason=reason,
            decision_number=decision_number[:80],
            scope_path=scope,
            proposed_by=acting_user(actor),
        )
        _proposal_audit(
            actor,
            proposal,
            "zone.propose",
            kind="declare",
            zone=zone.pk,
            level=lvl.code,
            units=len(units),
            polygon=geom is not None,
        )
    return proposal


def shape_to_geojson(geom: Any) -> dict[str, Any]:
    from shapely.geometry import mapping

    out = mapping(geom)
    return {"type": out["type"], "coordinates": _lists(out["coordinates"])}


def _lists(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_lists(v) for v in value]
    return value


def zone_propose_change(
    *,
    actor: Actor,
    zone_id: int,
    kind: str,
    level: Any = None,
    node_ids: Iterable[int] | None = None,
    polygon: Any = None,
    reason: str = "",
) -> ZoneProposal:
    """Propose a level change, added or removed units, or lifting a zone in force."""
    permissions.require(actor, "zone.declare")
    zone = _access_zone(actor, zone_id)
    if zone.state != Zone.State.ACTIVE:
        raise Conflict(_("Only a zone in force can be changed or lifted."))
    kinds = {k.value for k in ZoneProposal.Kind} - {ZoneProposal.Kind.DECLARE}
    if kind not in kinds:
        raise ValidationFailed(fields={"kind": _("Choose what to change.")})
    lvl = None
    ids: list[int] = []
    if kind == ZoneProposal.Kind.CHANGE_LEVEL:
        lvl = _level(level)
        if lvl.pk == zone.level_id:
            raise ValidationFailed(fields={"level": _("The zone already has this level.")})
    elif kind == ZoneProposal.Kind.ADD_UNITS:
        units, _geom = _select_units(actor, node_ids=node_ids, polygon=polygon)
        have = set(zone.units.values_list("node_id", flat=True))
        ids = [u.pk for u in units if u.pk not in have]
        if not ids:
            raise ValidationFailed(fields={"units": _("These units are already in the zone.")})
    elif kind == ZoneProposal.Kind.REMOVE_UNITS:
        have = set(zone.units.filter(active=True).values_list("node_id", flat=True))
        ids = sorted({int(i) for i in (node_ids or [])})
        if not ids or not set(ids) <= have:
            raise ValidationFailed(fields={"units": _("Choose units of this zone to remove.")})
        if set(ids) == have:
            raise ValidationFailed(
                fields={"units": _("A zone keeps at least one unit; propose lifting it instead.")}
            )
    with transaction.atomic():
        if ZoneProposal.objects.filter(
            zone=zone, kind=kind, state=ZoneProposal.State.PENDING
        ).exists():
            raise Conflict(_("The same change is already awaiting approval."))
        proposal = ZoneProposal.objects.create(
            zone=zone,
            kind=kind,
            level=lvl,
            node_ids=ids,
            reason=reason,
            scope_path=zone.scope_path,
            proposed_by=acting_user(actor),
        )
        _proposal_audit(
            actor,
            proposal,
            "zone.propose",
            kind=kind,
            zone=zone.pk,
            level=lvl.code if lvl else None,
            units=len(ids),
        )
    return proposal


def _access_proposal(actor: Actor, proposal_id: int) -> ZoneProposal:
    proposal = (
        ZoneProposal.objects.select_for_update(of=("self",))
        .select_related("zone", "level")
        .filter(pk=proposal_id)
        .first()
    )
    if proposal is None or not permissions.in_scope(actor, proposal.scope_path):
        raise NotFound()
    if proposal.state != ZoneProposal.State.PENDING:
        raise Conflict(_("This proposal has already been decided."))
    return proposal


def proposal_refuse(*, actor: Actor, proposal_id: int, note: str = "") -> ZoneProposal:
    permissions.require(actor, "zone.approve")
    with transaction.atomic():
        proposal = _access_proposal(actor, proposal_id)
        if not (note or "").strip():
            raise ValidationFailed(fields={"note": _("Say why the proposal is refused.")})
        proposal.state = ZoneProposal.State.REFUSED
        proposal.decided_by = acting_user(actor)
        proposal.decided_at = timezone.now()
        proposal.decision_note = note
        proposal.save(
            update_fields=["state", "decided_by", "decided_at", "decision_note", "updated_at"]
        )
        if proposal.kind == ZoneProposal.Kind.DECLARE:
            Zone.objects.filter(pk=proposal.zone_id).update(state=Zone.State.REFUSED)
        _proposal_audit(actor, proposal, "zone.refuse", state="refused", note=note)
    return proposal


def proposal_approve(
    *, actor: Actor, proposal_id: int, decision_number: str = "", note: str = ""
) -> ZoneProposal:
    """Approve a proposal: it takes effect now, with its status reasons, SMS and facts."""
    permissions.require(actor, "zone.approve")
    with transaction.atomic():
        proposal = _access_proposal(actor, proposal_id)
        foureyes.require_second_person(
            actor=actor,
            first_id=proposal.proposed_by_id,
            own_message=_("A proposal is approved by someone other than its proposer."),
            own_code="own_proposal",
        )
        now = timezone.now()
        zone = (
            Zone.objects.select_for_update(of=("self",))
            .select_related("level")
            .get(pk=proposal.zone_id)
        )
        apply = _APPLY[proposal.kind]
        changes = apply(actor, zone, proposal, now)
        if decision_number:
            zone.decision_number = decision_number[:80]
            zone.save(update_fields=["decision_number", "updated_at"])
        proposal.state = ZoneProposal.State.APPROVED
        proposal.decided_by = acting_user(actor)
        proposal.decided_at = now
        proposal.decision_note = note
        proposal.decision_number = decision_number[:80] or proposal.decision_number
        proposal.save(
            update_fields=[
                "state",
                "decided_by",
                "decided_at",
                "decision_note",
                "decision_number",
                "updated_at",
            ]
        )
        _proposal_audit(actor, proposal, "zone.approve", kind=proposal.kind, **changes)
        LiftRecommendation.objects.filter(zone=zone, state=LiftRecommendation.State.OPEN).update(
            state=LiftRecommendation.State.STALE
        )
        _bump_map_version()
    return proposal


def _fact(zone: Zone, proposal: ZoneProposal, level: ZoneLevel) -> dict[str, Any]:
    """What every zone fact says (docs/events.md): the zone, the approved proposal
    and the level in force, in both languages, for the residents' SMS."""
    return {
        "zone_id": zone.pk,
        "proposal_id": proposal.pk,
        "zone_name": zone.name,
        "level": level.code,
        "level_name_zh": level.name_zh,
        "level_name_en": level.name_en or level.name_zh,
        "rules_zh": level.rules_zh[:400],
        "rules_en": (level.rules_en or level.rules_zh)[:400],
    }


def _apply_declare(
    actor: Actor, zone: Zone, proposal: ZoneProposal, now: dt.datetime
) -> dict[str, Any]:
    if zone.state != Zone.State.PROPOSED:
        raise Conflict(_("This zone is no longer awaiting its declaration."))
    level = proposal.level or zone.level
    ZoneUnit.objects.filter(zone=zone).update(active=True)
    paths = list(zone.units.values_list("path", flat=True))
    ids = resident_ids(paths)
    zone.state = Zone.State.ACTIVE
    zone.level = level
    zone.approved_by = acting_user(actor)
    zone.in_force_since = now
    zone.level_since = now
    zone.resident_count = len(ids)
    zone.save(
        update_fields=[
            "state",
            "level",
            "approved_by",
            "in_force_since",
            "level_since",
            "resident_count",
            "updated_at",
        ]
    )
    publish(
        "zone.declared",
        **_fact(zone, proposal, level),
        reason_kind=level.status_reason_kind,
        person_ids=ids,
        actor=actor,
    )
    return {"residents": len(ids), "level": level.code}


def _apply_change_level(
    actor: Actor, zone: Zone, proposal: ZoneProposal, now: dt.datetime
) -> dict[str, Any]:
    old, new = zone.level, proposal.level
    assert new is not None
    ids = resident_ids(zone.units.filter(active=True).values_list("path", flat=True))
    zone.level = new
    zone.level_since = now
    zone.resident_count = len(ids)
    zone.save(update_fields=["level", "level_since", "resident_count", "updated_at"])
    publish(
        "zone.level_changed",
        **_fact(zone, proposal, new),
        previous=old.code,
        reason_kind=new.status_reason_kind,
        previous_reason_kind=old.status_reason_kind,
        person_ids=ids,
        actor=actor,
    )
    return {"level": [old.code, new.code], "residents": len(ids)}


def _apply_add_units(
    actor: Actor, zone: Zone, proposal: ZoneProposal, now: dt.datetime
) -> dict[str, Any]:
    before = set(resident_ids(zone.units.filter(active=True).values_list("path", flat=True)))
    nodes = list(Jurisdiction.objects.filter(pk__in=proposal.node_ids))
    have = {u.node_id: u for u in zone.units.all()}
    for node in nodes:
        if node.pk in have:
            ZoneUnit.objects.filter(pk=have[node.pk].pk).update(active=True)
        else:
            ZoneUnit.objects.create(zone=zone, node=node, path=node.path, active=True)
    paths = list(zone.units.filter(active=True).values_list("path", flat=True))
    after = resident_ids(paths)
    new_ids = [i for i in after if i not in before]
    zone.scope_path = common_path(paths)
    zone.resident_count = len(after)
    zone.save(update_fields=["scope_path", "resident_count", "updated_at"])
    ZoneProposal.objects.filter(zone=zone, state=ZoneProposal.State.PENDING).update(
        scope_path=zone.scope_path
    )
    publish(
        "zone.units_added",
        **_fact(zone, proposal, zone.level),
        reason_kind=zone.level.status_reason_kind,
        person_ids=new_ids,
        actor=actor,
    )
    return {"units_added": len(nodes), "residents_added": len(new_ids)}


def _apply_remove_units(
    actor: Actor, zone: Zone, proposal: ZoneProposal, now: dt.datetime
) -> dict[str, Any]:
    before = set(resident_ids(zone.units.filter(active=True).values_list("path", flat=True)))
    zone.units.filter(node_id__in=proposal.node_ids).update(active=False)
    paths = list(zone.units.filter(active=True).values_list("path", flat=True))
    if not paths:
        raise ValidationFailed(
            fields={"units": _("A zone keeps at least one unit; propose lifting it instead.")}
        )
    after = set(resident_ids(paths))
    gone = sorted(before - after)
    zone.scope_path = common_path(paths)
    zone.resident_count = len(after)
    zone.save(update_fields=["scope_path", "resident_count", "updated_at"])
    publish("zone.units_removed", **_fact(zone, proposal, zone.level), person_ids=gone, actor=actor)
    return {"units_removed": len(proposal.node_ids), "residents_released": len(gone)}


def _apply_lift(
    actor: Actor, zone: Zone, proposal: ZoneProposal, now: dt.datetime
) -> dict[str, Any]:
    ids = resident_ids(zone.units.filter(active=True).values_list("path", flat=True))
    zone.units.update(active=False)
    zone.state = Zone.State.LIFTED
    zone.lifted_at = now
    zone.save(update_fields=["state", "lifted_at", "updated_at"])
    publish("zone.lifted", **_fact(zone, proposal, zone.level), person_ids=ids, actor=actor)
    return {"state": "lifted", "residents": len(ids)}


_APPLY: dict[str, Any] = {
    ZoneProposal.Kind.DECLARE: _apply_declare,
    ZoneProposal.Kind.CHANGE_LEVEL: _apply_change_level,
    ZoneProposal.Kind.ADD_UNITS: _apply_add_units,
    ZoneProposal.Kind.REMOVE_UNITS: _apply_remove_units,
    ZoneProposal.Kind.LIFT: _apply_lift,
}
