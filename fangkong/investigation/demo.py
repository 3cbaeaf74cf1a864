"""Demo data of the investigation app: a running outbreak in the demo district.

Built through the services, as the demo logins (the investigator 陈卫东 and the
district officer 王海燕), so its facts, status reasons and audit rows are real:

- a market cluster over two weeks: the index case visited the 坞城路 market and a
  restaurant, the check-in logs of both were imported, matching found the people
  who were there at the same time, most matches were confirmed (close contacts
  and venue-exposed people), one dismissed, and the latest ones wait for review;
  household members are close contacts, their own households secondary contacts;
  contacts who fell ill became cases (the chain), and the cluster is named;
- a second, household chain in another grid (an unnamed cluster);
- sporadic cases: a suspected case waiting for classification, one excluded, an
  asymptomatic infection; the earliest cases released;
- a follow-up team and its lists: the last two days recorded, today's visits due.

Deterministic from the demo seed (the dates count back from today). Idempotent:
a second run adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from fangkong.core.demo import DEMO_SEED, demo_district, demo_login, outbreak_grids
from fangkong.core.models import Person
from fangkong.investigation.models import Case, Cluster, Contact, ExposureMatch, FollowUp, Venue
from fangkong.investigation.services import (
    cases,
    checkins,
    clusters,
    contacts,
    followup,
    matching,
    trajectories,
)

MARKER = "demo-outbreak"
CLUSTER_NAME = "坞城路农贸市场聚集性疫情"


@dataclass
class _World:
    """What the seed has at hand: actors, people by grid, venues, the random stream."""

    rng: random.Random
    investigator: Any
    officer: Any
    people: list[list[Person]]  # residents of each outbreak grid
    venues: dict[str, list[Venue]]
    used: set[int] = field(default_factory=set)
    counter: int = 0

    def take(self, grid: int) -> Person:
        pool = [p for p in self.people[grid % len(self.people)] if p.pk not in self.used]
        person = pool[self.rng.randrange(len(pool))]
        self.used.add(person.pk)
        return person

    def household_of(self, person: Person, limit: int = 3) -> list[Person]:
        if person.household_id is None:
            return []
        members = [
            p
            for p in Person.objects.active()
            .filter(household_id=person.household_id)
            .exclude(pk=person.pk)
            .order_by("pk")
            if p.pk not in self.used
        ][:limit]
        self.used.update(p.pk for p in members)
        return members

    def venue(self, category: str, k: int = 0) -> Venue:
        pool = self.venues.get(category) or next(iter(self.venues.values()))
        return pool[k % len(pool)]


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _day(case: Case) -> dt.date:
    """The demo's cases all have their report date."""
    if case.report_date is None:
        raise ValueError(case.number)
    return case.report_date


def _today() -> dt.date:
    return timezone.localdate()


def _new_case(
    w: _World,
    person: Person,
    *,
    reported: int,
    classification: str = "confirmed",
    found_by: str = "fever_clinic",
    severity: str = "mild",
    facility: str = "designated_hospital",
) -> Case:
    today = _today()
    w.counter += 1
    report = today - dt.timedelta(days=reported)
    return cases.case_create(
        actor=w.investigator,
        person_id=person.pk,
        disease_code="covid19",
        classification=classification,
        onset_date=report - dt.timedelta(days=1) if classification != "asymptomatic" else None,
        first_positive_date=report,
        report_date=report,
        found_by=found_by,
        severity=severity if classification != "asymptomatic" else "none",
        treatment_facility=facility,
        facility_name="太原市第四人民医院" if facility == "designated_hospital" else "",
        reporting_unit="小店区疾病预防控制中心",
        external_ref=f"{MARKER}-{w.counter}",
    )


def _stop(w: _World, case: Case, venue: Venue, day: dt.date, hour: int, minutes: int = 90) -> None:
    start = _at(day, hour)
    trajectories.stop_add(
        actor=w.investigator,
        case_id=case.pk,
        kind="venue",
        venue_id=venue.pk,
        start=start,
        end=start + dt.timedelta(minutes=minutes),
    )


