"""Reads of investigation facts that other apps rely on (zones, portal, status).

Other apps call these instead of querying investigation's models: what counts as
a case for them (not excluded; confirmed or asymptomatic for public figures) is
decided here, once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Count, Max, Q

from fangkong.core import permissions
from fangkong.core.models import path_upper_bound
from fangkong.investigation.models import Case, Contact

PUBLIC_CLASSIFICATIONS = [Case.Classification.CONFIRMED, Case.Classification.ASYMPTOMATIC]


def _not_excluded() -> Any:
    return Case.objects.exclude(classification=Case.Classification.EXCLUDED)


def case_report_dates_since(since: dt.date) -> list[tuple[str, dt.date]]:
    """``(scope_path, report_date)`` of every case reported on or after ``since``
    (excluded cases left out), sorted by path: for matching to zones by prefix."""
    return sorted(
        _not_excluded().filter(report_date__gte=since).values_list("scope_path", "report_date")
    )


def case_summary_under(paths: Iterable[str]) -> tuple[dt.date | None, int]:
    """Last report date and number of (not excluded) cases under any of ``paths``."""
    cond = Q()
    for p in paths:
        cond |= Q(scope_path__gte=p, scope_path__lt=path_upper_bound(p))
    if not cond:
        return None, 0
    row = _not_excluded().filter(cond).aggregate(last=Max("report_date"), n=Count("id"))
    return row["last"], int(row["n"] or 0)


def case_homes_since(prefix: str, since: dt.date, *, limit: int = 5000) -> list[dict[str, Any]]:
    """Cases reported since ``since`` under ``prefix``, counted per home building:
    ``{"home_id", "path", "boundary", "n"}`` (staff maps; no person)."""
    cases = _not_excluded()
    if prefix:
        cases = cases.filter(scope_path__gte=prefix, scope_path__lt=path_upper_bound(prefix))
    rows = (
        cases.filter(report_date__gte=since, person__home__isnull=False)
        .values("person__home_id", "person__home__path", "person__home__boundary")
        .annotate(n=Count("id"))
    )
    return [
        {
            "home_id": r["person__home_id"],
            "path": r["person__home__path"],
            "boundary": r["person__home__boundary"],
            "n": r["n"],
        }
        for r in rows[:limit]
    ]


def case_ids_visible_to(actor: Any, case_ids: Iterable[int]) -> list[int]:
    """The ids among ``case_ids`` of cases inside the actor's area."""
    ids = sorted(set(case_ids))
    rows = Case.objects.filter(pk__in=ids).values_list("pk", "scope_path")
    return [pk for pk, path in rows if permissions.in_scope(actor, path)]


def daily_public_case_counts(since: dt.date, until: dt.date) -> list[tuple[dt.date, str, int]]:
    """``(report_date, classification, n)`` of confirmed and asymptomatic cases per
    day (aggregates only: no person, no place)."""
    return list(
        Case.objects.filter(
            report_date__gte=since,
            report_date__lte=until,
            classification__in=PUBLIC_CLASSIFICATIONS,
        )
        .order_by()
        .values_list("report_date", "classification")
        .annotate(n=Count("id"))
    )


def open_case_facts() -> Iterator[tuple[int, int, int]]:
    """``(case_id, person_id, disease_id)`` of confirmed/asymptomatic cases not released."""
    return (
        Case.objects.filter(classification__in=PUBLIC_CLASSIFICATIONS, released_at__isnull=True)
        .values_list("pk", "person_id", "disease_id")
        .iterator()
    )


def monitored_contact_facts() -> Iterator[tuple[int, int, str, dt.date | None, int]]:
    """``(contact_id, person_id, category, monitoring_end, disease_id)`` of contacts
    under monitoring."""
    return (
        Contact.objects.filter(status=Contact.Status.MONITORING)
        .values_list("pk", "person_id", "category", "monitoring_end", "disease_id")
        .iterator()
    )
