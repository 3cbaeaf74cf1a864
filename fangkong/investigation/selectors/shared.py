"""Reads of investigation facts that other apps rely on (zones, portal, status).

Other apps call these instead of querying investigation's models: what counts as
a case for them (not excluded; confirmed or asymptomatic for public figures) is
decided here, once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Q

from fangkong.core import permissions
from fangkong.core.models import path_upper_bound
from fangkong.core.types import Actor
from fangkong.investigation.models import BreachInquiry, Case, Contact

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


def case_ids_visible_to(actor: Actor, case_ids: Iterable[int]) -> list[int]:
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


def disease_choices() -> list[tuple[str, str]]:
    """``(code, name)`` of the active diseases, for other modules' forms."""
    from fangkong.investigation.models import Disease

    return [(d.code, d.name) for d in Disease.objects.filter(active=True).order_by("code")]


def disease_names() -> dict[int, str]:
    """Every disease's name by id (rules of other modules keep the id)."""
    from fangkong.investigation.models import Disease

    return {d.pk: d.name for d in Disease.objects.all()}


# --- For the command dashboard (headquarters) -------------------------------------------


@dataclass(frozen=True)
class CaseFact:
    """Where and when a case counts on the dashboard (no person)."""

    case_id: int
    scope_path: str
    report_date: dt.date | None  # unknown for some imported line-list rows
    classification: str


def case_fact(case_id: int) -> CaseFact | None:
    row = Case.objects.filter(pk=case_id).values_list("scope_path", "report_date", "classification")
    found = row.first()
    if found is None:
        return None
    return CaseFact(case_id, found[0], found[1], found[2])


def _under_prefix(qs: Any, prefix: str) -> Any:
    if not prefix:
        return qs
    return qs.filter(scope_path__gte=prefix, scope_path__lt=path_upper_bound(prefix))


def public_case_counts_on(prefix: str, day: dt.date, *, exact: bool = False) -> dict[str, int]:
    """``{classification: n}`` of confirmed and asymptomatic cases reported on ``day``
    under ``prefix`` (only at ``prefix`` itself with ``exact``): the cell the
    dashboard caches."""
    base = Case.objects.filter(scope_path=prefix) if exact else Case.objects.all()
    rows = (
        (base if exact else _under_prefix(base, prefix))
        .filter(report_date=day, classification__in=PUBLIC_CLASSIFICATIONS)
        .order_by()
        .values_list("classification")
        .annotate(n=Count("id"))
    )
    return {cls: int(n) for cls, n in rows}


def public_case_rows_since(prefix: str, since: dt.date) -> list[tuple[str, dt.date, str]]:
    """``(scope_path, report_date, classification)`` of every confirmed or asymptomatic
    case reported since ``since`` under ``prefix`` (a rebuild of the dashboard's cache)."""
    return list(
        _under_prefix(Case.objects.all(), prefix)
        .filter(report_date__gte=since, classification__in=PUBLIC_CLASSIFICATIONS)
        .values_list("scope_path", "report_date", "classification")
    )


def suspected_open_count(prefix: str) -> int:
    return int(
        _under_prefix(Case.objects.all(), prefix)
        .filter(classification=Case.Classification.SUSPECTED)
        .count()
    )


@dataclass(frozen=True)
class ContactFigures:
    """Contacts of an area: traced (found) today, under monitoring, followed up today
    out of the follow-ups due today, lost to follow-up."""

    traced_today: int
    under_monitoring: int
    followed_up_today: int
    due_today: int
    lost: int


