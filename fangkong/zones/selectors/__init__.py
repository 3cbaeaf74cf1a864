"""Reads of the zones app: staff selectors (scoped to the user's subtree) and the
public ones the portal uses (places only, never people)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.errors import NotFound
from fangkong.core.models import PATH_SEGMENT, Jurisdiction, Person, path_upper_bound
from fangkong.investigation.selectors.shared import CaseLabel, case_labels, case_summary_under
from fangkong.zones.geometry import centre, node_geometry
from fangkong.zones.models import (
    LiftRecommendation,
    ServiceRequest,
    TeamMember,
    Zone,
    ZoneLevel,
    ZoneProposal,
    ZoneUnit,
)
from fangkong.zones.services.zones import map_version, minimal_paths, people_under

MAP_CACHE_SECONDS = 300
CASE_POINT_DAYS = 14


def _scope(user: Any) -> str:
    permissions.require(user, "zone.view")
    prefix = permissions.scope_path(user)
    if prefix is None:
        raise NotFound()
    return prefix


def _ancestors(path: str) -> list[str]:
    return [path[: i * PATH_SEGMENT] for i in range(1, len(path) // PATH_SEGMENT + 1)]


def _under(prefix: str) -> Q:
    if not prefix:
        return Q()
    return Q(scope_path__gte=prefix, scope_path__lt=path_upper_bound(prefix))


def _path_under(prefix: str) -> Q:
    if not prefix:
        return Q()
    return Q(path__gte=prefix, path__lt=path_upper_bound(prefix))


def levels() -> list[ZoneLevel]:
    return list(ZoneLevel.objects.filter(active=True).select_related("lift_to"))


# --- Effective level ------------------------------------------------------------


def zones_covering(path: str) -> list[Zone]:
    """Zones in force with a unit at or above this node, strictest first."""
    ids = (
        ZoneUnit.objects.filter(
            path__in=_ancestors(path), active=True, zone__state=Zone.State.ACTIVE
        )
        .values_list("zone_id", flat=True)
        .distinct()
    )
    return list(
        Zone.objects.filter(pk__in=list(ids))
        .select_related("level")
        .order_by("-level__severity", "in_force_since", "id")
    )


def effective_level(path: str) -> dict[str, Any] | None:
    """The stricter level of the zones covering a node, and why."""
    zones = zones_covering(path)
    if not zones:
        return None
    top = zones[0]
    why = [
        _("%(zone)s (%(level)s, since %(since)s)")
        % {
            "zone": z.name,
            "level": z.level.name,
            "since": timezone.localtime(z.in_force_since).strftime("%Y-%m-%d")
            if z.in_force_since
            else "",
        }
        for z in zones
    ]
    if len(zones) > 1:
        explanation = _("In %(n)s zones: %(list)s. The strictest, %(level)s, applies.") % {
            "n": len(zones),
            "list": "; ".join(why),
            "level": top.level.name,
        }
    else:
        explanation = _("In %(zone)s.") % {"zone": why[0]}
    return {"zone": top, "level": top.level, "zones": zones, "why": explanation}


def zone_obj_for_person(person: Person) -> Zone | None:
    if not person.scope_path or person.home_id is None:
        return None
    zones = zones_covering(person.scope_path)
    return zones[0] if zones else None


# --- Staff lists ------------------------------------------------------------------


def zone_list_for(
    user: Any,
    *,
    state: str | None = None,
    level: str | None = None,
    district_id: int | None = None,
    q: str = "",
) -> QuerySet[Zone]:
    prefix = _scope(user)
    qs = Zone.objects.filter(_under(prefix)).select_related("level", "district")
    if state:
        qs = qs.filter(state=state)
    if level:
        qs = qs.filter(level__code=level)
    if district_id:
        qs = qs.filter(district_id=district_id)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(decision_number__icontains=q))
    return qs.order_by("-level__severity", "-declared_at", "-id")


def access_zone_by_id(user: Any, zone_id: int) -> Zone:
    prefix = _scope(user)
    zone = (
        Zone.objects.select_related("level", "district", "declared_by", "approved_by")
        .filter(pk=zone_id)
        .first()
    )
    if zone is None or not zone.scope_path.startswith(prefix):
        raise NotFound()
    return zone


def team_of(zone: Zone) -> dict[str, Any]:
    members = list(TeamMember.objects.filter(zone=zone).order_by("role", "name"))
    by_role: dict[str, list[TeamMember]] = defaultdict(list)
    for m in members:
        by_role[m.role].append(m)
    roles = [
        {"code": code, "label": label, "members": by_role.get(code, [])}
        for code, label in TeamMember.Role.choices
    ]
    gaps = [r["label"] for r in roles if not r["members"]]
    return {"roles": roles, "gaps": gaps, "complete": not gaps, "members": members}


def linked_cases(zone: Zone) -> list[CaseLabel]:
    """The cases the zone was declared for, by their numbers (the zone holds ids)."""
    labels = case_labels(zone.case_ids or [])
    return [labels[i] for i in zone.case_ids or [] if i in labels]


def zone_card(user: Any, zone_id: int) -> dict[str, Any]:
    """What the map shows on click: level, since, residents, days without cases,
    team and open requests."""
    zone = access_zone_by_id(user, zone_id)
    paths = minimal_paths(zone.units.filter(active=True).values_list("path", flat=True))
    last_case, cases = case_summary_under(paths)
    today = timezone.localdate()
    since = timezone.localdate(zone.level_since) if zone.level_since else None
    start = max((d for d in (last_case, since) if d), default=None)
    open_requests = ServiceRequest.objects.filter(
        zone=zone, status__in=[ServiceRequest.Status.OPEN, ServiceRequest.Status.ASSIGNED]
    )
    overdue = open_requests.filter(due_at__lt=timezone.now()).count()
    return {
        "zone": zone,
        "residents": people_under(paths).count()
        if zone.state == Zone.State.ACTIVE
        else zone.resident_count,
        "units": zone.units.select_related("node").order_by("path"),
        "last_case": last_case,
        "cases": cases,
        "days_without_case": (today - start).days if start else None,
        "team": team_of(zone),
        "open_requests": open_requests.count(),
        "overdue_requests": overdue,
        "recommendation": zone.recommendations.order_by("-evaluated_on").first(),
    }


def unit_levels(zone: Zone) -> list[dict[str, Any]]:
    """Each unit with its effective level (a building in two zones takes the
    stricter, and says why)."""
    out = []
    for unit in zone.units.select_related("node").order_by("path"):
        eff = effective_level(unit.path) if unit.active else None
        out.append({"unit": unit, "effective": eff})
    return out


def proposals_pending_for(user: Any) -> QuerySet[ZoneProposal]:
    prefix = _scope(user)
    return (
        ZoneProposal.objects.filter(state=ZoneProposal.State.PENDING)
        .filter(_under(prefix))
        .select_related("zone", "zone__level", "level", "proposed_by")
        .order_by("created_at", "id")
    )


def proposals_of(zone: Zone) -> QuerySet[ZoneProposal]:
    return zone.proposals.select_related("level", "proposed_by", "decided_by").order_by(
        "-created_at", "-id"
    )


def recommendations_open_for(user: Any, *, met_only: bool = True) -> QuerySet[LiftRecommendation]:
    prefix = _scope(user)
    qs = LiftRecommendation.objects.filter(state=LiftRecommendation.State.OPEN).filter(
        _under(prefix)
    )
    if met_only:
        qs = qs.filter(met=True)
    return qs.select_related("zone", "from_level", "to_level").order_by("evaluated_on", "id")


def requests_for(
    user: Any,
    *,
    zone_id: int | None = None,
    status: str | None = None,
    open_only: bool = False,
    mine: bool = False,
) -> QuerySet[ServiceRequest]:
    prefix = _scope(user)
    qs = ServiceRequest.objects.filter(_under(prefix)).select_related(
        "kind", "zone", "assignee", "person"
    )
    if zone_id:
        qs = qs.filter(zone_id=zone_id)
    if status:
        qs = qs.filter(status=status)
    if open_only:
        qs = qs.filter(status__in=[ServiceRequest.Status.OPEN, ServiceRequest.Status.ASSIGNED])
    if mine:
        qs = qs.filter(assignee=user)
    return qs.order_by("priority", "due_at", "id")


def access_request_by_id(user: Any, request_id: int) -> ServiceRequest:
    prefix = _scope(user)
    req = (
        ServiceRequest.objects.select_related("kind", "zone", "assignee", "person")
        .filter(pk=request_id)
        .first()
    )
    if req is None or not req.scope_path.startswith(prefix):
        raise NotFound()
    return req


def supplies_for(user: Any, zone_id: int) -> dict[str, Any]:
    """Residents, households and the requested items of a zone (for the supplies module)."""
    zone = access_zone_by_id(user, zone_id)
    paths = minimal_paths(zone.units.filter(active=True).values_list("path", flat=True))
    people = people_under(paths)
    residents = people.count()
    households = people.exclude(household__isnull=True).values("household_id").distinct().count()
    no_household = people.filter(household__isnull=True).count()
    items: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    for kind_name, its in ServiceRequest.objects.filter(
        zone=zone, status__in=[ServiceRequest.Status.OPEN, ServiceRequest.Status.ASSIGNED]
    ).values_list("kind__name_zh", "items"):
        by_kind[kind_name] += 1
        for it in its or []:
            items[str(it.get("name"))] += int(it.get("qty") or 1)
    return {
        "zone": zone,
        "residents": residents,
        "households": households + no_household,
        "items": items.most_common(),
        "requests_by_kind": by_kind.most_common(),
    }


def residents_by_level_district(user: Any) -> list[dict[str, Any]]:
    """Residents per zone level per district (each person counted once, at the
    strictest level of the zones covering their home)."""
    prefix = _scope(user)
    units = ZoneUnit.objects.filter(active=True, zone__state=Zone.State.ACTIVE).filter(
        _path_under(prefix)
    )
    lvls = {lv.code: lv for lv in levels()}
    by_level: dict[str, list[str]] = defaultdict(list)
    for path, code in units.values_list("path", "zone__level__code"):
        by_level[code].append(path)
    districts = {
        d.path: d.name
        for d in Jurisdiction.objects.filter(level="district").only("path", "name_zh", "name_en")
    }
    counts: dict[tuple[str, str], int] = defaultdict(int)
    seen: list[str] = []
    for code in sorted(by_level, key=lambda c: -(lvls[c].severity if c in lvls else 0)):
        roots = [p for p in minimal_paths(by_level[code]) if not any(p.startswith(s) for s in seen)]
        for p in roots:
            qs = people_under([p])
            for inner in (s for s in seen if s.startswith(p)):
                qs = qs.exclude(scope_path__gte=inner, scope_path__lt=path_upper_bound(inner))
            dpath = next((d for d in districts if p.startswith(d)), "")
            counts[(dpath, code)] += qs.count()
        seen.extend(roots)
    rows = []
    for dpath, name in sorted(districts.items()):
        per = [counts.get((dpath, code), 0) for code in lvls]
        if any(per):
            rows.append({"district": name, "counts": per, "total": sum(per)})
    return rows


# --- Map ----------------------------------------------------------------------------


def _features(prefix: str, *, public: bool) -> list[dict[str, Any]]:
    rows = (
        ZoneUnit.objects.filter(active=True, zone__state=Zone.State.ACTIVE)
        .filter(_path_under(prefix))
        .values_list(
            "path",
            "node__name_zh",
            "node__name_en",
            "node__boundary",
            "zone_id",
            "zone__name",
            "zone__level__code",
            "zone__level__colour",
            "zone__level__severity",
        )
        .order_by("zone__level__severity", "path")
    )
    features = []
    for path, zh, en, boundary, zone_id, zone_name, code, colour, severity in rows:
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "name": f"zone-{zone_id}-{path}",  # a key for the map, never shown
                    "label": f"{zone_name} · {zh}",
                    "unit": zh,
                    "unit_en": en,
                    "zone_id": zone_id,
                    "zone": zone_name,
                    "level": code,
                    "colour": colour,
                    "severity": severity,
                },
                "geometry": node_geometry(path, boundary),
            }
        )
    return features


def _level_rows() -> list[dict[str, Any]]:
    return [{"code": lv.code, "name": lv.name, "colour": lv.colour} for lv in levels()]


def map_data(user: Any) -> dict[str, Any]:
    """Staff map: zone units (GeoJSON), the area's outline, and recent cases as
    building points. Cached per area until a zone changes."""
    prefix = _scope(user)
    key = f"zones:map:{map_version()}:{prefix or 'all'}"
    data: dict[str, Any] | None = cache.get(key)
    if data is not None:
        return data
    data = {
        "geojson": {"type": "FeatureCollection", "features": _features(prefix, public=False)},
        "outline": _outline(prefix),
        "levels": _level_rows(),
        "cases": _case_points(prefix),
        "version": map_version(),
    }
    cache.set(key, data, MAP_CACHE_SECONDS)
    return data


def _outline(prefix: str) -> list[dict[str, Any]]:
    """The districts (or the user's own node) as faint background shapes."""
    nodes = Jurisdiction.objects.filter(level="district")
    if prefix:
        own = Jurisdiction.objects.filter(path=prefix).first()
        if own is not None and own.level not in ("province", "city"):
            nodes = Jurisdiction.objects.filter(path=prefix)
    return [
        {
            "type": "Feature",
            "properties": {"name": f"outline-{n.path}", "label": n.name},
            "geometry": node_geometry(n.path, n.boundary),
        }
        for n in nodes.only("path", "boundary", "name_zh", "name_en")[:200]
    ]


def _case_points(prefix: str) -> list[dict[str, Any]]:
    from fangkong.investigation.selectors.shared import case_homes_since

    since = timezone.localdate() - dt.timedelta(days=CASE_POINT_DAYS)
    out = []
    for r in case_homes_since(prefix, since):
        x, y = centre(r["path"], r["boundary"])
        out.append({"building_id": r["home_id"], "value": [round(x, 6), round(y, 6), r["n"]]})
    return out


def buildings_for_drawing(user: Any, limit: int = 20000) -> list[list[Any]]:
    """Building centres of the user's area (id, lon, lat), so the drawing tool
    can preview what a polygon selects."""
    prefix = _scope(user)
    rows = (
        Jurisdiction.objects.subtree_of(prefix)
        .filter(level="building")
        .values_list("pk", "path", "boundary")
    )
    out = []
    for pk, path, boundary in rows[:limit]:
        x, y = centre(path, boundary)
        out.append([pk, round(x, 6), round(y, 6)])
    return out


# --- Public (portal) -------------------------------------------------------------------


def public_zones(*, district_id: int | None = None) -> list[dict[str, Any]]:
    """Zones in force by district: places only, never people."""
    qs = Zone.objects.filter(state=Zone.State.ACTIVE).select_related("level", "district")
    if district_id:
        qs = qs.filter(district_id=district_id)
    out = []
    for z in qs.order_by("district__path", "-level__severity", "in_force_since", "id"):
        names = list(
            z.units.filter(active=True)
            .order_by("path")
            .values_list("node__name_zh", "node__name_en")[:21]
        )
        label = [n[0] for n in names[:20]]
        units_text = "、".join(label) + ("……" if len(names) > 20 else "")
        out.append(
            {
                "id": z.pk,
                "name": z.name,
                "district_name": z.district.name if z.district else "",
                "district_id": z.district_id,
                "level": z.level.code,
                "level_name": z.level.name,
                "colour": z.level.colour,
                "since": z.in_force_since,
                "units_text": units_text,
            }
        )
    return out


def public_zone_map() -> dict[str, Any]:
    key = f"zones:public-map:{map_version()}"
    data: dict[str, Any] | None = cache.get(key)
    if data is None:
        features = _features("", public=True)
        data = {
            "geojson": {"type": "FeatureCollection", "features": features},
            "levels": _level_rows(),
        }
        cache.set(key, data, MAP_CACHE_SECONDS)
    return data


def zones_count_by_level() -> list[dict[str, Any]]:
    counts = dict(
        Zone.objects.filter(state=Zone.State.ACTIVE)
        .values_list("level__code")
        .annotate(n=Count("id"))
        .values_list("level__code", "n")
    )
    return [
        {
            "level": lv.code,
            "level_name": lv.name,
            "colour": lv.colour,
            "count": counts.get(lv.code, 0),
        }
        for lv in levels()
    ]


def zone_for_person(person_id: int) -> dict[str, Any] | None:
    """The stricter zone in force containing the person's home, for the resident."""
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        return None
    eff = effective_level(person.scope_path) if person.home_id else None
    if eff is None:
        return None
    z = eff["zone"]
    return {
        "id": z.pk,
        "name": z.name,
        "level": z.level.code,
        "level_name": z.level.name,
        "colour": z.level.colour,
        "rules": z.level.rules,
        "since": z.in_force_since,
        "district_name": z.district.name if z.district_id and z.district else "",
        "why": eff["why"],
    }


def requests_for_resident(person_id: int) -> list[dict[str, Any]]:
    rows = (
        ServiceRequest.objects.filter(person_id=person_id)
        .select_related("kind", "zone")
        .order_by("-created_at", "-id")[:50]
    )
    return [
        {
            "id": r.pk,
            "kind": r.kind.code,
            "kind_label": r.kind.name,
            "text": r.text,
            "items": r.items,
            "status": r.status,
            "status_label": r.get_status_display(),
            "created_at": r.created_at,
            "due_at": r.due_at,
            "done_at": r.done_at,
            "confirmed_at": r.confirmed_at,
            "can_confirm": r.status == ServiceRequest.Status.DONE,
            "zone_name": r.zone.name if r.zone_id and r.zone else "",
        }
        for r in rows
    ]


def service_kinds() -> list[Any]:
    from fangkong.zones.models import ServiceKind

    return list(ServiceKind.objects.all())


def door_to_door_person_ids(*, under_path: str = "") -> list[int]:
    """Residents of zones in force whose level keeps people at home (a status
    reason of ``sealed_zone``): screening samples them at their door in its next
    round. Optionally only those under a node."""
    from fangkong.zones.services.zones import resident_ids

    units = ZoneUnit.objects.filter(
        active=True,
        zone__state=Zone.State.ACTIVE,
        zone__level__status_reason_kind="sealed_zone",
    ).values_list("path", flat=True)
    paths = []
    for p in units:
        if p.startswith(under_path):
            paths.append(p)  # the unit lies inside the node
        elif under_path.startswith(p):
            paths.append(under_path)  # the node lies inside the unit
    return resident_ids(paths)
