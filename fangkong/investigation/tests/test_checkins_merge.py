"""Merging scans into visits keeps the union of what every row says.

A check-in log row or a live scan of a person at a venue within 10 minutes of a
visit already stored joins it: the earliest check-in, the latest last scan, the
latest check-out; never less than either alone, never more than 12 hours. The
property test loads random rows through two files and live scans, in any order,
and checks the stored visits against the rows themselves (brute force): every
row's times lie inside one visit, no visit holds a time no row gave, and the
co-presence match of a case's stop covers every row's stay."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.conftest import make_person
from fangkong.core import signing
from fangkong.investigation.models import CheckIn, ExposureMatch
from fangkong.investigation.services.checkins import (
    MAX_VISIT_LENGTH,
    checkin_scan,
    checkins_ingest,
)
from fangkong.investigation.services.matching import match_case
from fangkong.investigation.services.venues import venue_code_issue
from fangkong.investigation.tests.checkins_support import (
    make_case,
    make_checkin,
    make_stop,
    make_venue,
)

pytestmark = pytest.mark.django_db

LOCAL = dt.timezone(dt.timedelta(hours=8))
BASE = dt.datetime(2022, 10, 6, 6, 0, tzinfo=LOCAL)  # the rows' minute 0
NOW = BASE + dt.timedelta(hours=16)


def minutes(n: int) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def row(
    venue: Any, person: Any, time: dt.datetime, left: dt.datetime | None = None
) -> dict[str, Any]:
    out = {"venue": str(venue.pk), "person_id": str(person.pk), "time": time.isoformat()}
    if left is not None:
        out["left_at"] = left.isoformat()
    return out


def test_a_later_file_with_the_check_out_is_not_lost(city: Any, investigator: Any) -> None:
    """The issue's reproduction: file one scans at 08:50, file two has the same
    person at 08:55 checking out at 10:30; a case's stop 10:00-11:00 (window
    09:30-11:30) finds them for 60 minutes."""
    venue = make_venue(city.xd_building)
    person = make_person(city.xd_building)
    day = dt.datetime(2022, 10, 6, tzinfo=LOCAL)
    with time_machine.travel(day + dt.timedelta(hours=20), tick=False):
        checkins_ingest([row(venue, person, day.replace(hour=8, minute=50))])
        report = checkins_ingest(
            [row(venue, person, day.replace(hour=8, minute=55), day.replace(hour=10, minute=30))]
        )
    assert (report.inserted, report.extended, report.duplicates) == (0, 1, 1)
    visit = CheckIn.objects.get()
    assert visit.time == day.replace(hour=8, minute=50)
    assert visit.last_scan_at == day.replace(hour=8, minute=55)
    assert visit.left_at == day.replace(hour=10, minute=30)
    case = make_case(make_person(city.xd_building))
    make_stop(case, venue, day.replace(hour=10), day.replace(hour=11))
    match_case(actor=investigator, case_id=case.pk)
    match = ExposureMatch.objects.get(case=case)
    assert (match.person_id, match.overlap_minutes) == (person.pk, 60)


def test_a_live_scan_sent_late_keeps_the_earlier_check_in(city: Any, commander: Any) -> None:
    venue = make_venue(city.xd_building)
    person = make_person(city.xd_building)
    _code, token = venue_code_issue(actor=commander, venue_id=venue.pk)
    make_checkin(venue, person, NOW - minutes(30), left_at=NOW - minutes(5))
    with time_machine.travel(NOW, tick=False):
        result = checkin_scan(
            venue_token=token,
            person_token=signing.person_token(person.pk),
            when=NOW - minutes(38),
        )
    assert result.visits[0].extended
    visit = CheckIn.objects.get()
    assert visit.time == NOW - minutes(38)  # the phone's earlier scan
    assert visit.last_scan_at == NOW - minutes(30)
    assert visit.left_at == NOW - minutes(5)


def test_a_merge_never_makes_a_visit_longer_than_twelve_hours(city: Any) -> None:
    venue = make_venue(city.xd_building)
    person = make_person(city.xd_building)
    scans = [BASE - minutes(9 * 80) + minutes(9 * i) for i in range(100)]  # 15 hours
    with time_machine.travel(NOW, tick=False):
        report = checkins_ingest([row(venue, person, t) for t in scans])
    visits = list(CheckIn.objects.order_by("time"))
    assert report.inserted == len(visits) == 2
    assert all(v.last_scan_at - v.time <= MAX_VISIT_LENGTH for v in visits)
    assert visits[0].time == scans[0] and visits[-1].last_scan_at == scans[-1]


def test_a_check_out_before_a_later_scan_does_not_end_the_visit(
    city: Any, investigator: Any
) -> None:
    """Checked in at 08:50, out at 08:55 and scanned again at 09:00: the visit goes
    on from the last scan (for the assumed stay), as the later row alone says."""
    venue = make_venue(city.xd_building)
    person = make_person(city.xd_building)
    day = dt.datetime(2022, 10, 6, tzinfo=LOCAL)
    at = day.replace(hour=8, minute=50)
    with time_machine.travel(day + dt.timedelta(hours=20), tick=False):
        checkins_ingest([row(venue, person, at, at + minutes(5))])
        checkins_ingest([row(venue, person, at + minutes(10))])
    visit = CheckIn.objects.get()
    assert (visit.last_scan_at, visit.left_at) == (at + minutes(10), at + minutes(5))
    case = make_case(make_person(city.xd_building))
    stay = case.rules.assumed_stay_minutes
    buffer = case.rules.copresence_buffer_minutes
    start = at + minutes(10) + minutes(buffer + stay - 10)
    make_stop(case, venue, start, start + minutes(60))
    match_case(actor=investigator, case_id=case.pk)
    assert ExposureMatch.objects.get(case=case).overlap_minutes == 10


rows_strategy = st.lists(
    st.tuples(
        st.integers(0, 1),  # person
        st.integers(0, 1),  # venue
        # minute of the check-in: mostly close together, sometimes hours apart
        st.one_of(st.integers(0, 30), st.integers(0, 900)),
        st.one_of(st.none(), st.integers(1, 720)),  # minutes to the check-out
        st.sampled_from(["file1", "file2", "live"]),
    ),
    min_size=1,
    max_size=14,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=rows_strategy, order=st.permutations(["file1", "live", "file2"]))
def test_merged_visits_keep_every_rows_facts(
    city: Any, commander: Any, investigator: Any, rows: list[Any], order: list[str]
) -> None:
    with transaction.atomic():
        venues = [make_venue(city.xd_building, name=f"场所{i}") for i in range(2)]
        people = [make_person(city.xd_building) for _ in range(2)]
        tokens = [venue_code_issue(actor=commander, venue_id=v.pk)[1] for v in venues]
        facts: list[tuple[int, int, dt.datetime, dt.datetime | None]] = []
        for p, v, start, out, channel in rows:
            t = BASE + minutes(start)
            left = None if out is None or channel == "live" else t + minutes(out)
            facts.append((p, v, t, left))
        with time_machine.travel(NOW, tick=False):
            for channel in order:
                mine = [(p, v, BASE + minutes(s), o) for p, v, s, o, c in rows if c == channel]
                if channel == "live":
                    for p, v, t, _o in mine:
                        checkin_scan(
                            venue_token=tokens[v],
                            person_token=signing.person_token(people[p].pk),
                            when=t,
                        )
                elif mine:
                    checkins_ingest(
                        [
                            row(venues[v], people[p], t, None if o is None else t + minutes(o))
                            for p, v, t, o in mine
                        ]
                    )
        stored = list(CheckIn.objects.filter(venue__in=venues))
        for p, v, t, left in facts:
            pair = [c for c in stored if (c.person_id, c.venue_id) == (people[p].pk, venues[v].pk)]
            last_fact = max(t, left or t)
            assert any(
                c.time <= t and last_fact <= max(c.last_scan_at, c.left_at or c.last_scan_at)
                for c in pair
            ), (t, left, [(c.time, c.last_scan_at, c.left_at) for c in pair])
        for c in stored:
            p = next(i for i, x in enumerate(people) if x.pk == c.person_id)
            v = next(i for i, x in enumerate(venues) if x.pk == c.venue_id)
            given_times = {t for pp, vv, t, _l in facts if (pp, vv) == (p, v)}
            given_lefts = {left for pp, vv, _t, left in facts if (pp, vv) == (p, v)}
            assert c.time in given_times and c.last_scan_at in given_times
            assert c.left_at is None or c.left_at in given_lefts
            assert max(c.last_scan_at, c.left_at or c.last_scan_at) - c.time <= MAX_VISIT_LENGTH

        # A case at each venue all that time finds each person for at least the
        # union of their rows' stays there.
        case = make_case(make_person(city.xd_building), report_date=dt.date(2022, 10, 7))
        lo, hi = BASE - dt.timedelta(hours=1), BASE + dt.timedelta(hours=30)
        stops = {v: make_stop(case, venues[v], lo, hi) for v in range(2)}
        match_case(actor=investigator, case_id=case.pk)
        got = {
            (m.stop_id, m.person_id): m.overlap_minutes
            for m in ExposureMatch.objects.filter(case=case)
        }
        for v in range(2):
            for p in range(2):
                spans = sorted(
                    (t, max(t, left or t)) for pp, vv, t, left in facts if (pp, vv) == (p, v)
                )
                if not spans:
                    assert (stops[v].pk, people[p].pk) not in got
                    continue
                covered = dt.timedelta(0)
                cur_s, cur_e = spans[0]
                for s, e in spans[1:]:
                    if s > cur_e:
                        covered += cur_e - cur_s
                        cur_s, cur_e = s, e
                    else:
                        cur_e = max(cur_e, e)
                covered += cur_e - cur_s
                assert got[(stops[v].pk, people[p].pk)] >= covered // minutes(1)
        transaction.set_rollback(True)
