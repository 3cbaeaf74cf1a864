"""Reads of the quarantine app, scoped to the user's jurisdiction subtree (outside
it a site, room or stay does not exist). Other apps use ``selectors.shared``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from fangkong.core import permissions
from fangkong.core.errors import NotFound
from fangkong.core.models import Jurisdiction, path_upper_bound
from fangkong.core.types import Actor
from fangkong.quarantine.models import (
    AcceptanceItem,
    ActivationProposal,
    Admission,
    Approval,
    BedType,
    BreachReport,
    CapacityRule,
    HealthCheck,
    Hospital,
    HospitalBeds,
    Room,
    Site,
    SiteAcceptance,
    SiteStaff,
    StaffPeriod,
    Stay,
    StayCategory,
    StayTest,
    Symptom,
)
from fangkong.quarantine.services import rules
from fangkong.quarantine.services.monitoring import release_unmet
from fangkong.quarantine.services.tiers import PoolOccupancy, pool_occupancy


def scope_of(user: Actor, capability: str = "quarantine.view") -> str:
    """The user's path prefix for quarantine reads (NotFound when they have none)."""
    permissions.require(user, capability)
    prefix = permissions.scope_path(user)
    if prefix is None:
        raise NotFound()
    return prefix


def under(prefix: str, field: str = "scope_path") -> Q:
    if not prefix:
        return Q()
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": path_upper_bound(prefix)})


def site_list_for(user: Actor, *, state: str | None = None, q: str = "") -> QuerySet[Site]:
    qs = Site.objects.filter(under(scope_of(user))).select_related("jurisdiction")
    if state:
        qs = qs.filter(state=state)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(address__icontains=q))
    return qs.order_by("tier", "name", "id")


def access_site_by_id(user: Actor, site_id: int) -> Site:
    site = Site.objects.select_related("jurisdiction").filter(pk=site_id).first()
    if site is None or not site.scope_path.startswith(scope_of(user)):
        raise NotFound()
    return site


