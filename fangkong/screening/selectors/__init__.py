"""Reads of the screening app.

Staff reads are scoped to the user's jurisdiction subtree. The public and
cross-app selectors promised to other apps (``public_sites``,
``latest_results_for_person``, ``latest_result_by_person``, ``sites_open_count``)
are unscoped by design: sites are public places, and the callers (portal,
zones) scope the people they ask about.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from fangkong.core import permissions
from fangkong.core.errors import NotFound
from fangkong.core.models import PATH_SEGMENT, Jurisdiction, path_upper_bound
from fangkong.screening.models import (
    BuildingFlag,
    CustodyEvent,
    Lab,
    ResultReport,
    Round,
    Site,
    Task,
    Tube,
    TubeMember,
)

# --- For other apps (CONTRACTS.md) -------------------------------------------------


def _open_now(site: Site, now: dt.datetime) -> bool:
    if not site.active or site.queue_state == Site.Queue.CLOSED:
        return False
    local = timezone.localtime(now).time()
    if site.opens_at <= site.closes_at:
        return site.opens_at <= local < site.closes_at
    return local >= site.opens_at or local < site.closes_at  # overnight hours


def _district_of(paths: set[str]) -> dict[str, Jurisdiction]:
    """Map each path to its district-level ancestor (one query)."""
    districts = list(Jurisdiction.objects.filter(level=Jurisdiction.Level.DISTRICT))
    out: dict[str, Jurisdiction] = {}
    for path in paths:
        for d in districts:
            if path.startswith(d.path):
                out[path] = d
                break
    return out


def public_sites(
    *, now: dt.datetime | None = None, district_id: int | None = None
) -> list[dict[str, Any]]:
    now = now or timezone.now()
    qs = Site.objects.filter(active=True).order_by("name", "pk")
    if district_id is not None:
        district = Jurisdiction.objects.filter(pk=district_id).first()
        if district is None:
            return []
        qs = qs.filter(
            scope_path__gte=district.path, scope_path__lt=path_upper_bound(district.path)
        )
    sites = list(qs)
    districts = _district_of({s.scope_path for s in sites})
    out = []
    for s in sites:
        d = districts.get(s.scope_path)
        open_now = _open_now(s, now)
        state = s.queue_state if open_now else Site.Queue.CLOSED
        out.append(
            {
                "id": s.pk,
                "name": s.name,
                "address": s.address,
                "district_name": d.name if d else "",
                "district_id": d.pk if d else None,
                "lat": s.lat,
                "lon": s.lon,
                "hours_text": s.hours_text,
                "open_now": open_now,
                "lanes": s.lanes,
                "queue_state": state,
                "queue_label": str(Site.Queue(state).label),
                "updated_at": s.queue_updated_at,
            }
        )
    return out


def sites_open_count(*, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    return sum(1 for s in Site.objects.filter(active=True) if _open_now(s, now))


def latest_results_for_person(person_id: int, limit: int = 5) -> list[dict[str, Any]]:
    rows = (
        TubeMember.objects.filter(person_id=person_id)
        .exclude(tube__result="")
        .select_related("tube", "round")
        .order_by("-sampled_at", "-pk")[:limit]
    )
    return [
        {
            "sampled_at": m.sampled_at,
            "result": m.tube.result,
            "result_label": str(Tube.Result(m.tube.result).label),
            "reported_at": m.tube.reported_at,
            "round_name": m.round.name,
        }
        for m in rows
    ]


# --- Staff reads ---------------------------------------------------------------------


def _rounds_in_scope(user: Any) -> QuerySet[Round]:
    """Rounds whose area overlaps the user's subtree: inside it, or containing it."""
    prefix = permissions.scope_path(user)
    if prefix is None:
        return Round.objects.none()
    rounds = Round.objects.all()
    if prefix:
        ancestors = [prefix[:i] for i in range(0, len(prefix) + 1, 4)]
        rounds = rounds.filter(
            Q(scope_path__gte=prefix, scope_path__lt=path_upper_bound(prefix))
            | Q(scope_path__in=ancestors)
        )
    return rounds


def round_list_for(user: Any) -> QuerySet[Round]:
    permissions.require(user, "screening.view")
    return _rounds_in_scope(user).order_by("-starts_at", "-pk")


def round_list_open_for(user: Any, *, capability: str = "screening.view") -> list[Round]:
    """Every open round of the user's area (a sampler always sees their own, however
    many rounds are open elsewhere), latest first."""
    permissions.require(user, capability)
    return list(_rounds_in_scope(user).filter(state=Round.State.OPEN).order_by("-starts_at", "-pk"))


def access_round_by_id(
    user: Any, round_id: int, *, capability: str = "screening.view", for_update: bool = False
) -> Round:
    """A round the user may work on with ``capability`` (its area overlaps the user's
    subtree); outside it a 404."""
    permissions.require(user, capability)
    rounds = _rounds_in_scope(user)
    if for_update:
        rounds = rounds.select_for_update()
    rnd = rounds.filter(pk=round_id).first()
    if rnd is None:
        raise NotFound()
    return rnd


