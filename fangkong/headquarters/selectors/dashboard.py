"""The command dashboard of a jurisdiction level: the city sees every district
(and may open one), a district sees its own. Case figures come from the cached
cells (``CaseDayFigure``); the rest from each module's shared selectors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.utils import timezone, translation

from fangkong.core import permissions
from fangkong.core.errors import NotFound
from fangkong.core.models import Jurisdiction, path_upper_bound
from fangkong.core.types import Actor
from fangkong.entry.selectors import shared as entry
from fangkong.headquarters.models import CaseDayFigure, Task
from fangkong.headquarters.services.aggregates import CLASSIFICATIONS, DISTRICT_PATH
from fangkong.investigation.selectors import shared as investigation
from fangkong.quarantine.selectors import shared as quarantine
from fangkong.screening.selectors import shared as screening
from fangkong.status.selectors import shared as status
from fangkong.supplies.selectors import shared as supplies
from fangkong.zones.selectors import shared as zones

DAYS = 14


@dataclass(frozen=True)
class DistrictRow:
    id: int
    name: str
    cases_today: int
    cases_week: int
    retests_overdue: int
    tasks_overdue: int


def _area(user: Actor, area_id: int | None) -> Jurisdiction:
    permissions.require(user, "hq.dashboard")
    prefix = permissions.scope_path(user)
    profile = permissions.staff_profile(user)
    if prefix is None:
        raise NotFound()
    if area_id is None:
        if profile is not None:
            home: Jurisdiction = profile.jurisdiction
            return home
        node = Jurisdiction.objects.filter(level=Jurisdiction.Level.CITY).first()
        if node is None:
            raise NotFound()
        return node
    node = Jurisdiction.objects.filter(pk=area_id).first()
    if node is None or not node.path.startswith(prefix):
        raise NotFound()
    return node


def area_for(user: Actor, area_id: int | None) -> Jurisdiction:
    """The node whose dashboard or report the user asks for (their own by default;
    outside their area: 404)."""
    return _area(user, area_id)


def case_series(prefix: str, today: dt.date, days: int = DAYS) -> dict[str, Any]:
    """New confirmed and asymptomatic cases by day under ``prefix`` (cached cells;
    below a district, counted from the cases)."""
    since = today - dt.timedelta(days=days - 1)
    dates = [since + dt.timedelta(days=i) for i in range(days)]
    counts: dict[tuple[dt.date, str], int] = {}
    if len(prefix) > DISTRICT_PATH:
        for _path, day, cls in investigation.public_case_rows_since(prefix, since):
            counts[(day, cls)] = counts.get((day, cls), 0) + 1
    else:
        qs = CaseDayFigure.objects.filter(day__gte=since, day__lte=today)
        if prefix:
            qs = qs.filter(area_path__gte=prefix, area_path__lt=path_upper_bound(prefix))
        for day, cls, n in qs.values_list("day", "classification", "n"):
            counts[(day, cls)] = counts.get((day, cls), 0) + n
    return {
        "dates": [d.isoformat() for d in dates],
        "series": {c: [counts.get((d, c), 0) for d in dates] for c in CLASSIFICATIONS},
    }


def district_nodes(node: Jurisdiction) -> list[Jurisdiction]:
    """The districts under ``node`` (a report or dashboard may be opened for each)."""
    return list(
        Jurisdiction.objects.filter(
            level=Jurisdiction.Level.DISTRICT,
            path__gte=node.path,
            path__lt=path_upper_bound(node.path),
        ).order_by("path")
    )


def _district_rows(node: Jurisdiction, today: dt.date, now: dt.datetime) -> list[DistrictRow]:
    districts = list(
        Jurisdiction.objects.filter(
            level=Jurisdiction.Level.DISTRICT,
            path__gte=node.path,
            path__lt=path_upper_bound(node.path),
        ).order_by("path")
    )
    if not districts:
        return []
    week = today - dt.timedelta(days=6)
    cells = CaseDayFigure.objects.filter(
        day__gte=week,
        day__lte=today,
        area_path__gte=node.path,
        area_path__lt=path_upper_bound(node.path),
    ).values_list("area_path", "day", "n")
    by_week: dict[str, int] = {}
    by_today: dict[str, int] = {}
    for path, day, n in cells:
        by_week[path] = by_week.get(path, 0) + n
        if day == today:
            by_today[path] = by_today.get(path, 0) + n
    retests = screening.overdue_retests_by_district(node.path, now)
    tasks: dict[str, int] = {}
    for path in Task.objects.filter(
        state=Task.State.OPEN,
        deadline__lt=now,
        scope_path__gte=node.path,
        scope_path__lt=path_upper_bound(node.path),
    ).values_list("scope_path", flat=True):
        tasks[path[:DISTRICT_PATH]] = tasks.get(path[:DISTRICT_PATH], 0) + 1
    return [
        DistrictRow(
            id=d.pk,
            name=d.name,
            cases_today=by_today.get(d.path, 0),
            cases_week=by_week.get(d.path, 0),
            retests_overdue=retests.get(d.path, 0),
            tasks_overdue=tasks.get(d.path, 0),
        )
        for d in districts
    ]


def dashboard_for(user: Actor, *, area_id: int | None = None) -> dict[str, Any]:
    node = _area(user, area_id)
    now = timezone.now()
    today = timezone.localdate(now)
    prefix = node.path
    series = case_series(prefix, today)
    return {
        "area": node,
        "is_city": node.level_index <= Jurisdiction.LEVEL_ORDER.index(Jurisdiction.Level.CITY),
        "cases": series,
        "cases_today": sum(s[-1] for s in series["series"].values()),
        "cases_period": sum(sum(s) for s in series["series"].values()),
        "suspected": investigation.suspected_open_count(prefix),
        "contacts": investigation.contact_figures(prefix, today),
        "retests": screening.retest_figures(prefix, now),
        "zones": zones.zone_figures(prefix, now),
        "status": status.status_work_figures(prefix, now),
        "occupancy": quarantine.occupancy(user),
        "beds": quarantine.hospital_beds(user),
        "tasks_overdue": Task.objects.filter(
            state=Task.State.OPEN,
            deadline__lt=now,
            scope_path__gte=prefix,
            scope_path__lt=path_upper_bound(prefix),
        ).count(),
        "districts": _district_rows(node, today, now),
        "arrivals": entry.arrival_figures(prefix, today, now),
        **slow_figures(prefix, now),
    }


SLOW_FIGURES_SECONDS = 600  # the job refreshes them every 5 minutes


def slow_figures(prefix: str, now: dt.datetime, *, refresh: bool = False) -> dict[str, Any]:
    """The figures that count every resident of the area (days of supply per district,
    screening coverage of the open rounds), cached per area, day and language for at
    most ``SLOW_FIGURES_SECONDS``: the dashboard's first paint reads them from the
    cache, which ``refresh_dashboard_figures`` keeps warm. ``figures_at`` says when
    they were counted."""
    today = timezone.localdate(now)
    key = f"hq:slow:{prefix or '-'}:{today.isoformat()}:{translation.get_language()}"
    found = None if refresh else cache.get(key)
    if found is None:
        found = {
            "supplies": supplies.days_of_supply_by_district(prefix, today),
            "rounds": screening.open_round_boards(prefix, now),
            "figures_at": now,
        }
        cache.set(key, found, SLOW_FIGURES_SECONDS)
    return dict(found)


def slow_figures_refresh(now: dt.datetime | None = None) -> int:
    """Recount the cached figures of the city (or above) nodes in every language."""
    from django.conf import settings

    now = now or timezone.now()
    nodes = Jurisdiction.objects.filter(
        level__in=[Jurisdiction.Level.CITY, Jurisdiction.Level.PROVINCE]
    ).values_list("path", flat=True)
    n = 0
    for path in nodes:
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                slow_figures(path, now, refresh=True)
            n += 1
    return n


def overdue_retest_list(user: Actor, *, area_id: int | None = None) -> dict[str, Any]:
    """The list behind the overdue-retests figure: places and times, no people."""
    node = _area(user, area_id)
    now = timezone.now()
    rows = screening.overdue_retests(node.path, now)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.district_path] = counts.get(r.district_path, 0) + 1
    districts = Jurisdiction.objects.filter(
        path__in=list(counts), level=Jurisdiction.Level.DISTRICT
    ).order_by("path")
    groups = [(d, counts[d.path]) for d in districts]
    return {"area": node, "rows": rows, "groups": groups, "now": now}
