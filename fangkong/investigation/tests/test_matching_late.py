"""Matches follow late data.

Check-in logs arrive hours late and phones send scans late: new or widened
visits at a venue and time that a matched stop of an open case reaches update
that case's matches at once (new matches proposed for review, marked as found in
late check-ins; extended ones widened, the overlap before kept), and a re-run
widens an already matched visit that late data extended. The property test
uploads random late rows after matching and compares the case's matches with a
brute-force computation over the check-ins stored."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.conftest import client_for, make_person
from fangkong.core import signing
from fangkong.core.models import AuditEntry
from fangkong.investigation.models import Case, CheckIn, ExposureMatch
from fangkong.investigation.services.checkins import checkin_scan, checkins_ingest
from fangkong.investigation.services.matching import match_case
from fangkong.investigation.services.venues import venue_code_issue
from fangkong.investigation.tests.checkins_support import (
    make_case,
    make_checkin,
    make_stop,
    make_venue,
)
from fangkong.investigation.tests.test_matching import brute_force

pytestmark = pytest.mark.django_db

LOCAL = dt.timezone(dt.timedelta(hours=8))
# Onset 2022-10-05, report 2022-10-06: infectious until the end of 2022-10-06 (local).
BASE = dt.datetime(2022, 10, 6, 8, 0, tzinfo=LOCAL)
NOW = BASE + dt.timedelta(hours=14)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def minutes(n: int) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def row(
    venue: Any, person: Any, time: dt.datetime, left: dt.datetime | None = None
) -> dict[str, Any]:
    out = {"venue": str(venue.pk), "person_id": str(person.pk), "time": time.isoformat()}
    if left is not None:
        out["left_at"] = left.isoformat()
    return out


def test_a_late_log_widens_a_matched_visit_and_proposes_new_people(
    city: Any, investigator: Any, commander: Any
) -> None:
    """The issue's case: matched at 90 minutes, a late log makes it 150; and a
    person nobody had seen there is proposed, both without a re-run."""
    venue = make_venue(city.xd_building)
    case = make_case(make_person(city.xd_building))
    stop = make_stop(case, venue, BASE + minutes(60), BASE + minutes(240))
    seen, late = make_person(city.xd_building), make_person(city.xd_building)
    make_checkin(venue, seen, BASE + minutes(60), left_at=BASE + minutes(150))
    with time_machine.travel(NOW, tick=False):
        match_case(actor=investigator, case_id=case.pk)
        first = ExposureMatch.objects.get(case=case)
        assert (first.overlap_minutes, first.found_late, first.revised_at) == (90, False, None)
        report = checkins_ingest(
            [
                row(venue, seen, BASE + minutes(65), BASE + minutes(210)),
                row(venue, late, BASE + minutes(100), BASE + minutes(130)),
            ],
            actor=commander,
        )
    assert (report.extended, report.inserted) == (1, 1)
    assert (report.matches_widened, report.matches_found) == (1, 1)
    widened = ExposureMatch.objects.get(case=case, person=seen)
    assert (widened.overlap_minutes, widened.previous_overlap_minutes) == (150, 90)
    assert widened.revised_at == NOW and not widened.found_late
    assert widened.status == ExposureMatch.Status.PENDING
    new = ExposureMatch.objects.get(case=case, person=late)
    assert (new.overlap_minutes, new.found_late, new.stop_id) == (30, True, stop.pk)
    assert AuditEntry.objects.filter(action="match.follow").count() == 1
    # The case page says what changed and why.
    response = client_for(investigator).get(
        f"/investigation/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en"
    )
    page = response.content.decode()
    assert "Found in late check-ins" in page
    assert "90 → 150" in page


def test_a_rerun_widens_what_late_data_extended(city: Any, investigator: Any) -> None:
    venue = make_venue(city.xd_building)
    case = make_case(make_person(city.xd_building))
    make_stop(case, venue, BASE + minutes(60), BASE + minutes(240))
    person = make_person(city.xd_building)
    visit = make_checkin(venue, person, BASE + minutes(60), left_at=BASE + minutes(150))
    with time_machine.travel(NOW, tick=False):
        match_case(actor=investigator, case_id=case.pk)
        # Written behind the services' back (say a restore): a re-run still follows.
        CheckIn.objects.filter(pk=visit.pk).update(left_at=BASE + minutes(210))
        result = match_case(actor=investigator, case_id=case.pk)
    assert (result.created, result.updated) == (0, 1)
    assert ExposureMatch.objects.get(case=case).overlap_minutes == 150


def test_a_live_scan_sent_late_proposes_a_match(
    city: Any, investigator: Any, commander: Any
) -> None:
    venue = make_venue(city.xd_building)
    _code, token = venue_code_issue(actor=commander, venue_id=venue.pk)
    case = make_case(make_person(city.xd_building))
    make_stop(case, venue, NOW - minutes(300), NOW - minutes(200))
    person = make_person(city.xd_building)
    with time_machine.travel(NOW, tick=False):
        match_case(actor=investigator, case_id=case.pk)
        assert not ExposureMatch.objects.exists()
        checkin_scan(
            venue_token=token,
            person_token=signing.person_token(person.pk),
            when=NOW - minutes(250),  # a phone that was offline
        )
        match = ExposureMatch.objects.get(case=case)
        assert match.person_id == person.pk and match.found_late
        # A scan now, long after the stop, changes nothing.
        checkin_scan(venue_token=token, person_token=signing.person_token(person.pk))
    assert ExposureMatch.objects.count() == 1


def test_closed_and_unmatched_cases_do_not_follow(
    city: Any, investigator: Any, commander: Any
) -> None:
    venue = make_venue(city.xd_building)
    closed = make_case(make_person(city.xd_building))
    make_stop(closed, venue, BASE + minutes(60), BASE + minutes(120))
    unmatched = make_case(make_person(city.xd_building))
    make_stop(unmatched, venue, BASE + minutes(60), BASE + minutes(120))
    person = make_person(city.xd_building)
    with time_machine.travel(NOW, tick=False):
        match_case(actor=investigator, case_id=closed.pk)
        Case.objects.filter(pk=closed.pk).update(
            investigation_status=Case.InvestigationStatus.COMPLETED
        )
        report = checkins_ingest([row(venue, person, BASE + minutes(70))], actor=commander)
    assert report.matches_found == 0
    assert not ExposureMatch.objects.exists()


def test_a_late_check_out_that_shortens_a_matched_visit_keeps_the_overlap_found(
    city: Any, investigator: Any, commander: Any
) -> None:
    """A live scan has no check-out: the visit lasts the assumed stay (30 minutes) and
    is matched on it. A log with the person's check-in five minutes earlier and the
    check-out a minute after the scan arrives: the visit now ends at the check-out,
    and the match keeps the 30 minutes found (a match is never narrowed; the
    property test below allows for it)."""
    venue = make_venue(city.xd_building)
    _code, token = venue_code_issue(actor=commander, venue_id=venue.pk)
    case = make_case(make_person(city.xd_building))
    stop = make_stop(case, venue, BASE + minutes(60), BASE + minutes(200))
    person = make_person(city.xd_building)
    with time_machine.travel(NOW, tick=False):
        checkin_scan(
            venue_token=token,
            person_token=signing.person_token(person.pk),
            when=BASE + minutes(100),
        )
        match_case(actor=investigator, case_id=case.pk)
        assert ExposureMatch.objects.get(case=case).overlap_minutes == 30
        checkins_ingest(
            [row(venue, person, BASE + minutes(95), BASE + minutes(101))], actor=commander
        )
    visit = CheckIn.objects.get(venue=venue, person=person)
    assert (visit.time, visit.left_at) == (BASE + minutes(95), BASE + minutes(101))
    assert brute_force(case, case.rules, [stop], [visit]) == {(stop.pk, person.pk): 6}
    # The window reaches back to the earlier check-in; the overlap stays as found.
    match = ExposureMatch.objects.get(case=case)
    assert (match.overlap_minutes, match.window_start) == (30, BASE + minutes(95))


uploads = st.lists(
    st.tuples(
        st.sampled_from(["file", "live"]),
        st.integers(0, 3),  # person
        st.integers(0, 1),  # venue
        st.one_of(st.integers(40, 100), st.integers(0, 600)),  # minute of the scan
        st.one_of(st.none(), st.integers(1, 240)),  # minutes to the check-out (files)
    ),
    min_size=1,
    max_size=10,
)
stops = st.lists(
    st.tuples(st.integers(0, 1), st.integers(0, 500), st.integers(0, 180)),
    min_size=1,
    max_size=3,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(before=uploads, late=uploads, stop_specs=stops)
def test_matches_after_late_uploads_equal_a_brute_force_computation(
    city: Any,
    investigator: Any,
    commander: Any,
    before: list[Any],
    late: list[Any],
    stop_specs: list[Any],
) -> None:
    with transaction.atomic():
        venues = [make_venue(city.xd_building, name=f"场所{i}") for i in range(2)]
        tokens = [venue_code_issue(actor=commander, venue_id=v.pk)[1] for v in venues]
        people = [make_person(city.xd_building) for _ in range(4)]
        case = make_case(make_person(city.xd_building))
        stop_rows = [
            make_stop(case, venues[v], BASE + minutes(s), BASE + minutes(s + length))
            for v, s, length in stop_specs
        ]

        # A match is never narrowed: a late check-out can shorten a visit matched on
        # its assumed stay (see the test above), so a match holds the largest overlap
        # the check-ins gave it after any upload since it was found.
        peak: dict[tuple[int, int], int] = {}

        def note_peak() -> None:
            for key, overlap in expected().items():
                peak[key] = max(overlap, peak.get(key, 0))

        def upload(ops: list[Any], *, tracked: bool = False) -> None:
            files = []
            for channel, p, v, start, out in ops:
                t = BASE + minutes(start)
                if channel == "live":
                    checkin_scan(
                        venue_token=tokens[v],
                        person_token=signing.person_token(people[p].pk),
                        when=t,
                    )
                    if tracked:
                        note_peak()  # each live scan is followed at once
                else:
                    left = None if out is None else t + minutes(out)
                    files.append(row(venues[v], people[p], t, left))
            if files:
                checkins_ingest(files, actor=commander)
                if tracked:
                    note_peak()

        def expected() -> dict[tuple[int, int], int]:
            checkins = list(CheckIn.objects.filter(venue__in=venues))
            found = brute_force(case, case.rules, stop_rows, checkins)
            return {k: n for k, n in found.items() if n > 0}

        with time_machine.travel(NOW, tick=False):
            upload(before)
            match_case(actor=investigator, case_id=case.pk)
            before_late = {
                (m.stop_id, m.person_id): m for m in ExposureMatch.objects.filter(case=case)
            }
            first = {k: m.overlap_minutes for k, m in before_late.items()}
            assert first == expected()
            peak.update(first)
            upload(late, tracked=True)  # no re-run: the matches follow
        matches = {(m.stop_id, m.person_id): m for m in ExposureMatch.objects.filter(case=case)}
        assert {k: m.overlap_minutes for k, m in matches.items()} == peak
        for key, m in matches.items():
            assert m.found_late == (key not in first)
            if key in first and m.overlap_minutes > first[key]:
                assert m.revised_at is not None and m.previous_overlap_minutes is not None
                assert first[key] <= m.previous_overlap_minutes < m.overlap_minutes
            elif key in first:
                # Unchanged, or only its window reaches further (a shortened visit).
                was = before_late[key]
                moved = m.window_start < was.window_start or m.window_end > was.window_end
                assert (m.revised_at is not None) == moved
        transaction.set_rollback(True)