def contact_figures(prefix: str, today: dt.date) -> ContactFigures:
    from fangkong.investigation.models import FollowUp

    contacts = _under_prefix(Contact.objects.all(), prefix)
    start = dt.datetime.combine(today, dt.time.min, tzinfo=_tz())
    by_status = dict(
        contacts.order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    followups = _under_prefix(FollowUp.objects.all(), prefix).filter(date=today)
    due = followups.count()
    not_done = followups.filter(status=FollowUp.Status.NOT_ATTEMPTED).count()
    return ContactFigures(
        traced_today=contacts.filter(created_at__gte=start).count(),
        under_monitoring=int(by_status.get(Contact.Status.MONITORING, 0)),
        followed_up_today=due - not_done,
        due_today=due,
        lost=int(by_status.get(Contact.Status.LOST, 0)),
    )


def _tz() -> Any:
    from django.utils import timezone

    return timezone.get_current_timezone()


@dataclass(frozen=True)
class NewCase:
    """A confirmed or asymptomatic case reported on a day, as a place (the home's
    tree path; the caller names the place at the level it publishes) and how it was
    found, in words. Never the person."""

    scope_path: str
    classification: str
    found_by: str
    disease: str


def new_cases_on(prefix: str, day: dt.date, *, limit: int = 1000) -> list[NewCase]:
    """Cases reported on ``day`` under ``prefix`` (the caller scoped it), by place."""
    rows = (
        _under_prefix(Case.objects.all(), prefix)
        .filter(report_date=day, classification__in=PUBLIC_CLASSIFICATIONS)
        .select_related("disease")
        .order_by("scope_path", "pk")[:limit]
    )
    return [
        NewCase(
            scope_path=c.scope_path,
            classification=str(c.get_classification_display()),
            found_by=str(c.get_found_by_display()) if c.found_by else "",
            disease=c.disease.name,
        )
        for c in rows
    ]


@dataclass(frozen=True)
class BreachInquiryState:
    """Where investigation stands on a quarantine site's closed-loop breach (in words)."""

    breach_id: int
    state: str
    outcome: str
    findings: str
    closed: bool


def breach_inquiry_states(user: Any, breach_ids: Iterable[int]) -> dict[int, BreachInquiryState]:
    """The inquiries of these breaches in the user's area, by breach id."""
    prefix = permissions.scope_path(user)
    ids = list(breach_ids)
    if prefix is None or not ids:
        return {}
    qs = BreachInquiry.objects.filter(breach_id__in=ids)
    if prefix:
        qs = qs.filter(scope_path__gte=prefix, scope_path__lt=path_upper_bound(prefix))
    return {
        i.breach_id: BreachInquiryState(
            breach_id=i.breach_id,
            state=str(i.get_state_display()),
            outcome=str(i.get_outcome_display()) if i.outcome else "",
            findings=i.findings,
            closed=i.state == BreachInquiry.State.CLOSED,
        )
        for i in qs
    }


def case_ids_of_person(person_id: int) -> list[int]:
    """The person's cases that are not excluded, the latest first (for a hospital
    admission: the case the patient is treated for)."""
    return list(
        _not_excluded().filter(person_id=person_id).order_by("-id").values_list("id", flat=True)
    )


@dataclass(frozen=True)
class LostContact:
    """A contact lost to follow-up, as a place and a time (no name): for the command
    centre's accountability records."""

    contact_id: int
    category: str
    place: str
    district_path: str
    since: dt.datetime


def lost_contacts(
    prefix: str, *, contact_id: int | None = None, limit: int = 200
) -> list[LostContact]:
    """Contacts under ``prefix`` lost to follow-up, latest first (one with ``contact_id``)."""
    from fangkong.core.models import Jurisdiction

    qs = _under_prefix(Contact.objects.filter(status=Contact.Status.LOST), prefix)
    if contact_id is not None:
        qs = qs.filter(pk=contact_id)
    rows = list(qs.order_by("-updated_at", "-pk")[:limit])
    names = {
        j.path: j.name
        for j in Jurisdiction.objects.filter(path__in={c.scope_path for c in rows}).only(
            "path", "name_zh", "name_en"
        )
    }
    return [
        LostContact(
            contact_id=c.pk,
            category=str(c.get_category_display()),
            place=names.get(c.scope_path, ""),
            district_path=c.scope_path[:12],
            since=c.updated_at,
        )
        for c in rows
    ]


@dataclass(frozen=True)
class CaseLabel:
    """A case as other modules name it: its number and classification in words."""

    case_id: int
    number: str
    classification: str


def case_labels(case_ids: Iterable[int]) -> dict[int, CaseLabel]:
    """The number and classification of these cases (a hospital's patients), by id."""
    ids = [i for i in case_ids if i]
    if not ids:
        return {}
    return {
        c.pk: CaseLabel(c.pk, c.number, str(c.get_classification_display()))
        for c in Case.objects.filter(pk__in=ids).only("id", "number", "classification")
    }
