import datetime as dt

import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.conftest import make_person
from fangkong.core.audit import request_context
from fangkong.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from fangkong.core.models import AuditEntry, Person
from fangkong.investigation.models import (
    CheckIn,
    Contact,
    ExposureMatch,
    TrajectoryStop,
    TravelRecord,
    Venue,
)
from fangkong.investigation.selectors.matching import match_list_for
from fangkong.investigation.services.matching import (
    match_case,
    match_cases,
    match_confirm,
    match_dismiss,
    seat_row,
)
from fangkong.investigation.tests.checkins_support import (
    make_case,
    make_checkin,
    make_stop,
    make_venue,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# Onset 2022-10-05, COVID rules: infectious from 2022-10-03 (local) until the end
# of the report date 2022-10-06; buffer 30 min, assumed stay 30 min.
STOP_START = dt.datetime(2022, 10, 5, 10, 0, tzinfo=dt.UTC)
STOP_END = STOP_START + dt.timedelta(hours=1)


def minutes(n):
    return dt.timedelta(minutes=n)


@pytest.fixture
def venue(city):
    return make_venue(city.xd_building)


@pytest.fixture
def case(city):
    return make_case(make_person(city.xd_building, name="病例"))


@pytest.fixture
def stop(case, venue):
    return make_stop(case, venue, STOP_START, STOP_END)


@pytest.mark.parametrize("async_commit", [False, True], ids=["flush", "no-flush-wait"])
def test_people_at_the_venue_during_the_widened_stop_are_matched(
    city, case, venue, stop, investigator, settings, async_commit
):
    # The operator's choice of not waiting for the WAL flush changes nothing visible.
    settings.FANGKONG_MATCH_ASYNC_COMMIT = async_commit
    inside = make_person(city.xd_building, name="同时段")
    in_buffer = make_person(city.xd_building, name="缓冲期内")
    too_late = make_person(city.xd_building, name="太晚")
    make_checkin(venue, inside, STOP_START + minutes(10), left_at=STOP_START + minutes(40))
    # Left 10 minutes before the case arrived: inside the 30-minute buffer.
    make_checkin(venue, in_buffer, STOP_START - minutes(60), left_at=STOP_START - minutes(10))
    make_checkin(venue, too_late, STOP_END + minutes(31))
    make_checkin(venue, case.person, STOP_START)  # the case's own check-in
    with request_context("req-match-1", "10.1.2.3"):
        result = match_case(actor=investigator, case_id=case.pk)
    assert result.created == 2
    got = {m.person_id: m for m in ExposureMatch.objects.all()}
    assert set(got) == {inside.pk, in_buffer.pk}
    assert got[inside.pk].overlap_minutes == 30
    assert got[in_buffer.pk].overlap_minutes == 20  # from 09:30 (widened start) to 09:50
    assert got[in_buffer.pk].window_start == STOP_START - minutes(30)
    assert got[inside.pk].rules_id == case.rules_id
    assert got[inside.pk].venue_id == venue.pk
    # The run's audit row (on PostgreSQL written by the matching statement itself).
    audit = AuditEntry.objects.get(action="match.run")
    assert (audit.actor_id, audit.actor_username) == (investigator.pk, investigator.username)
    assert (audit.object_type, audit.object_id) == ("investigation.case", str(case.pk))
    assert (audit.scope_path, audit.person_id) == (case.scope_path, case.person_id)
    assert audit.changes == {"found": [None, 2], "created": [None, 2], "updated": [None, 0]}
    assert (audit.request_id, audit.client_ip) == ("req-match-1", "10.1.2.3")
    assert audit.actor_roles and audit.actor_jurisdiction_path
    stop.refresh_from_db()
    assert stop.matched_at is not None


def test_a_check_in_without_check_out_counts_the_assumed_stay(
    city, case, venue, stop, investigator
):
    p = make_person(city.xd_building, name="未签出")
    # Scanned at 08:50 and again at 09:05: assumed to stay until 09:35, five
    # minutes into the widened window (from 09:30).
    make_checkin(venue, p, STOP_START - minutes(70), last_scan_at=STOP_START - minutes(55))
    q = make_person(city.xd_building, name="更早")
    make_checkin(venue, q, STOP_START - minutes(61))  # assumed gone by 09:29
    match_case(actor=investigator, case_id=case.pk)
    m = ExposureMatch.objects.get()
    assert m.person_id == p.pk and m.overlap_minutes == 5
    assert m.window_end == STOP_START - minutes(25)


def test_stops_outside_the_infectious_period_are_not_matched(city, case, venue, investigator):
    early = dt.datetime(2022, 9, 30, 10, 0, tzinfo=dt.UTC)
    make_stop(case, venue, early, early + dt.timedelta(hours=1))
    make_checkin(venue, make_person(city.xd_building), early + minutes(5))
    assert match_case(actor=investigator, case_id=case.pk).created == 0
    assert not ExposureMatch.objects.exists()


def test_matching_again_after_a_new_stop_adds_only_the_new_matches(
    city, case, venue, stop, investigator
):
    p1 = make_person(city.xd_building, name="甲")
    make_checkin(venue, p1, STOP_START + minutes(5))
    assert match_case(actor=investigator, case_id=case.pk).created == 1
    first = ExposureMatch.objects.get()
    match_dismiss(actor=investigator, match_id=first.pk, reason="在室外")
    assert match_case(actor=investigator, case_id=case.pk).created == 0
    later = STOP_START + dt.timedelta(hours=5)
    make_stop(case, venue, later, later + minutes(30))
    p2 = make_person(city.xd_building, name="乙")
    make_checkin(venue, p2, later + minutes(10))
    assert match_case(actor=investigator, case_id=case.pk).created == 1
    assert ExposureMatch.objects.count() == 2
    first.refresh_from_db()
    assert first.status == ExposureMatch.Status.DISMISSED  # decisions survive re-runs


def test_the_list_is_ranked_by_overlap_minutes(city, case, venue, stop, investigator):
    short = make_person(city.xd_building, name="短")
    long = make_person(city.xd_building, name="长")
    make_checkin(venue, short, STOP_START, left_at=STOP_START + minutes(5))
    make_checkin(venue, long, STOP_START, left_at=STOP_START + minutes(50))
    match_case(actor=investigator, case_id=case.pk)
    ranked = list(match_list_for(investigator, case.pk))
    assert [m.person_id for m in ranked] == [long.pk, short.pk]


def test_fellow_passengers_within_the_seat_rows_are_matched(city, case, investigator):
    departure = dt.datetime(2022, 10, 5, 2, 0, tzinfo=dt.UTC)
    TrajectoryStop.objects.create(
        case=case,
        kind=TrajectoryStop.Kind.TRANSPORT,
        start=departure,
        end=departure + dt.timedelta(hours=3),
        transport_mode="train",
        transport_number="G92",
        carriage="05",
        seat="12A",
    )
    near = make_person(city.xd_building, name="邻座")
    far = make_person(city.xd_building, name="远座")
    other_car = make_person(city.xd_building, name="别的车厢")
    other_day = make_person(city.xd_building, name="第二天")
    for person, carriage, row, day in (
        (near, "05", 14, 0),
        (far, "05", 20, 0),
        (other_car, "06", 12, 0),
        (other_day, "05", 12, 1),
    ):
        TravelRecord.objects.create(
            person=person,
            mode="train",
            number="G92",
            departure=departure + dt.timedelta(days=day),
            arrival=departure + dt.timedelta(days=day, hours=3),
            carriage=carriage,
            seat=f"{row}B",
            seat_row=row,
        )
    match_case(actor=investigator, case_id=case.pk)
    m = ExposureMatch.objects.get()
    assert m.person_id == near.pk and m.kind == "transport" and m.overlap_minutes == 180


def test_a_case_with_venue_and_transport_stops_is_matched_in_one_run_with_one_audit_row(
    city, case, venue, stop, investigator
):
    # On PostgreSQL the one-statement path writes nothing for such a case and the
    # run goes through one transaction: both kinds of matches, one audit row.
    departure = dt.datetime(2022, 10, 5, 2, 0, tzinfo=dt.UTC)
    train = TrajectoryStop.objects.create(
        case=case,
        kind=TrajectoryStop.Kind.TRANSPORT,
        start=departure,
        end=departure + dt.timedelta(hours=3),
        transport_mode="train",
        transport_number="G92",
        carriage="05",
        seat="12A",
    )
    passenger = make_person(city.xd_building, name="同车")
    TravelRecord.objects.create(
        person=passenger,
        mode="train",
        number="G92",
        departure=departure,
        arrival=departure + dt.timedelta(hours=3),
        carriage="05",
        seat="13B",
        seat_row=13,
    )
    visitor = make_person(city.xd_building, name="同场所")
    make_checkin(venue, visitor, STOP_START + minutes(5))
    result = match_case(actor=investigator, case_id=case.pk)
    assert (result.found, result.created, result.updated) == (2, 2, 0)
    got = {m.person_id: m.kind for m in ExposureMatch.objects.all()}
    assert got == {visitor.pk: "venue", passenger.pk: "transport"}
    audit = AuditEntry.objects.get(action="match.run")
    assert audit.changes == {"found": [None, 2], "created": [None, 2], "updated": [None, 0]}
    assert not TrajectoryStop.objects.filter(pk__in=[stop.pk, train.pk], matched_at=None).exists()


def test_a_run_on_postgresql_prepares_its_statement_once_and_again_when_it_was_dropped(
    transactional_db, city, case, venue, stop, investigator, settings
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")

    def run_with_a_new_visitor(i):
        make_checkin(venue, make_person(city.xd_building, name=f"访客{i}"), STOP_START)
        with CaptureQueriesContext(connection) as queries:
            result = match_case(actor=investigator, case_id=case.pk)
        assert result.created == 1
        return [q["sql"].split(" ", 1)[0] for q in queries.captured_queries]

    run_with_a_new_visitor(0)
    # The case read, then the prepared statement by name.
    assert run_with_a_new_visitor(1) == ["SELECT", "EXECUTE"]
    with connection.cursor() as cur:
        cur.execute("DEALLOCATE ALL")  # as a pooler's DISCARD ALL would
    assert run_with_a_new_visitor(2) == ["SELECT", "EXECUTE", "PREPARE", "EXECUTE"]
    settings.FANGKONG_DB_PREPARE = False  # behind a pooler in transaction mode
    assert run_with_a_new_visitor(3) == ["SELECT", "WITH"]
    assert ExposureMatch.objects.count() == 4
    assert AuditEntry.objects.filter(action="match.run").count() == 4


def test_seat_rows_are_read_from_seat_labels():
    assert seat_row("12A") == 12 and seat_row("03F") == 3 and seat_row("") is None


def test_confirming_a_match_makes_the_person_a_venue_exposed_contact(
    city, case, venue, stop, investigator
):
    p = make_person(city.xd_building, name="确认")
    make_checkin(venue, p, STOP_START + minutes(5))
    match_case(actor=investigator, case_id=case.pk)
    m = ExposureMatch.objects.get()
    contact = match_confirm(actor=investigator, match_id=m.pk)
    assert isinstance(contact, Contact)
    assert contact.person_id == p.pk and contact.source_case_id == case.pk
    assert contact.exposure_type == "venue" and contact.match_id == m.pk
    m.refresh_from_db()
    assert m.status == "confirmed" and m.decided_by == investigator
    with pytest.raises(Conflict):
        match_confirm(actor=investigator, match_id=m.pk)
    assert AuditEntry.objects.filter(action="match.confirm").count() == 1


def test_dismissing_needs_a_reason(city, case, venue, stop, investigator):
    make_checkin(venue, make_person(city.xd_building), STOP_START + minutes(5))
    match_case(actor=investigator, case_id=case.pk)
    m = ExposureMatch.objects.get()
    with pytest.raises(ValidationFailed):
        match_dismiss(actor=investigator, match_id=m.pk, reason="")
    match_dismiss(actor=investigator, match_id=m.pk, reason="店外排队")
    m.refresh_from_db()
    assert m.status == "dismissed"
    assert AuditEntry.objects.get(action="match.dismiss").reason == "店外排队"


def test_cases_and_matches_of_another_district_do_not_exist(
    city, case, venue, stop, investigator, yingze_officer
):
    make_checkin(venue, make_person(city.xd_building), STOP_START + minutes(5))
    from fangkong.conftest import make_staff

    yz_investigator = make_staff("yz_inv", city.yingze, "investigator")
    with pytest.raises(NotFound):
        match_case(actor=yz_investigator, case_id=case.pk)
    match_case(actor=investigator, case_id=case.pk)
    m = ExposureMatch.objects.get()
    with pytest.raises(NotFound):
        match_dismiss(actor=yz_investigator, match_id=m.pk, reason="x")
    with pytest.raises(PermissionDenied):
        match_case(actor=yingze_officer, case_id=case.pk)


def test_the_batch_job_matches_many_cases(city, venue, investigator):
    cases = []
    for i in range(3):
        c = make_case(make_person(city.xd_building, name=f"病例{i}"))
        start = STOP_START + dt.timedelta(hours=2 * i)
        make_stop(c, venue, start, start + minutes(30))
        make_checkin(venue, make_person(city.xd_building, name=f"访客{i}"), start + minutes(1))
        cases.append(c)
    result = match_cases([c.pk for c in cases])
    # Each visitor overlaps their own case's stop; none overlaps the others (2 h apart).
    assert result.created == 3
    assert ExposureMatch.objects.count() == 3
    assert match_cases([c.pk for c in cases]).created == 0
    assert AuditEntry.objects.filter(action="match.batch").count() == 2


# --- Matching equals a brute-force computation on random data --------------------

BASE = dt.datetime(2022, 10, 4, 0, 0, tzinfo=dt.UTC)

visits = st.lists(
    st.tuples(
        st.integers(0, 2),  # venue
        st.integers(0, 5),  # person
        st.integers(0, 36 * 60),  # start minute
        st.integers(0, 90),  # minutes between first and last scan
        st.one_of(st.none(), st.integers(0, 600)),  # minutes to check-out
    ),
    max_size=40,
)
stops = st.lists(
    # Some stops start before the case became infectious (clipped or skipped).
    st.tuples(st.integers(0, 2), st.integers(-48 * 60, 36 * 60), st.integers(0, 240)),
    min_size=1,
    max_size=6,
)


def brute_force(case, rules, stop_rows, checkins):
    """Independent, slow: minute sets per (stop, person)."""
    inf_start = dt.datetime(2022, 10, 3, tzinfo=dt.UTC) - dt.timedelta(hours=8)  # local midnight
    inf_end = dt.datetime(2022, 10, 7, tzinfo=dt.UTC) - dt.timedelta(hours=8)
    buffer = minutes(rules.copresence_buffer_minutes)
    expected = {}
    for s in stop_rows:
        start, end = max(s.start, inf_start), min(s.end, inf_end)
        if end < start:
            continue
        lo, hi = start - buffer, end + buffer
        covered: dict[int, set[dt.datetime]] = {}
        for c in checkins:
            if c.venue_id != s.venue_id or c.person_id == case.person_id:
                continue
            # A check-out ends the visit unless it was scanned again after it.
            if c.left_at is not None and c.left_at >= c.last_scan_at:
                v_end = c.left_at
            else:
                v_end = c.last_scan_at + minutes(rules.assumed_stay_minutes)
            a, b = max(c.time, lo), min(v_end, hi)
            t = a
            while t < b:
                covered.setdefault(c.person_id, set()).add(t)
                t += minutes(1)
        for person_id, mins in covered.items():
            expected[(s.pk, person_id)] = len(mins)
    return expected


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(visits=visits, stop_specs=stops)
def test_matching_equals_a_brute_force_computation(city, investigator, visits, stop_specs):
    ExposureMatch.objects.all().delete()
    TrajectoryStop.objects.all().delete()
    CheckIn.objects.all().delete()
    venues = list(Venue.objects.order_by("id"))
    while len(venues) < 3:
        venues.append(make_venue(city.xd_building, name=f"场所{len(venues)}"))
    people = list(Person.objects.order_by("id"))
    while len(people) < 6:
        people.append(make_person(city.xd_building, name=f"人{len(people)}"))
    case = make_case(people[0])
    for v, p, start, scans, out in visits:
        t = BASE + minutes(start)
        make_checkin(
            venues[v],
            people[p],
            t,
            last_scan_at=t + minutes(scans),
            # A merged visit may have been scanned again after its check-out.
            left_at=None if out is None else t + minutes(out),
        )
    stop_rows = [
        make_stop(case, venues[v], BASE + minutes(s), BASE + minutes(s + length))
        for v, s, length in stop_specs
    ]
    match_case(actor=investigator, case_id=case.pk)
    got = {
        (m.stop_id, m.person_id): m.overlap_minutes for m in ExposureMatch.objects.filter(case=case)
    }
    expected = brute_force(case, case.rules, stop_rows, list(CheckIn.objects.all()))
    expected = {k: v for k, v in expected.items() if v > 0}
    assert got == expected
