"""What zones promises to other apps (the only zones module they import): places,
never people, except a resident's own zone and requests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count

from fangkong.core.models import path_upper_bound
from fangkong.zones import selectors as _selectors
from fangkong.zones.models import LiftRecommendation, ServiceRequest, Zone, ZoneProposal


def public_zones(*, district_id: int | None = None) -> list[dict[str, Any]]:
    """Zones in force by district (the public risk-area list)."""
    return list(_selectors.public_zones(district_id=district_id))


def public_zone_map() -> dict[str, Any]:
    """The public map's zones (GeoJSON and legend)."""
    return dict(_selectors.public_zone_map())


def zones_count_by_level() -> list[dict[str, Any]]:
    """How many zones are in force at each level."""
    return list(_selectors.zones_count_by_level())


def zone_for_person(person_id: int) -> dict[str, Any] | None:
    """The stricter zone in force containing the person's home (for the resident)."""
    return _selectors.zone_for_person(person_id)


def requests_for_resident(person_id: int) -> list[dict[str, Any]]:
    """The resident's own door-step requests."""
    return list(_selectors.requests_for_resident(person_id))


def service_kinds() -> list[tuple[str, str]]:
    """The door-step services a resident may ask for: (code, name in the language)."""
    return [(str(k.code), str(k.name)) for k in _selectors.service_kinds()]


def door_to_door_person_ids(*, under_path: str = "") -> list[int]:
    """Residents of zones in force whose level keeps people at home: screening
    samples them at their door (optionally only those under a node)."""
    return list(_selectors.door_to_door_person_ids(under_path=under_path))


# --- For the command dashboard (headquarters) ------------------------------------


@dataclass(frozen=True)
class LevelFigure:
    """Zones in force of one level in an area."""

    level: str
    name: str
    colour: str
    zones: int


@dataclass(frozen=True)
class ZoneFigures:
    levels: list[LevelFigure]
    lifting_recommended: int
    requests_open: int
    requests_overdue: int


def zone_figures(prefix: str, now: dt.datetime) -> ZoneFigures:
    """Zones in force by level, lifting recommendations whose criteria are met, and
    door-step requests open and past their deadline, under ``prefix``."""

    zones = Zone.objects.filter(state=Zone.State.ACTIVE)
    recs = LiftRecommendation.objects.filter(state=LiftRecommendation.State.OPEN, met=True)
    reqs = ServiceRequest.objects.filter(
        status__in=[ServiceRequest.Status.OPEN, ServiceRequest.Status.ASSIGNED]
    )
    if prefix:
        upper = path_upper_bound(prefix)
        zones = zones.filter(scope_path__gte=prefix, scope_path__lt=upper)
        recs = recs.filter(zone__scope_path__gte=prefix, zone__scope_path__lt=upper)
        reqs = reqs.filter(scope_path__gte=prefix, scope_path__lt=upper)
    counts = dict(
        zones.order_by()
        .values_list("level__code")
        .annotate(n=Count("id"))
        .values_list("level__code", "n")
    )
    return ZoneFigures(
        levels=[
            LevelFigure(lv.code, str(lv.name), lv.colour, int(counts.get(lv.code, 0)))
            for lv in _selectors.levels()
        ],
        lifting_recommended=recs.count(),
        requests_open=reqs.count(),
        requests_overdue=reqs.filter(due_at__lt=now).count(),
    )


# --- For supplies (deliveries to zones) ------------------------------------------


@dataclass(frozen=True)
class ZoneInForce:
    """A zone in force, as supplies plans deliveries to it (places and counts only)."""

    id: int
    name: str
    level: str
    level_name: str
    scope_path: str
    district_id: int | None
    residents: int
    since: dt.datetime | None  # in force (at any level) since


def _zone_in_force(z: Zone) -> ZoneInForce:
    return ZoneInForce(
        id=z.pk,
        name=z.name,
        level=z.level.code,
        level_name=str(z.level.name),
        scope_path=z.scope_path,
        district_id=z.district_id,
        residents=z.resident_count,
        since=z.in_force_since,
    )


def zones_in_force(*, under_path: str = "", levels: list[str] | None = None) -> list[ZoneInForce]:
    """Zones in force under a node (all of them for ``""``), optionally only of these
    level codes; strictest level first, then by name."""
    qs = Zone.objects.filter(state=Zone.State.ACTIVE).select_related("level")
    if under_path:
        qs = qs.filter(scope_path__gte=under_path, scope_path__lt=path_upper_bound(under_path))
    if levels is not None:
        qs = qs.filter(level__code__in=levels)
    return [_zone_in_force(z) for z in qs.order_by("-level__severity", "name", "id")]


def zone_in_force(zone_id: int) -> ZoneInForce | None:
    """The zone when it is in force (else None)."""
    z = Zone.objects.select_related("level").filter(pk=zone_id, state=Zone.State.ACTIVE).first()
    return _zone_in_force(z) if z else None


@dataclass(frozen=True)
class ZoneDecision:
    """A zone change approved in a period (for the daily report): when, what, which
    zone and level, the decision's document number."""

    decided_at: dt.datetime
    kind: str  # in words: declared, level changed, units added or removed, lifted
    zone: str
    level: str
    decision_number: str


def zone_decisions_between(
    prefix: str, start: dt.datetime, end: dt.datetime, *, limit: int = 200
) -> list[ZoneDecision]:
    """Approved zone proposals under ``prefix`` decided in [start, end), oldest first."""
    qs = ZoneProposal.objects.filter(
        state=ZoneProposal.State.APPROVED, decided_at__gte=start, decided_at__lt=end
    )
    if prefix:
        qs = qs.filter(scope_path__gte=prefix, scope_path__lt=path_upper_bound(prefix))
    return [
        ZoneDecision(
            decided_at=p.decided_at or p.updated_at,
            kind=str(p.get_kind_display()),
            zone=p.zone.name,
            level=(p.level or p.zone.level).name,
            decision_number=p.decision_number,
        )
        for p in qs.select_related("zone__level", "level").order_by("decided_at", "pk")[:limit]
    ]