def _under(qs: QuerySet[Any], prefix: str, column: str = "scope_path") -> QuerySet[Any]:
    if not prefix:
        return qs
    return qs.filter(**{f"{column}__gte": prefix, f"{column}__lt": path_upper_bound(prefix)})


def tube_list_for(user: Any, rnd: Round) -> QuerySet[Tube]:
    permissions.require(user, "screening.view")
    return _under(Tube.objects.filter(round=rnd), permissions.scope_path(user) or "")


def access_tube_by_barcode(user: Any, barcode: str) -> Tube:
    tube = Tube.objects.select_related("round", "site", "lab").filter(barcode=barcode).first()
    if tube is None or not (
        permissions.in_scope(user, tube.scope_path)
        or (tube.lab_id and tube.lab and tube.lab.staff.filter(pk=user.pk).exists())
    ):
        raise NotFound()
    return tube


def tube_chain(user: Any, barcode: str) -> list[dict[str, Any]]:
    """A tube's chain of custody (采 → 送 → 检 → 报) in time order: its custody
    events, then every result a lab reported for it (the report rows themselves:
    applied, conflicting or held, each with its time, lab and user)."""
    permissions.require(user, "screening.view")
    tube = access_tube_by_barcode(user, (barcode or "").strip())
    order = {stage: i for i, stage in enumerate(CustodyEvent.Stage.values)}
    events = [
        {
            "stage": e.stage,
            "stage_label": str(e.get_stage_display()),
            "time": e.time,
            "place": e.place,
            "box": e.box.barcode if e.box else "",
            "lab": e.lab.name if e.lab else "",
            "user": e.user.username if e.user else "",
            "result": "",
            "status": "",
        }
        for e in CustodyEvent.objects.filter(tube=tube)
        # Before the report rows were the chain's last link, imports wrote them twice.
        .exclude(stage=CustodyEvent.Stage.REPORTED)
        .select_related("box", "lab", "user")
    ]
    reported = CustodyEvent.Stage.REPORTED
    for r in ResultReport.objects.filter(tube=tube).select_related("lab", "reported_by"):
        events.append(
            {
                "stage": reported,
                "stage_label": str(CustodyEvent.Stage(reported).label),
                "time": r.reported_at,
                "place": r.lab.name,
                "box": "",
                "lab": r.lab.name,
                "user": r.reported_by.username if r.reported_by else "",
                "result": r.result,
                "status": r.status,
            }
        )
    events.sort(key=lambda e: (e["time"], order.get(str(e["stage"]), 0)))
    return events


def task_list_for(user: Any, *, rnd: Round | None = None, state: str = "open") -> QuerySet[Task]:
    permissions.require(user, "screening.view")
    prefix = permissions.scope_path(user)
    if prefix is None:
        return Task.objects.none()
    qs = _under(Task.objects.select_related("person", "team"), prefix)
    if rnd is not None:
        qs = qs.filter(round=rnd)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-priority", "created_at", "pk")


def positives_for(user: Any, rnd: Round) -> QuerySet[Tube]:
    return (
        tube_list_for(user, rnd)
        .filter(result=Tube.Result.POSITIVE)
        .select_related("lab")
        .order_by("-reported_at")
    )


def flagged_buildings_for(user: Any, rnd: Round) -> list[dict[str, Any]]:
    permissions.require(user, "screening.view")
    qs = _under(BuildingFlag.objects.filter(round=rnd), permissions.scope_path(user) or "")
    rows = qs.values("building_id", "building__name_zh").annotate(
        pools=Count("tube_id", distinct=True)
    )
    return [
        {"building_id": r["building_id"], "name": r["building__name_zh"], "pools": r["pools"]}
        for r in rows.order_by("building__path")
    ]


def held_reports_for(user: Any, *, lab: Lab | None = None) -> QuerySet[ResultReport]:
    permissions.require(user, "screening.view")
    qs = ResultReport.objects.filter(
        status__in=[
            ResultReport.Status.CONFLICT,
            ResultReport.Status.HELD_UNKNOWN,
            ResultReport.Status.HELD_NOT_RECEIVED,
        ]
    ).select_related("lab", "tube")
    if lab is not None:
        return qs.filter(lab=lab).order_by("-created_at")
    return _under(qs, permissions.scope_path(user) or "").order_by("-created_at")


def lab_list_for(user: Any, *, include_above: bool = False) -> list[Lab]:
    """Labs of the user's area and labs the user works at; with ``include_above``
    also the labs of the areas above it (a city lab serves its districts: the labs
    a round of the user's area may send tubes to)."""
    prefix = permissions.scope_path(user)
    if prefix is None:
        return []
    qs = Lab.objects.filter(active=True)
    own = Q(staff=user) if getattr(user, "is_authenticated", False) else Q(pk__in=[])
    if prefix:
        wanted = Q(scope_path__gte=prefix, scope_path__lt=path_upper_bound(prefix)) | own
        if include_above:
            ancestors = [prefix[:i] for i in range(0, len(prefix), PATH_SEGMENT)]
            wanted |= Q(scope_path__in=ancestors)
        qs = qs.filter(wanted)
    return list(qs.distinct().order_by("name", "pk"))
