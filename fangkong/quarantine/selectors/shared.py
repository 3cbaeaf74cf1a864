"""What other apps may read of the quarantine app: typed, primitive answers.

Entry's transfer form offers the sites that can take people (``site_choices``)
and checks the chosen one (``site_choice``); the command dashboard reads
occupancy. Sites are places, not people: a staff user sees the active sites of
their whole city (people are sent across district lines), never the people in
them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.errors import NotFound
from fangkong.core.models import Jurisdiction, path_upper_bound
from fangkong.core.types import Actor
from fangkong.quarantine.models import ActivationProposal, BreachReport, Room, Site, Stay


@dataclass(frozen=True)
class SiteChoice:
    """An active quarantine site as a destination: where it is and its free rooms
    (clean rooms less the people already waiting there for one)."""

    id: int
    name: str
    area: str
    address: str
    tier: int
    free_rooms: int

    @property
    def label(self) -> str:
        return f"{self.name} · {self.area} ({self.free_rooms})"


def _city_prefix(user: Actor) -> str | None:
    """The path of the user's city (their own node when they sit above a city)."""
    prefix = permissions.scope_path(user)
    if not prefix:
        return prefix
    city = (
        Jurisdiction.objects.filter(
            level=Jurisdiction.Level.CITY,
            path__in=[prefix[:i] for i in range(4, len(prefix) + 1, 4)],
        )
        .values_list("path", flat=True)
        .first()
    )
    return city if city is not None else prefix


def _active_sites(prefix: str, site_id: int | None = None) -> list[SiteChoice]:
    qs = Site.objects.filter(state=Site.State.ACTIVE)
    if site_id is not None:
        qs = qs.filter(pk=site_id)
    if prefix:
        qs = qs.filter(scope_path__gte=prefix, scope_path__lt=path_upper_bound(prefix))
    rows = list(
        qs.annotate(free=Count("rooms", filter=Q(rooms__status=Room.Status.CLEAN))).select_related(
            "jurisdiction"
        )
    )
    waiting = dict(
        Stay.objects.filter(site_id__in=[s.pk for s in rows], state=Stay.State.PENDING)
        .values("site_id")
        .annotate(n=Count("id"))
        .values_list("site_id", "n")
    )
    return [
        SiteChoice(
            id=s.pk,
            name=s.name,
            area=s.jurisdiction.name,
            address=s.address,
            tier=s.tier,
            free_rooms=max(int(s.free) - waiting.get(s.pk, 0), 0),
        )
        for s in sorted(rows, key=lambda s: (s.tier, s.name, s.pk))
    ]


def site_choices(user: Actor) -> list[SiteChoice]:
    """Active sites of the user's city that have a free room, first tier first."""
    prefix = _city_prefix(user)
    if prefix is None:
        return []
    return [s for s in _active_sites(prefix) if s.free_rooms > 0]


def site_choice(user: Actor, site_id: int) -> SiteChoice:
    """One active site of the user's city (its free rooms may be 0: full);
    NotFound when it is not active or outside the user's city."""
    prefix = _city_prefix(user)
    if prefix is None:
        raise NotFound()
    found = _active_sites(prefix, site_id)
    if not found:
        raise NotFound()
    return found[0]


# --- For the command dashboard and the "my work" inbox ---------------------------------


@dataclass(frozen=True)
class PoolFigure:
    """Occupancy of one pool of sites (a city) and the next site of its queue."""

    area: str
    active_sites: int
    usable_rooms: int
    occupied_rooms: int
    percent: int
    threshold_percent: int | None
    next_site: str | None
    proposal_open: bool


@dataclass(frozen=True)
class BedFigure:
    """Beds of one type at one hospital: in use, total, alert level
    (``ok``, ``warning``, ``critical`` from the capacity rule, or ``none``)."""

    hospital_id: int
    hospital: str
    kind: str
    bed_type: str
    total: int
    used: int
    level: str