def room_counts(site_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """``{site_id: {status: rooms}}`` for the given sites (every status present)."""
    out: dict[int, dict[str, int]] = {sid: dict.fromkeys(Room.Status.values, 0) for sid in site_ids}
    rows = (
        Room.objects.filter(site_id__in=list(out))
        .values("site_id", "status")
        .annotate(n=Count("id"))
    )
    for r in rows:
        out[r["site_id"]][r["status"]] = r["n"]
    return out


def room_list_for(
    user: Actor, site_id: int, *, status: str | None = None, floor: int | None = None
) -> QuerySet[Room]:
    site = access_site_by_id(user, site_id)
    qs = Room.objects.filter(site=site)
    if status:
        qs = qs.filter(status=status)
    if floor is not None:
        qs = qs.filter(floor=floor)
    return qs.order_by("floor", "number")


def acceptance_items() -> list[AcceptanceItem]:
    return list(AcceptanceItem.objects.filter(active=True).order_by("order", "code"))


def acceptances_of(site: Site) -> QuerySet[SiteAcceptance]:
    return site.acceptances.select_related("inspector").prefetch_related("results__item")


# --- Stays ---------------------------------------------------------------------------------


def stay_list_for(
    user: Actor,
    *,
    site_id: int | None = None,
    state: str | None = None,
    open_only: bool = False,
    q: str = "",
) -> QuerySet[Stay]:
    qs = Stay.objects.filter(under(scope_of(user))).select_related(
        "person", "site", "room", "category"
    )
    if site_id is not None:
        qs = qs.filter(site_id=site_id)
    if state:
        qs = qs.filter(state=state)
    elif open_only:
        qs = qs.filter(state__in=Stay.OPEN_STATES)
    if q:
        qs = qs.filter(Q(person__name__icontains=q) | Q(room__number=q))
    return qs.order_by("site__tier", "site_id", "room__floor", "room__number", "admitted_at", "id")


def access_stay_by_id(user: Actor, stay_id: int) -> Stay:
    stay = (
        Stay.objects.select_related("person", "site", "room", "category", "rule", "early_release")
        .filter(pk=stay_id)
        .first()
    )
    if stay is None or not stay.scope_path.startswith(scope_of(user)):
        raise NotFound()
    return stay


def stay_panel(stay: Stay) -> dict[str, object]:
    """What a stay's page shows besides the stay itself."""
    today = timezone.localdate()
    names = {sym.code: sym.name for sym in Symptom.objects.all()}
    checks = list(stay.checks.select_related("recorded_by").order_by("-taken_on", "-slot"))
    for c in checks:
        c.symptom_names = [names.get(code, code) for code in c.symptoms]  # type: ignore[attr-defined]
    return {
        "checks": checks,
        "tests": list(stay.tests.order_by("due_on", "id")),
        "extensions": list(stay.extensions.select_related("actor")),
        "approvals": list(stay.approvals.select_related("requested_by", "decided_by", "room")),
        "orders": list(stay.orders.order_by("-created_at")),
        "unmet": release_unmet(stay, today) if stay.state == Stay.State.IN_ROOM else [],
        "day": stay.day_number(today),
        "last_day": stay.planned_end - dt.timedelta(days=1),
    }


def monitoring_sheet(user: Actor, site_id: int, day: dt.date) -> list[dict[str, object]]:
    """Everyone in a room of the site with that day's checks (floor by floor)."""
    stays = list(
        stay_list_for(user, site_id=site_id, state=Stay.State.IN_ROOM).select_related("rule")
    )
    checks: dict[int, dict[str, HealthCheck]] = {}
    for c in HealthCheck.objects.filter(stay_id__in=[s.pk for s in stays], taken_on=day):
        checks.setdefault(c.stay_id or 0, {})[c.slot] = c
    return [
        {"stay": s, "am": checks.get(s.pk, {}).get("am"), "pm": checks.get(s.pk, {}).get("pm")}
        for s in stays
    ]


def symptoms() -> list[Symptom]:
    return list(Symptom.objects.filter(active=True).order_by("order", "code"))


def categories() -> list[StayCategory]:
    return list(StayCategory.objects.filter(active=True).order_by("order", "code"))


def approvals_for(user: Actor, *, pending_only: bool = True) -> QuerySet[Approval]:
    qs = Approval.objects.filter(under(scope_of(user))).select_related(
        "stay__person", "stay__site", "stay__room", "room", "requested_by"
    )
    if pending_only:
        qs = qs.filter(state=Approval.State.PENDING)
    return qs.order_by("created_at", "id")


def due_today(user: Actor, site_id: int | None = None) -> dict[str, int]:
    """Counts of the day's work at the sites of the user's area."""
    prefix = scope_of(user)
    today = timezone.localdate()
    stays = Stay.objects.filter(under(prefix))
    if site_id is not None:
        stays = stays.filter(site_id=site_id)
    in_room = stays.filter(state=Stay.State.IN_ROOM)
    slot = "am" if timezone.localtime().hour < 12 else "pm"
    checked = HealthCheck.objects.filter(stay__in=in_room, taken_on=today, slot=slot).count()
    return {
        "in_room": in_room.count(),
        "waiting": stays.filter(state=Stay.State.PENDING).count(),
        "releases_due": in_room.filter(planned_end__lte=today).count(),
        "tests_due": StayTest.objects.filter(
            stay__in=in_room, due_on__lte=today, result=StayTest.Result.DUE
        ).count(),
        "checks_missing": max(in_room.count() - checked, 0),
        "suspected": in_room.filter(suspected_at__isnull=False).count(),
    }


def proposals_open_for(user: Actor) -> QuerySet[ActivationProposal]:
    prefix = scope_of(user)
    return (
        ActivationProposal.objects.filter(state=ActivationProposal.State.OPEN)
        .filter(Q(scope_path__startswith=prefix) | Q(pool__path__in=_ancestors(prefix)))
        .select_related("site", "pool")
    )


def _ancestors(path: str) -> list[str]:
    return [path[:i] for i in range(4, len(path) + 1, 4)]


def pools_for(user: Actor) -> list[PoolOccupancy]:
    """Occupancy of the pools (cities) the user's area lies in or holds."""
    prefix = scope_of(user)
    paths = set(Site.objects.filter(under(prefix)).values_list("scope_path", flat=True))
    if prefix:
        paths.add(prefix)
    nodes: dict[int, Jurisdiction] = {}
    for p in paths:
        node = rules.pool_node(p)
        if node is not None:
            nodes[node.pk] = node
    return [pool_occupancy(n) for n in sorted(nodes.values(), key=lambda n: n.path)]


def tier_queue(user: Actor) -> QuerySet[Site]:
    """Sites waiting to be brought in (standby, then reserve), by tier."""
    return (
        site_list_for(user)
        .filter(
            state__in=[
                Site.State.STANDBY,
                Site.State.RESERVE,
                Site.State.VACATING,
                Site.State.INSPECTION,
            ]
        )
        .order_by("tier", "id")
    )


# --- Staff -----------------------------------------------------------------------------------


def staff_list_for(user: Actor) -> QuerySet[SiteStaff]:
    """The active site workers of the user's area, by site and name."""
    return (
        SiteStaff.objects.filter(under(scope_of(user)), active=True)
        .select_related("site")
        .order_by("site__name", "name", "id")
    )


def staff_of(user: Actor, site_id: int) -> QuerySet[SiteStaff]:
    site = access_site_by_id(user, site_id)
    return SiteStaff.objects.filter(site=site, active=True).order_by("role", "name")


def periods_for(user: Actor, *, site_id: int | None = None) -> QuerySet[StaffPeriod]:
    qs = (
        StaffPeriod.objects.filter(under(scope_of(user)))
        .select_related("staff", "site", "rule")
        .prefetch_related("checks", "tests")
    )
    if site_id is not None:
        qs = qs.filter(site_id=site_id)
    return qs.filter(state__in=[StaffPeriod.State.ON_SITE, StaffPeriod.State.MONITORING]).order_by(
        "rotation_due", "id"
    )


def breaches_for(user: Actor, *, open_only: bool = False) -> QuerySet[BreachReport]:
    qs = BreachReport.objects.filter(under(scope_of(user))).select_related("site", "reported_by")
    if open_only:
        qs = qs.exclude(state=BreachReport.State.CLOSED)
    return qs.prefetch_related("staff").order_by("-occurred_at", "-id")


def access_breach_by_id(user: Actor, breach_id: int) -> BreachReport:
    report = (
        BreachReport.objects.select_related("site", "reported_by", "investigator")
        .filter(pk=breach_id)
        .first()
    )
    if report is None or not report.scope_path.startswith(scope_of(user)):
        raise NotFound()
    return report


# --- Hospitals ----------------------------------------------------------------------------------


def _hospital_scope(user: Actor) -> str:
    return scope_of(user, "hospital.view")


@dataclass(frozen=True)
class BedRow:
    label: str
    code: str
    total: int
    used: int
    level: str  # ok, warning, critical, none

    @property
    def free(self) -> int:
        return max(self.total - self.used, 0)

    @property
    def percent(self) -> int:
        return round(100 * self.used / self.total) if self.total else 0


@dataclass(frozen=True)
class HospitalRow:
    hospital: Hospital
    beds: list[BedRow]


def hospital_list_for(user: Actor) -> list[HospitalRow]:
    """Hospitals of the user's area with beds, beds in use and their alert level."""
    prefix = _hospital_scope(user)
    hospitals = list(
        Hospital.objects.filter(under(prefix))
        .exclude(state=Hospital.State.CLOSED)
        .order_by("kind", "name")
    )
    ids = [h.pk for h in hospitals]
    totals: dict[tuple[int, str], int] = {
        (b.hospital_id, b.bed_type): b.total
        for b in HospitalBeds.objects.filter(hospital_id__in=ids)
    }
    used: dict[tuple[int, str], int] = {
        (r["hospital_id"], r["bed_type"]): r["n"]
        for r in Admission.objects.filter(hospital_id__in=ids, state=Admission.State.ADMITTED)
        .values("hospital_id", "bed_type")
        .annotate(n=Count("id"))
    }
    rule = rules.capacity_rule(timezone.localdate())
    return [
        HospitalRow(
            hospital=h,
            beds=[
                BedRow(
                    label=str(t.label),
                    code=t.value,
                    total=totals.get((h.pk, t.value), 0),
                    used=used.get((h.pk, t.value), 0),
                    level=bed_level(
                        used.get((h.pk, t.value), 0), totals.get((h.pk, t.value), 0), rule
                    ),
                )
                for t in BedType
            ],
        )
        for h in hospitals
    ]


def bed_level(used: int, total: int, rule: CapacityRule | None) -> str:
    if total == 0:
        return "none"
    if rule is None:
        return "ok"
    if 100 * used >= rule.critical_percent * total:
        return "critical"
    if 100 * used >= rule.warn_percent * total:
        return "warning"
    return "ok"


def access_hospital_by_id(user: Actor, hospital_id: int) -> Hospital:
    hospital = Hospital.objects.filter(pk=hospital_id).first()
    if hospital is None or not hospital.scope_path.startswith(_hospital_scope(user)):
        raise NotFound()
    return hospital


def admissions_for(
    user: Actor, *, hospital_id: int | None = None, current: bool = True
) -> QuerySet[Admission]:
    qs = Admission.objects.filter(under(_hospital_scope(user))).select_related("person", "hospital")
    if hospital_id is not None:
        qs = qs.filter(hospital_id=hospital_id)
    if current:
        qs = qs.filter(state=Admission.State.ADMITTED)
    return qs.order_by("-admitted_at", "-id")


def access_admission_by_id(user: Actor, admission_id: int) -> Admission:
    adm = Admission.objects.select_related("person", "hospital").filter(pk=admission_id).first()
    if adm is None or not adm.scope_path.startswith(_hospital_scope(user)):
        raise NotFound()
    return adm