def _home_stop(w: _World, case: Case, day: dt.date) -> None:
    person = case.person
    trajectories.stop_add(
        actor=w.investigator,
        case_id=case.pk,
        kind="address",
        address=f"{person.home.name if person.home else ''}{person.home_unit}".strip() or "居所",
        grid_id=person.home_id,
        start=_at(day, 18),
        end=_at(day + dt.timedelta(days=1), 8),
        notes="居家",
    )


def _visitors(
    w: _World, venue: Venue, start: dt.datetime, n: int, grids: int
) -> list[dict[str, Any]]:
    """Check-in rows of ``n`` residents at ``venue`` around ``start`` (some overlap
    the case's stay, a few came long before and are not matched)."""
    rows = []
    for i in range(n):
        person = w.take(i % grids)
        offset = w.rng.choice([-40, -20, -10, 0, 10, 20, 35, 50, 70, -200])
        at = start + dt.timedelta(minutes=offset)
        rows.append(
            {
                "venue_id": venue.pk,
                "person_id": person.pk,
                "time": at,
                "left_at": at + dt.timedelta(minutes=w.rng.choice([15, 30, 45])),
            }
        )
    return rows


def _household_contacts(
    w: _World, case: Case, last: dt.date, *, continuous: bool = False
) -> list[Contact]:
    made = []
    for member in w.household_of(case.person):
        made.append(
            contacts.contact_create(
                actor=w.investigator,
                source_case_id=case.pk,
                person_id=member.pk,
                exposure_type="household",
                relation="同住家属",
                first_exposure=last - dt.timedelta(days=3),
                last_exposure=last,
                continuous_exposure=continuous,
                frequency="每日",
                certainty="confirmed",
            )
        )
    return made


def _work_contacts(w: _World, case: Case, n: int, grid: int) -> list[Contact]:
    """Colleagues or classmates of a case (other households): close contacts."""
    made = []
    for i in range(n):
        person = w.take(grid + i)
        kind = "workplace" if i % 3 else "school"
        made.append(
            contacts.contact_create(
                actor=w.investigator,
                source_case_id=case.pk,
                person_id=person.pk,
                exposure_type=kind,
                relation="同事" if kind == "workplace" else "同学",
                first_exposure=_day(case) - dt.timedelta(days=3),
                last_exposure=_day(case) - dt.timedelta(days=1),
                frequency="工作日每天",
            )
        )
    return made


def _secondary(w: _World, contact: Contact, last: dt.date) -> list[Contact]:
    made = []
    for member in w.household_of(contact.person, limit=2):
        made.append(
            contacts.contact_create(
                actor=w.investigator,
                source_contact_id=contact.pk,
                person_id=member.pk,
                exposure_type="household",
                relation="密接者的同住家属",
                first_exposure=last - dt.timedelta(days=2),
                last_exposure=last,
            )
        )
    return made


def _decide_matches(w: _World, case: Case, *, leave_pending: int = 0) -> tuple[int, int]:
    """Confirm the case's matches (the long overlaps as close contacts), dismiss one,
    leave the last ``leave_pending`` for the investigator."""
    found = list(
        ExposureMatch.objects.filter(case=case, status=ExposureMatch.Status.PENDING).order_by(
            "-overlap_minutes", "pk"
        )
    )
    confirmed = dismissed = 0
    decide = found[: max(0, len(found) - leave_pending)]
    for i, m in enumerate(decide):
        if i == len(decide) - 1 and len(decide) > 3:
            matching.match_dismiss(
                actor=w.investigator,
                match_id=m.pk,
                reason="经核实为市场管理人员，全程佩戴N95口罩，无有效接触",
            )
            dismissed += 1
            continue
        category = "close" if m.overlap_minutes >= 30 else "venue_exposed"
        matching.match_confirm(actor=w.investigator, match_id=m.pk, category=category)
        confirmed += 1
    return confirmed, dismissed