@dataclass(frozen=True)
class WorkItem:
    """Open work of the quarantine module for a person's inbox."""

    code: str
    text: str
    count: int
    url: str
    severity: str  # high, medium, info


def _can(user: Actor, capability: str) -> bool:
    return permissions.scope_path(user) is not None and permissions.has_capability(user, capability)


def occupancy(user: Actor) -> list[PoolFigure]:
    """Each pool of the user's area: rooms in use of the active sites, the
    activation threshold and the next site of the tier queue."""
    from fangkong.quarantine import selectors
    from fangkong.quarantine.services.tiers import next_in_queue

    if not _can(user, "quarantine.view"):
        return []
    out = []
    open_pools = set(
        ActivationProposal.objects.filter(state=ActivationProposal.State.OPEN).values_list(
            "pool_id", flat=True
        )
    )
    for pool in selectors.pools_for(user):
        node = Jurisdiction.objects.get(pk=pool.pool_id)
        nxt = next_in_queue(node)
        out.append(
            PoolFigure(
                area=pool.pool_name,
                active_sites=pool.active_sites,
                usable_rooms=pool.usable_rooms,
                occupied_rooms=pool.occupied_rooms,
                percent=pool.percent,
                threshold_percent=pool.threshold_percent,
                next_site=nxt.name if nxt else None,
                proposal_open=pool.pool_id in open_pools,
            )
        )
    return out


def hospital_beds(user: Actor) -> list[BedFigure]:
    """Beds by hospital and type in the user's area, with their alert level."""
    from fangkong.quarantine import selectors

    if not _can(user, "hospital.view"):
        return []
    return [
        BedFigure(
            hospital_id=row.hospital.pk,
            hospital=row.hospital.name,
            kind=str(row.hospital.get_kind_display()),
            bed_type=bed.label,
            total=bed.total,
            used=bed.used,
            level=bed.level,
        )
        for row in selectors.hospital_list_for(user)
        for bed in row.beds
    ]


def work_items(user: Actor) -> list[WorkItem]:
    """What waits on the user in quarantine and treatment (counts with links)."""
    from fangkong.quarantine import selectors

    items: list[WorkItem] = []
    if not _can(user, "quarantine.view"):
        return items
    if permissions.has_capability(user, "quarantine.stays"):
        due = selectors.due_today(user)
        overview = reverse("quarantine:overview")
        items += [
            WorkItem(
                "waiting",
                _("People at a site waiting for a room"),
                due["waiting"],
                overview,
                "high",
            ),
            WorkItem(
                "suspected",
                _("Suspected cases still in a quarantine room"),
                due["suspected"],
                overview,
                "high",
            ),
            WorkItem(
                "checks",
                _("Health checks not yet recorded this half-day"),
                due["checks_missing"],
                overview,
                "medium",
            ),
            WorkItem(
                "tests", _("Scheduled tests without a result"), due["tests_due"], overview, "medium"
            ),
            WorkItem(
                "releases",
                _("People whose quarantine ends today or earlier"),
                due["releases_due"],
                overview,
                "medium",
            ),
        ]
    if permissions.has_capability(user, "quarantine.approve"):
        items.append(
            WorkItem(
                "approvals",
                _("Quarantine exceptions waiting for approval"),
                selectors.approvals_for(user).count(),
                reverse("quarantine:approvals"),
                "medium",
            )
        )
    if permissions.has_capability(user, "quarantine.activate"):
        items.append(
            WorkItem(
                "tiers",
                _("Quarantine sites proposed for activation"),
                selectors.proposals_open_for(user).count(),
                reverse("quarantine:overview"),
                "high",
            )
        )
    if permissions.has_capability(user, "quarantine.staff"):
        rotation = selectors.periods_for(user).filter(
            state="on_site", rotation_due__lte=timezone.localdate()
        )
        items.append(
            WorkItem(
                "rotation",
                _("Site staff due for rotation"),
                rotation.count(),
                reverse("quarantine:staff"),
                "medium",
            )
        )
        today = timezone.localdate()
        monitoring = selectors.periods_for(user).filter(state="monitoring")
        items.append(
            WorkItem(
                "staff_tests",
                _("Tests of rotated site staff due today or overdue"),
                monitoring.filter(tests__result="due", tests__due_on__lte=today).distinct().count(),
                reverse("quarantine:staff"),
                "medium",
            )
        )
        items.append(
            WorkItem(
                "staff_alarms",
                _("Rotated site staff with a fever, symptoms or a positive test"),
                monitoring.filter(Q(checks__alarming=True) | Q(tests__result="positive"))
                .distinct()
                .count(),
                reverse("quarantine:staff"),
                "high",
            )
        )
    if permissions.has_capability(user, "quarantine.breaches"):
        items.append(
            WorkItem(
                "breaches",
                _("Open breach reports of the closed loop"),
                selectors.breaches_for(user, open_only=True).count(),
                reverse("quarantine:staff"),
                "high",
            )
        )
    if _can(user, "hospital.view"):
        short = sum(1 for b in hospital_beds(user) if b.level in ("warning", "critical"))
        items.append(
            WorkItem(
                "beds",
                _("Hospital bed types near or at capacity"),
                short,
                reverse("quarantine:hospitals"),
                "high",
            )
        )
    return items


# --- For investigation: a closed-loop breach it investigates -----------------------------


@dataclass(frozen=True)
class BreachWorker:
    """A site worker named in a breach report (the phone only masked)."""

    name: str
    role: str
    employer: str
    phone_masked: str


@dataclass(frozen=True)
class BreachFact:
    """A breach of a site's closed loop as investigation shows it (in words)."""

    id: int
    site: str
    area: str
    kind: str
    occurred_at: dt.datetime
    description: str
    workers: tuple[BreachWorker, ...]
    state: str
    findings: str
    measures: str


def breach_fact(user: Actor, breach_id: int) -> BreachFact:
    """The breach report ``breach_id`` in the user's area (``NotFound`` outside it)."""
    report = (
        BreachReport.objects.select_related("site__jurisdiction")
        .prefetch_related("staff")
        .filter(pk=breach_id)
        .first()
    )
    if report is None or not permissions.in_scope(user, report.scope_path):
        raise NotFound()
    return BreachFact(
        id=report.pk,
        site=report.site.name,
        area=report.site.jurisdiction.name,
        kind=str(report.get_kind_display()),
        occurred_at=report.occurred_at,
        description=report.description,
        workers=tuple(
            BreachWorker(
                name=m.name,
                role=str(m.get_role_display()),
                employer=m.employer,
                phone_masked=m.phone_masked,
            )
            for m in report.staff.all()
        ),
        state=str(report.get_state_display()),
        findings=report.findings,
        measures=report.measures,
    )


@dataclass(frozen=True)
class BreachRow:
    """A breach of a site's closed loop, as a place, a kind and a time (no names)."""

    breach_id: int
    site: str
    kind: str
    scope_path: str
    occurred_at: dt.datetime


def breaches(prefix: str, *, breach_id: int | None = None, limit: int = 200) -> list[BreachRow]:
    """Closed-loop breaches at sites under ``prefix``, latest first (one with ``breach_id``)."""
    from fangkong.quarantine.models import BreachReport

    qs = BreachReport.objects.select_related("site")
    if prefix:
        qs = qs.filter(scope_path__gte=prefix, scope_path__lt=path_upper_bound(prefix))
    if breach_id is not None:
        qs = qs.filter(pk=breach_id)
    return [
        BreachRow(
            breach_id=b.pk,
            site=b.site.name,
            kind=str(b.get_kind_display()),
            scope_path=b.scope_path,
            occurred_at=b.occurred_at,
        )
        for b in qs.order_by("-occurred_at", "-pk")[:limit]
    ]