def _summary() -> str:
    n_cases = Case.objects.filter(external_ref__startswith=MARKER).count()
    n_contacts = Contact.objects.count()
    n_clusters = Cluster.objects.count()
    due = FollowUp.objects.filter(date=_today(), status=FollowUp.Status.NOT_ATTEMPTED).count()
    pending = ExposureMatch.objects.filter(status=ExposureMatch.Status.PENDING).count()
    return (
        f"{n_cases} cases over two weeks, {n_contacts} contacts, {n_clusters} clusters "
        f"(“{CLUSTER_NAME}”), {pending} matches to review, {due} follow-up visits due today"
    )


def seed() -> str:
    if Case.objects.filter(external_ref__startswith=MARKER).exists():
        followup.followup_generate_daily()  # a later day: that day's list (as the 05:00 job)
        return "the demo outbreak is already there: " + _summary()
    district = demo_district()
    grids = outbreak_grids(6)
    if district is None or len(grids) < 2:
        return "no district to put the demo outbreak in"
    people = [
        list(Person.objects.active().under(g.path).select_related("home").order_by("pk"))
        for g in grids
    ]
    if sum(len(p) > 30 for p in people) < 2:
        return "too few residents for the demo outbreak"
    people = [p for p in people if len(p) > 30]
    venues: dict[str, list[Venue]] = {}
    for v in Venue.objects.filter(scope_path__startswith=district.path).order_by("pk"):
        venues.setdefault(v.category, []).append(v)
    if not venues:
        return "no venues for the demo outbreak"
    w = _World(
        rng=random.Random(DEMO_SEED * 18),
        investigator=demo_login("investigator"),
        officer=demo_login("district_officer"),
        people=people,
        venues=venues,
    )
    today = _today()
    market, restaurant = w.venue("market"), w.venue("restaurant")
    supermarket, school = w.venue("supermarket"), w.venue("school")
    n_grids = len(people)

    # --- Cluster 1: the market. The index case, reported 13 days ago. ---
    index = _new_case(w, w.take(0), reported=13)
    d_market = today - dt.timedelta(days=15)
    d_restaurant = today - dt.timedelta(days=14)
    _stop(w, index, market, d_market, 9)
    _stop(w, index, restaurant, d_restaurant, 18, 100)
    _home_stop(w, index, d_restaurant)
    rows = _visitors(w, market, _at(d_market, 9), 22, n_grids)
    rows += _visitors(w, restaurant, _at(d_restaurant, 18), 10, n_grids)
    checkins.checkins_ingest(rows, actor=w.officer, source_name="坞城路农贸市场、餐馆扫码记录")
    matching.match_case(actor=w.investigator, case_id=index.pk)
    _decide_matches(w, index)
    first_wave = _household_contacts(w, index, _day(index))

    # Second generation: close contacts from the market who fell ill (and the
    # index's household), each with a supermarket visit, a household and colleagues.
    venue_contacts = list(
        Contact.objects.filter(source_case=index, exposure_type="venue", category="close")
        .select_related("person")
        .order_by("pk")
    )
    second: list[Case] = []
    for k, contact in enumerate((first_wave[:1] + venue_contacts)[:7]):
        case = _new_case(
            w,
            contact.person,
            reported=11 - k,
            found_by="contact_monitoring",
            severity=["mild", "moderate", "mild", "mild", "severe", "mild", "moderate"][k],
        )
        second.append(case)
        _stop(w, case, supermarket, _day(case) - dt.timedelta(days=2), 10 + k, 60)
        _home_stop(w, case, _day(case) - dt.timedelta(days=1))
        _household_contacts(w, case, _day(case))
        for colleague in _work_contacts(w, case, 2 + k % 2, k):
            _secondary(w, colleague, _day(case))
    rows = []
    for k, case in enumerate(second):
        start = _at(_day(case) - dt.timedelta(days=2), 10 + k)
        rows += _visitors(w, supermarket, start, 4, n_grids)
    checkins.checkins_ingest(rows, actor=w.officer, source_name="超市扫码记录")
    matching.match_cases([c.pk for c in second], actor=w.investigator)
    for case in second:
        _decide_matches(w, case)

    # Third generation: contacts of the second who fell ill in the last days.
    third: list[Case] = []
    for k, case in enumerate(second[2:]):
        for j, contact in enumerate(
            Contact.objects.filter(source_case=case, status="monitoring", category="close")
            .select_related("person")
            .order_by("pk")[:2]
        ):
            reported = max(1, (today - _day(case)).days - 3 - j)
            found = "contact_monitoring" if j == 0 else "screening"
            new = _new_case(
                w,
                contact.person,
                reported=reported,
                found_by=found,
                facility="designated_hospital" if j == 0 else "shelter_hospital",
            )
            third.append(new)
            _household_contacts(w, new, _day(new), continuous=j == 1)
            for colleague in _work_contacts(w, new, 2, k + j):
                _secondary(w, colleague, _day(new))
    # The newest case visited a school yesterday: its matches wait for review.
    latest = third[-1] if third else second[-1]
    visit = _at(today - dt.timedelta(days=1), 15)
    _stop(w, latest, school, visit.date(), 15, 120)
    checkins.checkins_ingest(
        _visitors(w, school, visit + dt.timedelta(minutes=30), 10, n_grids),
        actor=w.officer,
        source_name="学校扫码记录",
    )
    matching.match_case(actor=w.investigator, case_id=latest.pk)

    # Name the market cluster (computed from the chain).
    cluster = Case.objects.get(pk=index.pk).cluster
    if cluster is not None:
        clusters.cluster_name(actor=w.investigator, cluster_id=cluster.pk, name=CLUSTER_NAME)

    # --- Cluster 2: an office in another grid, 8 days ago (not named yet). ---
    other = _new_case(w, w.take(1), reported=8, found_by="screening", facility="home")
    _stop(w, other, restaurant, _day(other) - dt.timedelta(days=2), 12, 60)
    _household_contacts(w, other, _day(other), continuous=True)
    colleagues = _work_contacts(w, other, 4, 1)
    for j, contact in enumerate(colleagues[:3]):
        case = _new_case(w, contact.person, reported=6 - 2 * j, found_by="contact_monitoring")
        _household_contacts(w, case, _day(case))
        for c in _work_contacts(w, case, 2, 1 + j):
            _secondary(w, c, _day(case))

    # --- Sporadic cases ---
    _new_case(
        w,
        w.take(2),
        reported=4,
        classification="asymptomatic",
        found_by="screening",
        facility="shelter_hospital",
    )
    excluded = _new_case(w, w.take(3), reported=5, classification="suspected", facility="none")
    cases.case_classify(
        actor=w.investigator,
        case_id=excluded.pk,
        classification="excluded",
        reason="两次核酸检测阴性，排除诊断",
    )
    for back, found in ((0, "fever_clinic"), (1, "screening")):
        _new_case(
            w,
            w.take(4 + back),
            reported=back,
            classification="suspected",
            found_by=found,
            facility="none",
        )

    # The earliest cases recovered and were released.
    for case in [index, *second[:2]]:
        cases.case_release(
            actor=w.investigator, case_id=case.pk, released_at=today - dt.timedelta(days=1)
        )
        cases.case_set_outcome(
            actor=w.investigator,
            case_id=case.pk,
            outcome="recovered",
            outcome_date=today - dt.timedelta(days=1),
        )

    # --- Follow-up: a team, the last two days recorded, today's visits due. ---
    grid_worker = demo_login("grid_worker")
    followup.followup_team_create(
        actor=w.officer,
        name="小店区密接随访组",
        jurisdiction_id=district.pk,
        member_ids=[w.investigator.pk, grid_worker.pk],
    )
    for back in (2, 1):
        day = today - dt.timedelta(days=back)
        followup.followup_generate_daily(day)
        for i, fu in enumerate(FollowUp.objects.filter(date=day).order_by("pk")):
            status = "seen_well" if i % 9 else "not_reached"
            followup.followup_record(
                actor=w.investigator,
                followup_id=fu.pk,
                status=status,
                temperature="36.6" if status == "seen_well" else None,
            )
    followup.followup_generate_daily(today)
    for fu in FollowUp.objects.filter(date=today).order_by("pk")[:3]:
        followup.followup_record(
            actor=w.investigator, followup_id=fu.pk, status="seen_well", temperature="36.5"
        )
    return _summary()
