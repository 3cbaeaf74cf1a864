"""Co-presence (时空伴随 at venue level) and shared-transport matching.

For each trajectory stop of a case, inside the case's infectious period:

- **venue** stops: everyone whose visit window at the same venue overlaps the stop
  window widened by the co-presence buffer on both sides. A visit lasts from its
  check-in to its check-out, or, when it has none or was scanned again after it
  (a merged visit), to its last scan plus the assumed stay: ``[time, left_at if
  left_at >= last_scan_at else last_scan_at + assumed stay]``;
- **transport** stops: everyone on the same flight / train / bus on the same
  day (same carriage for trains), seated within ``transport_seat_rows`` rows of
  the case when both seats are known.

Periods come from the rule version recorded on the case (in force on its report date),
recorded on every match. One match per (stop, person): re-running adds the new
matches and widens the ones that late check-ins extended (the unique constraint
does the work; a match is never narrowed). Matches follow late data by
themselves: check-ins imported or scanned after a stop of an open case was
matched, at its venue and time, re-run that case (``matches_follow_visits``);
what they add is marked ``found_late``, what they widen ``revised_at`` with the
overlap before.

Speed: the stops of a case (or of a batch of cases) and the check-ins around
them come from one join, each stop a small range scan on the (venue, time)
index: ``venue_id = X AND time >= start - buffer - longest visit AND time < end +
buffer``.
A visit is at most ``MAX_VISIT_LENGTH`` + the assumed stay long (live scans are
extended only within that look-back; imports refuse longer ones), so the
bounded range loses nothing.

On PostgreSQL the whole venue matching of a batch of cases is one statement
(windows, overlapping visits, union of a person's overlaps per stop, insert of
the new matches, stops marked); transport stops, rare, go through Python. One
case (``match_case``) is that statement with its audit row, in autocommit, prepared
once per connection: one round trip after the case is read (a case with transport
stops in its period writes nothing there and runs in one transaction: the venue
statement, the transport stops in Python, the audit row). On
SQLite the overlaps are computed in Python on the few rows the join returns
(times as integer microseconds). The property test checks both against a
brute-force computation.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_insert_sql, audit_record, audit_row
from fangkong.core.errors import Conflict, ValidationFailed
from fangkong.core.prepared import execute_prepared_text
from fangkong.core.types import Actor, acting_user
from fangkong.investigation.models import (
    Case,
    CheckIn,
    DiseaseRules,
    ExposureMatch,
    TrajectoryStop,
    TravelRecord,
)
from fangkong.investigation.selectors.cases import access_case_by_id
from fangkong.investigation.selectors.matching import access_match_by_id
from fangkong.investigation.services.checkins import MAX_VISIT_LENGTH, parse_db_datetime
from fangkong.investigation.services.rules import infectious_period_start

_CHECKIN = CheckIn._meta.db_table
_TRAVEL = TravelRecord._meta.db_table
_STOP = TrajectoryStop._meta.db_table
_MATCH = ExposureMatch._meta.db_table


@dataclass(frozen=True)
class MatchResult:
    case_ids: list[int]
    stops_examined: int
    found: int
    created: int
    updated: int = 0


@dataclass(frozen=True)
class _Stop:
    id: int
    case_id: int
    kind: str
    venue_id: int | None
    start: dt.datetime
    end: dt.datetime
    transport_mode: str
    transport_number: str
    carriage: str
    seat: str
    matched: bool = False  # matched before this run: what it finds now came late


@dataclass(frozen=True)
class _Window:
    """A stop clipped to the infectious period, widened by the buffer (bounds also
    in microseconds since the epoch, the unit the candidates query returns)."""

    case: Case
    stop: _Stop
    rules: DiseaseRules
    lo: dt.datetime
    hi: dt.datetime
    lo_us: int
    hi_us: int
    stay_us: int


@dataclass(frozen=True)
class _Hit:
    window: _Window
    person_id: int
    start: int  # microseconds since the epoch
    end: int


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MINUTE_US = 60_000_000


def _us(value: dt.datetime) -> int:
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _from_us(value: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=value)


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def infectious_window(case: Case, rules: DiseaseRules) -> tuple[dt.datetime, dt.datetime]:
    """From onset (or first positive sample) minus the rule's days, to the end
    of the report date (when the case is isolated)."""
    if case.report_date is None:
        raise ValidationFailed(
            _("The case's report date is not known yet: complete it before matching.")
        )
    start = infectious_period_start(
        rules, onset_date=case.onset_date, first_positive_date=case.first_positive_date
    )
    if start is None:
        start = case.report_date - dt.timedelta(days=rules.infectious_days_before_sample)
    return _local_midnight(start), _local_midnight(case.report_date + dt.timedelta(days=1))


def _window(
    case: Case, stop: _Stop, period: tuple[dt.datetime, dt.datetime] | None = None
) -> _Window | None:
    rules = case.rules
    inf_start, inf_end = period or infectious_window(case, rules)
    start, end = max(stop.start, inf_start), min(stop.end, inf_end)
    if end < start:
        return None
    buffer = dt.timedelta(minutes=rules.copresence_buffer_minutes)
    if stop.kind == TrajectoryStop.Kind.TRANSPORT:
        buffer = dt.timedelta(0)
    lo, hi = start - buffer, end + buffer
    stay = rules.assumed_stay_minutes * _MINUTE_US
    return _Window(case, stop, rules, lo, hi, _us(lo), _us(hi), stay)


def _minutes(length_us: int) -> int:
    """Whole minutes (rounded up, at least one) of a length in microseconds."""
    return max(1, -(-length_us // _MINUTE_US))


def _union_length(intervals: list[tuple[int, int]]) -> int:
    if len(intervals) == 1:
        return intervals[0][1] - intervals[0][0]
    total = 0
    cur_start: int | None = None
    cur_end: int | None = None
    for s, e in sorted(intervals):
        if cur_end is None or s > cur_end:
            if cur_start is not None and cur_end is not None:
                total += cur_end - cur_start
            cur_start, cur_end = s, e
        elif e > cur_end:
            cur_end = e
    if cur_start is not None and cur_end is not None:
        total += cur_end - cur_start
    return total


@dataclass(frozen=True)
class Pads:
    """How far around a stop check-ins are looked for (the widest over the cases'
    rules; Python keeps only true overlaps). One minute more each: SQLite's
    datetime() drops fractions of a second."""

    before: dt.timedelta  # buffer + assumed stay + the longest visit: visits begun this early
    after: dt.timedelta  # buffer: visits begun this late after the stop's end
    ended: dt.timedelta  # buffer: a visit that left before start - this cannot overlap
    stayed: dt.timedelta  # buffer + assumed stay: the same for a last scan, no check-out


def _pads(cases: Sequence[Case]) -> Pads:
    buffer = max(c.rules.copresence_buffer_minutes for c in cases)
    stay = max(c.rules.copresence_buffer_minutes + c.rules.assumed_stay_minutes for c in cases)
    one = dt.timedelta(minutes=1)
    return Pads(
        before=dt.timedelta(minutes=stay) + MAX_VISIT_LENGTH + one,
        after=dt.timedelta(minutes=buffer) + one,
        ended=dt.timedelta(minutes=buffer) + one,
        stayed=dt.timedelta(minutes=stay) + one,
    )


def _us_sql(column: str) -> str:
    """A timestamp column as whole microseconds since the epoch: an integer, cheap
    to read and exact to compare. (SQLite stores text; julianday() is exact to
    the millisecond.)"""
    if connection.vendor == "postgresql":
        return f"(extract(epoch from {column}) * 1000000)::bigint"
    return f"CAST(round((julianday({column}) - 2440587.5) * 86400000.0) AS INTEGER) * 1000"


def _shifted(column: str, value: dt.timedelta, sign: str) -> tuple[str, Any]:
    """SQL for ``column ± value`` and its parameter."""
    if connection.vendor == "postgresql":
        return f"{column} {sign} %s::interval", value
    return f"datetime({column}, %s)", f"{sign}{int(value.total_seconds() // 60)} minutes"


def stops_join_sql(case_ids: Sequence[int], pads: Pads) -> tuple[str, list[Any]]:
    """The bare SQL join of a case's (or cases') stops with the check-ins around
    them: each stop is a small range scan on the (venue, time) index, keeping
    the visits that can reach the stop. One statement: first the stops (venue
    and transport), then the check-ins (person, times in microseconds)."""
    marks = ", ".join(["%s"] * len(case_ids))
    lower, p_lower = _shifted("s.start", pads.before, "-")
    upper, p_upper = _shifted('s."end"', pads.after, "+")
    ended, p_ended = _shifted("s.start", pads.ended, "-")
    stayed, p_stayed = _shifted("s.start", pads.stayed, "-")
    sql = (
        's.id, s.case_id, s.kind, s.venue_id, s.start, s."end", s.transport_mode, '
        "s.transport_number, s.carriage, s.seat"
    )
    sql = (
        f"SELECT {sql}, NULL, NULL, NULL, NULL, s.matched_at FROM {_STOP} s "  # noqa: S608
        f"WHERE s.case_id IN ({marks}) AND s.kind IN ('venue', 'transport') "
        "UNION ALL "
        "SELECT s.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, c.person_id, "
        f"{_us_sql('c.time')}, {_us_sql('c.last_scan_at')}, {_us_sql('c.left_at')}, NULL "
        f"FROM {_STOP} s JOIN {_CHECKIN} c ON c.venue_id = s.venue_id "
        f"AND c.time >= {lower} AND c.time < {upper} "
        f"WHERE s.case_id IN ({marks}) AND s.kind = 'venue' "
        f"AND (c.left_at > {ended} OR c.last_scan_at > {stayed})"
    )
    return sql, [*case_ids, p_lower, p_upper, *case_ids, p_ended, p_stayed]


def _candidates(cases: Sequence[Case]) -> tuple[list[_Window], list[_Hit]]:
    """One query: the cases' stops and the check-ins around them."""
    by_case = {c.pk: c for c in cases}
    sql, params = stops_join_sql(list(by_case), _pads(cases))
    windows: dict[int, _Window | None] = {}
    periods: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    visits = []
    for row in rows:
        if row[1] is None:  # a check-in around a stop
            visits.append(row)
            continue
        stop = _Stop(
            row[0],
            row[1],
            row[2],
            row[3],
            parse_db_datetime(row[4]),
            parse_db_datetime(row[5]),
            row[6] or "",
            row[7] or "",
            row[8] or "",
            row[9] or "",
            row[14] is not None,
        )
        case = by_case[stop.case_id]
        if case.pk not in periods:
            periods[case.pk] = infectious_window(case, case.rules)
        windows[stop.id] = _window(case, stop, periods[case.pk])
    hits: list[_Hit] = []
    for row in visits:
        w = windows.get(row[0])
        person_id = row[10]
        if w is None or person_id == w.case.person_id:
            continue
        end = row[13] if row[13] is not None and row[13] >= row[12] else row[12] + w.stay_us
        s, e = max(row[11], w.lo_us), min(end, w.hi_us)
        if e > s:
            hits.append(_Hit(w, person_id, s, e))
    return [w for w in windows.values() if w is not None], hits


_ROW = re.compile(r"(\d+)")


def seat_row(seat: str) -> int | None:
    """The row number of a seat like ``12A`` / ``03F`` (None when unknown)."""
    m = _ROW.search(seat or "")
    return int(m.group(1)) if m else None


def _transport_hits(windows: list[_Window]) -> list[_Hit]:
    arms, params = [], []
    db = connection.ops.adapt_datetimefield_value
    for key, w in enumerate(windows):
        stop = w.stop
        day = timezone.localdate(stop.start)
        sql = (
            f"SELECT %s, person_id, departure, arrival, seat_row FROM {_TRAVEL} "  # noqa: S608
            "WHERE mode = %s AND number = %s AND departure >= %s AND departure < %s "
            "AND person_id <> %s"
        )
        p: list[Any] = [
            key,
            stop.transport_mode,
            stop.transport_number.strip().upper(),
            db(_local_midnight(day)),
            db(_local_midnight(day + dt.timedelta(days=1))),
            w.case.person_id,
        ]
        if stop.transport_mode == TravelRecord.Mode.TRAIN and stop.carriage:
            sql += " AND carriage = %s"
            p.append(stop.carriage)
        arms.append(sql)
        params += p
    if not arms:
        return []
    with connection.cursor() as cur:
        cur.execute(" UNION ALL ".join(arms), params)
        rows = cur.fetchall()
    out: list[_Hit] = []
    for key, person_id, departure, arrival, row in rows:
        w = windows[key]
        case_row = seat_row(w.stop.seat)
        if case_row is not None and row is not None:
            if abs(row - case_row) > w.rules.transport_seat_rows:
                continue
        dep = parse_db_datetime(departure)
        arr = parse_db_datetime(arrival) if arrival is not None else w.hi
        s, e = max(dep, w.lo), min(arr, w.hi)
        if e <= s:  # times on the manifest disagree with the trajectory: the whole trip
            s, e = w.lo, w.hi
        out.append(_Hit(w, person_id, _us(s), _us(e)))
    return out


def _group(hits: list[_Hit]) -> list[tuple[_Window, int, int, int, int]]:
    """One match per (stop, person): the union of their overlaps."""
    grouped: dict[tuple[int, int], list[_Hit]] = defaultdict(list)
    for h in hits:
        grouped[(h.window.stop.id, h.person_id)].append(h)
    matches = []
    for group in grouped.values():
        spans = [(h.start, h.end) for h in group]
        matches.append(
            (
                group[0].window,
                group[0].person_id,
                min(s for s, _e in spans),
                max(e for _s, e in spans),
                _minutes(_union_length(spans)),
            )
        )
    return matches


def _compute(
    cases: Sequence[Case],
) -> tuple[int, list[tuple[_Window, int, int, int, int]]]:
    """(stops examined, matches as (window, person, window start, end in microseconds
    since the epoch, overlap minutes))."""
    windows, hits = _candidates(cases)
    transport = [
        w
        for w in windows
        if w.stop.kind == TrajectoryStop.Kind.TRANSPORT and w.stop.transport_number
    ]
    if transport:
        hits += _transport_hits(transport)
    return len(windows), _group(hits)


def _transport_windows(cases: Sequence[Case]) -> list[_Window]:
    by_case = {c.pk: c for c in cases}
    marks = ", ".join(["%s"] * len(by_case))
    with connection.cursor() as cur:
        cur.execute(
            'SELECT id, case_id, kind, venue_id, start, "end", transport_mode, '  # noqa: S608
            f"transport_number, carriage, seat, matched_at FROM {_STOP} WHERE case_id IN ({marks}) "
            "AND kind = 'transport' AND transport_number <> ''",
            list(by_case),
        )
        rows = cur.fetchall()
    windows = []
    for row in rows:
        stop = _Stop(
            row[0],
            row[1],
            row[2],
            row[3],
            parse_db_datetime(row[4]),
            parse_db_datetime(row[5]),
            row[6] or "",
            row[7] or "",
            row[8] or "",
            row[9] or "",
            row[10] is not None,
        )
        case = by_case[stop.case_id]
        w = _window(case, stop, infectious_window(case, case.rules))
        if w is not None:
            windows.append(w)
    return windows


# Venue matching of a batch of cases in one PostgreSQL statement: the stops
# clipped to each case's infectious period and widened by its buffer, the visits
# at the same venue overlapping them (each stop one range scan on the (venue,
# time) index), the union of a person's overlaps per stop (gaps and islands),
# the insert of the new matches and the stops marked matched. Same result as the
# Python computation used on SQLite (the property test runs on both engines).
# The windows of a batch of cases joined to the visits overlapping them: the
# bare SQL join (the benchmark's floor) and the first part of the statement below.
_JOIN_CTES = f"""k AS (
  SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[], %s::timestamptz[],
                       %s::int[], %s::int[], %s::bigint[])
                AS k(case_id, person_id, inf_lo, inf_hi, buf, stay, rules_id)
), st AS (
  SELECT s.id, s.case_id, s.kind, s.venue_id, k.person_id AS case_person, k.stay, k.rules_id,
         s.matched_at IS NOT NULL AS late,
         greatest(s.start, k.inf_lo) - make_interval(mins => k.buf) AS lo,
         least(s."end", k.inf_hi) + make_interval(mins => k.buf) AS hi
  FROM k CROSS JOIN LATERAL (  -- each case's stops by the case_id index, whatever the stats
    SELECT * FROM {_STOP} s0 WHERE s0.case_id = k.case_id AND s0.kind IN ('venue', 'transport')
    OFFSET 0
  ) s
  WHERE least(s."end", k.inf_hi) >= greatest(s.start, k.inf_lo)
), v AS (
  SELECT st.id AS stop_id, c.person_id, st.case_id, st.venue_id, st.rules_id, st.late,
         greatest(c.time, st.lo) AS a,
         least(CASE WHEN c.left_at >= c.last_scan_at THEN c.left_at
                    ELSE c.last_scan_at + make_interval(mins => st.stay) END, st.hi) AS b
  FROM st CROSS JOIN LATERAL (  -- each stop one range scan on (venue, time), always
    SELECT c0.person_id, c0.time, c0.last_scan_at, c0.left_at FROM {_CHECKIN} c0
    WHERE c0.venue_id = st.venue_id AND c0.time < st.hi
      AND c0.time > st.lo - make_interval(mins => st.stay) - %s::interval
    OFFSET 0
  ) c
  WHERE st.kind = 'venue' AND c.person_id <> st.case_person
)"""  # noqa: S608

# The union of a person's overlaps per stop (gaps and islands), one row per match.
_GROUP_CTES = """g AS (
  SELECT stop_id, person_id, case_id, venue_id, rules_id, late, a, b,
         CASE WHEN a <= max(b) OVER (PARTITION BY stop_id, person_id ORDER BY a, b
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
              THEN 0 ELSE 1 END AS fresh
  FROM v WHERE b > a
), i AS (
  SELECT stop_id, person_id, case_id, venue_id, rules_id, late, a, b,
         sum(fresh) OVER (PARTITION BY stop_id, person_id ORDER BY a, b
                          ROWS UNBOUNDED PRECEDING) AS island
  FROM g
), isl AS (
  SELECT stop_id, person_id, case_id, venue_id, rules_id, late, min(a) AS a, max(b) AS b
  FROM i GROUP BY stop_id, person_id, case_id, venue_id, rules_id, late, island
), m AS (
  SELECT stop_id, person_id, case_id, venue_id, rules_id, late, min(a) AS ws, max(b) AS we,
         greatest(1, ceil(extract(epoch from sum(b - a)) / 60))::int AS ov
  FROM isl GROUP BY stop_id, person_id, case_id, venue_id, rules_id, late
)"""
_INSERT_SELECT = (
    "SELECT %s, %s, case_id, stop_id, person_id, 'venue', venue_id, ws, we, ov, %s, rules_id, "
    "late FROM m"
)

_VENUE_MATCH_SQL = (  # table names and constants only
    "WITH cfg AS (SELECT set_config('synchronous_commit', "  # noqa: S608
    "CASE WHEN %s THEN 'off' ELSE current_setting('synchronous_commit') END, true)), "
    + _JOIN_CTES
    + ", "
    + _GROUP_CTES
    + f""", ins AS (
  INSERT INTO {_MATCH} ({{columns}}) {_INSERT_SELECT} {{guard}}
  {{upsert}} RETURNING revised_at
), mark AS (
  UPDATE {_STOP} SET matched_at = %s WHERE case_id = ANY(%s::bigint[])
  AND kind IN ('venue', 'transport') {{guard_and}} RETURNING 1
){{audit}}
SELECT (SELECT count(*) FROM st), (SELECT count(*) FROM m),
       (SELECT count(*) FROM ins WHERE revised_at IS NULL),
       (SELECT count(*) FROM ins WHERE revised_at IS NOT NULL),
       (SELECT count(*) FROM st WHERE kind = 'transport'), (SELECT count(*) FROM mark),
       (SELECT count(*) FROM cfg)
"""  # noqa: S608
)


def _timestamps(values: Any) -> str:
    return "{" + ",".join(f'"{v.isoformat()}"' for v in values) + "}"


def _join_params(cases: Sequence[Case]) -> list[Any]:
    periods = [infectious_window(c, c.rules) for c in cases]
    return [
        _array(c.pk for c in cases),
        _array(c.person_id for c in cases),
        _timestamps(p[0] for p in periods),
        _timestamps(p[1] for p in periods),
        _array(c.rules.copresence_buffer_minutes for c in cases),
        _array(c.rules.assumed_stay_minutes for c in cases),
        _array(c.rules_id for c in cases),
        MAX_VISIT_LENGTH + dt.timedelta(minutes=1),
    ]


def venue_match_floor_sql(cases: Sequence[Case], table: str) -> tuple[str, list[Any]]:
    """PostgreSQL, the co-presence match's floor: the same join, the union of the
    overlaps and the INSERT of the same match rows into ``table`` (a copy of the
    match table), in one statement; nothing else (no upsert, no marks, no audit)."""
    now = timezone.now()
    return (
        f"WITH {_JOIN_CTES}, {_GROUP_CTES} "  # noqa: S608
        f"INSERT INTO {table} ({_INSERT_COLUMNS}) {_INSERT_SELECT}",
        [*_join_params(cases), now, now, ExposureMatch.Status.PENDING.value],
    )


def venue_join_sql(cases: Sequence[Case]) -> tuple[str, list[Any]]:
    """PostgreSQL: the bare SQL join of the cases' venue windows with the visits
    overlapping them (stop, person, overlap start and end), nothing else."""
    return (
        f"WITH {_JOIN_CTES} SELECT stop_id, person_id, a, b FROM v WHERE b > a",  # noqa: S608
        _join_params(cases),
    )


# The audit row of a one-case run written by the statement itself: its counts.
_AUDIT_CHANGES = (
    "jsonb_build_object("
    "'found', jsonb_build_array(NULL, (SELECT count(*) FROM m)), "
    "'created', jsonb_build_array(NULL, (SELECT count(*) FROM ins WHERE revised_at IS NULL)), "
    "'updated', jsonb_build_array(NULL, (SELECT count(*) FROM ins WHERE revised_at IS NOT NULL)))"
)


# The writes of a one-case run (matches, marks, audit row) happen only when the case
# has no transport stop in its period: else the statement writes nothing and the
# run goes through the transaction of ``match_case`` (transport stops, rare, are
# matched in Python), with one audit row for the whole run as before.
_VENUE_ONLY = "NOT EXISTS (SELECT 1 FROM st WHERE kind = 'transport')"


# A one-case run's statement is planned in about as long as it runs (0.5 ms each on
# 1,000,000 check-ins): it is prepared once per connection and executed by name
# after that, its plan kept by the server (the plan does not depend on the values:
# each stop is one range scan, see _JOIN_CTES). Behind a pooler in transaction mode
# (FANGKONG_DB_PREPARE off), which may hand each statement to another server
# connection, it is sent whole.
_PREPARED = "fangkong_match_case"


def _run_postgresql(
    cases: Sequence[Case], *, audit: dict[str, Any] | None = None
) -> tuple[int, int, int, int] | None:
    """The venue matching of ``cases`` in one statement; with ``audit`` (an
    ``audit_row``) the run's audit row is inserted by the same statement, so a
    run in autocommit is one round trip. Without ``audit`` transport stops, rare,
    follow in Python; with it, a case with transport stops writes nothing and
    None is returned (the caller runs it in a transaction)."""
    now = timezone.now()
    ids = _array(c.pk for c in cases)
    params: list[Any] = [
        settings.FANGKONG_MATCH_ASYNC_COMMIT,
        *_join_params(cases),
        now,
        now,
        ExposureMatch.Status.PENDING.value,
        now,
        ids,
    ]
    with connection.cursor() as cur:
        # With FANGKONG_MATCH_ASYNC_COMMIT the statement sets synchronous_commit = off
        # for its transaction (see _NO_FLUSH_WAIT).
        sql = _VENUE_MATCH_SQL.replace("{columns}", _INSERT_COLUMNS).replace("{upsert}", _UPSERT)
        audit_sql = guard = guard_and = ""
        if audit is not None:
            insert, audit_params = audit_insert_sql(audit, changes_sql=_AUDIT_CHANGES)
            audit_sql = f", audit AS ({insert} WHERE {_VENUE_ONLY})"
            params += audit_params
            guard, guard_and = f"WHERE {_VENUE_ONLY}", f"AND {_VENUE_ONLY}"
        sql = sql.replace("{guard}", guard).replace("{guard_and}", guard_and)
        sql = sql.replace("{audit}", audit_sql)
        if audit is not None and len(cases) == 1:
            execute_prepared_text(cur, _PREPARED, sql, params)
        else:
            cur.execute(sql, params)
        examined, found, created, updated, transport, _marked, _cfg = cur.fetchone()
    if transport and audit is not None:
        return None  # nothing written
    if transport:
        more = _run_transport(cases)
        found += more[0]
        created += more[1]
        updated += more[2]
    return int(examined), int(found), int(created), int(updated)


def _run_transport(cases: Sequence[Case]) -> tuple[int, int, int]:
    """The transport stops' matches (Python): found, created, widened."""
    matches = _group(_transport_hits(_transport_windows(cases)))
    created, updated = _store(matches, [c.pk for c in cases])
    return len(matches), created, updated


def _run(cases: Sequence[Case]) -> tuple[int, int, int, int]:
    """Match the cases and store the matches: (stops examined, found, created,
    widened)."""
    if connection.vendor == "postgresql":
        counts = _run_postgresql(cases)
        assert counts is not None  # without an audit row the statement always writes
        return counts
    examined, matches = _compute(cases)
    created, updated = _store(matches, [c.pk for c in cases])
    return examined, len(matches), created, updated


_INSERT_COLUMNS = (
    "created_at, updated_at, case_id, stop_id, person_id, kind, venue_id, window_start, "
    "window_end, overlap_minutes, status, rules_id, found_late"
)
# A match found again: widened to what it is now when late check-ins extended it
# (the overlap before kept, the time of the change recorded), never narrowed (a
# check-in purged after the retention period takes nothing away). RETURNING
# revised_at: NULL for a new match. Both engines.
_UPSERT = (
    "ON CONFLICT (stop_id, person_id) DO UPDATE SET "
    f"window_start = CASE WHEN excluded.window_start < {_MATCH}.window_start "
    f"THEN excluded.window_start ELSE {_MATCH}.window_start END, "
    f"window_end = CASE WHEN excluded.window_end > {_MATCH}.window_end "
    f"THEN excluded.window_end ELSE {_MATCH}.window_end END, "
    f"overlap_minutes = CASE WHEN excluded.overlap_minutes > {_MATCH}.overlap_minutes "
    f"THEN excluded.overlap_minutes ELSE {_MATCH}.overlap_minutes END, "
    f"previous_overlap_minutes = {_MATCH}.overlap_minutes, "
    "revised_at = excluded.updated_at, updated_at = excluded.updated_at "
    f"WHERE excluded.overlap_minutes > {_MATCH}.overlap_minutes "
    f"OR excluded.window_start < {_MATCH}.window_start "
    f"OR excluded.window_end > {_MATCH}.window_end"
)


def _mark_sql(case_ids: Sequence[int]) -> tuple[str, list[Any]]:
    marks = ", ".join(["%s"] * len(case_ids))
    return (
        f"UPDATE {_STOP} SET matched_at = %s WHERE case_id IN ({marks}) "  # noqa: S608
        "AND kind IN ('venue', 'transport')",
        [connection.ops.adapt_datetimefield_value(timezone.now()), *case_ids],
    )


# Matches are derived data: re-running the match computes them again and adds
# only what is missing. So an operator may let a match run on PostgreSQL skip the
# wait for the WAL flush (``FANGKONG_MATCH_ASYNC_COMMIT=1``: ``synchronous_commit
# = off`` for its transaction only): if the database server crashes, the runs of
# its last fraction of a second (at most 3 × ``wal_writer_delay``) are lost with
# their audit rows, as if they had not happened; the database stays consistent.
# Off by default: audit rows are not given up without the operator's choice.
_NO_FLUSH_WAIT = "SET LOCAL synchronous_commit = off"


def _array(values: Any) -> str:
    return "{" + ",".join(str(int(v)) for v in values) + "}"


def _store_postgresql(
    cur: Any, matches: list[tuple[_Window, int, int, int, int]], case_ids: Sequence[int]
) -> tuple[int, int]:
    """One statement: the matches travel as five integer arrays (``unnest``), the
    case, kind, venue and rule version come from the stop and its case; the
    stops are marked matched in the same statement."""
    mark, mark_params = _mark_sql(case_ids)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    sql = (
        f"WITH mark AS ({mark} RETURNING 1) "  # noqa: S608
        f"INSERT INTO {_MATCH} ({_INSERT_COLUMNS}) "
        "SELECT %s, %s, s.case_id, u.stop_id, u.person_id, s.kind, s.venue_id, "
        "'epoch'::timestamptz + u.ws * interval '1 microsecond', "
        "'epoch'::timestamptz + u.we * interval '1 microsecond', u.ov, %s, k.rules_id, "
        "s.matched_at IS NOT NULL "
        "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::int[]) "
        "AS u(stop_id, person_id, ws, we, ov) "
        f"JOIN {_STOP} s ON s.id = u.stop_id JOIN {Case._meta.db_table} k ON k.id = s.case_id "
        f"{_UPSERT} RETURNING revised_at"
    )
    if settings.FANGKONG_MATCH_ASYNC_COMMIT:
        cur.execute(_NO_FLUSH_WAIT)
    cur.execute(
        sql,
        [
            *mark_params,
            now,
            now,
            ExposureMatch.Status.PENDING.value,
            _array(m[0].stop.id for m in matches),
            _array(m[1] for m in matches),
            _array(m[2] for m in matches),
            _array(m[3] for m in matches),
            _array(m[4] for m in matches),
        ],
    )
    revised = [row[0] for row in cur.fetchall()]
    return sum(1 for r in revised if r is None), sum(1 for r in revised if r is not None)


def _store(
    matches: list[tuple[_Window, int, int, int, int]], case_ids: Sequence[int]
) -> tuple[int, int]:
    """Insert the matches not recorded yet (one per stop and person), widen the
    ones late data extended, and mark the cases' stops as matched; return how many
    matches were new and how many widened.

    PostgreSQL: one statement. SQLite: one multi-row upsert per 500 matches, then
    the stops' update."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            return _store_postgresql(cur, matches, case_ids)
        db = connection.ops.adapt_datetimefield_value
        now = db(timezone.now())
        created = updated = 0
        for i in range(0, len(matches), 500):
            chunk = matches[i : i + 500]
            values = ", ".join(
                ["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk)
            )
            params: list[Any] = []
            for w, person_id, start, end, minutes in chunk:
                params += [
                    now,
                    now,
                    w.case.pk,
                    w.stop.id,
                    person_id,
                    w.stop.kind,
                    w.stop.venue_id,
                    db(_from_us(start)),
                    db(_from_us(end)),
                    minutes,
                    ExposureMatch.Status.PENDING.value,
                    w.rules.pk,
                    w.stop.matched,
                ]
            cur.execute(
                f"INSERT INTO {_MATCH} ({_INSERT_COLUMNS}) VALUES {values} "  # noqa: S608
                f"{_UPSERT} RETURNING revised_at",
                params,
            )
            revised = [row[0] for row in cur.fetchall()]
            created += sum(1 for r in revised if r is None)
            updated += sum(1 for r in revised if r is not None)
        mark, mark_params = _mark_sql(case_ids)
        cur.execute(mark, mark_params)
    return created, updated


def match_case(*, actor: Actor, case_id: int) -> MatchResult:
    """Match one case's venue and transport stops; store the new matches.

    Uses the rule version recorded on the case (the one in force on its report
    date) and records it on every match."""
    permissions.require(actor, "match.run")
    case = access_case_by_id(actor, case_id, related=("rules",))
    if connection.vendor == "postgresql":
        # The matching, the marks and the audit row in one statement, atomic by
        # itself (no BEGIN and COMMIT round trips of its own); a case with transport
        # stops in its period writes nothing there and is run below.
        audit = audit_row(
            actor=actor,
            action="match.run",
            obj=case,
            scope_path=case.scope_path,
            person_id=case.person_id,
        )
        counts = _run_postgresql([case], audit=audit)
        if counts is not None:
            return MatchResult([case.pk], *counts)
    with transaction.atomic():
        examined, found, created, updated = _run([case])
        audit_record(
            actor=actor,
            action="match.run",
            obj=case,
            scope_path=case.scope_path,
            person_id=case.person_id,
            changes={
                "found": [None, found],
                "created": [None, created],
                "updated": [None, updated],
            },
        )
    return MatchResult([case.pk], examined, found, created, updated)


def match_cases(case_ids: Sequence[int], *, actor: Actor = None, chunk: int = 250) -> MatchResult:
    """Batch job: match many cases at once (one audit row for the batch).

    Run by the system (no permission check) or on behalf of ``actor``
    (``match.run``; cases outside their area are skipped)."""
    if actor is not None:
        permissions.require(actor, "match.run")
    qs = Case.objects.select_related("rules").filter(pk__in=list(case_ids))
    prefix = permissions.scope_path(actor) if actor is not None else ""
    cases = [c for c in qs if prefix is not None and c.scope_path.startswith(prefix)]
    with transaction.atomic():
        result = _run_batch(cases, chunk=chunk)
        audit_record(
            actor=actor,
            action="match.batch",
            object_type="investigation.case",
            changes={
                "cases": [None, len(cases)],
                "found": [None, result.found],
                "created": [None, result.created],
                "updated": [None, result.updated],
            },
        )
    return result


def _run_batch(cases: Sequence[Case], *, chunk: int = 250) -> MatchResult:
    total = [0, 0, 0, 0]
    for i in range(0, len(cases), chunk):
        for k, n in enumerate(_run(cases[i : i + chunk])):
            total[k] += n
    return MatchResult([c.pk for c in cases], *total)


# --- Decisions -------------------------------------------------------------------


def match_confirm(*, actor: Actor, match_id: int, category: str | None = None) -> Any:
    """Confirm a match: the person becomes a contact of the case (exposure type
    venue or transport) linked to this match. Returns the contact."""
    from fangkong.investigation.services.contacts import contact_create

    permissions.require(actor, "match.decide")
    with transaction.atomic():
        match = access_match_by_id(actor, match_id, for_update=True)
        if match.status != ExposureMatch.Status.PENDING:
            raise Conflict(_("This match has already been decided."), code="already_decided")
        contact = contact_create(
            actor=actor,
            source_case_id=match.case_id,
            person_id=match.person_id,
            exposure_type=("transport" if match.kind == TrajectoryStop.Kind.TRANSPORT else "venue"),
            first_exposure=timezone.localdate(match.window_start),
            last_exposure=timezone.localdate(match.window_end),
            match_id=match.pk,
            category=category,
        )
        _decide(actor, match, ExposureMatch.Status.CONFIRMED, reason="")
    return contact


def match_dismiss(*, actor: Actor, match_id: int, reason: str) -> ExposureMatch:
    permissions.require(actor, "match.decide")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": _("Say why the match is dismissed.")})
    with transaction.atomic():
        match = access_match_by_id(actor, match_id, for_update=True)
        if match.status != ExposureMatch.Status.PENDING:
            raise Conflict(_("This match has already been decided."), code="already_decided")
        _decide(actor, match, ExposureMatch.Status.DISMISSED, reason=reason)
    return match


def _decide(actor: Actor, match: ExposureMatch, status: str, *, reason: str) -> None:
    before = match.status
    match.status = status
    match.decided_by = acting_user(actor)
    match.decided_at = timezone.now()
    match.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    audit_record(
        actor=actor,
        action=f"match.{'confirm' if status == ExposureMatch.Status.CONFIRMED else 'dismiss'}",
        obj=match,
        scope_path=match.case.scope_path,
        person_id=match.person_id,
        changes={"status": [before, status]},
        reason=reason,
    )


# --- Late data --------------------------------------------------------------------

_CASE = Case._meta.db_table
_RULES = DiseaseRules._meta.db_table
# A case whose matches still follow late data: not excluded, investigation not closed.
OPEN_CASE_SQL = "k.investigation_status <> 'completed' AND k.classification <> 'excluded'"
# The widest a stop's window reaches around it (rules: buffer and stay up to a day each).
_SLACK = dt.timedelta(days=2)


def late_stops_sql() -> str:
    """PostgreSQL: whether a matched venue stop of an open case may be reached by a
    visit changed at venue %s between %s and %s (its buffer around the stop, its
    assumed stay after the visit): one probe of the stops' venue index, for the
    live scan's statement. ``matches_follow_visits`` decides exactly."""
    return (
        f"SELECT EXISTS (SELECT 1 FROM {_STOP} s JOIN {_CASE} k ON k.id = s.case_id "  # noqa: S608
        f"JOIN {_RULES} r ON r.id = k.rules_id WHERE s.venue_id = %s AND s.kind = 'venue' "
        f"AND s.matched_at IS NOT NULL AND {OPEN_CASE_SQL} "
        "AND s.start - make_interval(mins => r.copresence_buffer_minutes "
        "+ r.assumed_stay_minutes) < %s "
        'AND s."end" + make_interval(mins => r.copresence_buffer_minutes) > %s)'
    )


def _reached_cases(spans: Sequence[tuple[int, dt.datetime, dt.datetime]]) -> list[int]:
    """The open cases with a matched venue stop that one of the spans reaches."""
    from bisect import bisect_left

    lo = min(s for _v, s, _e in spans) - _SLACK
    hi = max(e for _v, _s, e in spans) + _SLACK
    stops = TrajectoryStop.objects.filter(
        kind=TrajectoryStop.Kind.VENUE, matched_at__isnull=False, end__gt=lo, start__lt=hi
    ).exclude(case__investigation_status=Case.InvestigationStatus.COMPLETED)
    stops = stops.exclude(case__classification=Case.Classification.EXCLUDED)
    venues = sorted({v for v, _s, _e in spans})
    queries = (
        [stops.filter(venue_id__in=venues[i : i + 1000]) for i in range(0, len(venues), 1000)]
        if len(venues) <= 5000
        else [stops]
    )
    candidates = [
        row
        for qs in queries
        for row in qs.values_list(
            "case_id",
            "venue_id",
            "start",
            "end",
            "case__rules__copresence_buffer_minutes",
            "case__rules__assumed_stay_minutes",
        )
    ]
    if not candidates:  # the usual case: no matched stop there and then
        return []
    wanted = {venue_id for _c, venue_id, *_rest in candidates}
    by_venue: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for venue_id, start, end in spans:
        if venue_id in wanted:
            by_venue[venue_id].append((start, end))
    starts: dict[int, list[dt.datetime]] = {}
    reach: dict[int, list[dt.datetime]] = {}  # the latest end among spans up to here
    for venue_id, items in by_venue.items():
        items.sort()
        starts[venue_id] = [a for a, _b in items]
        latest: list[dt.datetime] = []
        for _a, b in items:
            latest.append(b if not latest or b > latest[-1] else latest[-1])
        reach[venue_id] = latest
    cases: set[int] = set()
    for case_id, venue_id, start, end, buffer, stay in candidates:
        if case_id in cases or venue_id not in starts:
            continue
        # A span reaches the window [start - buffer, end + buffer] when it begins
        # before its end and its visit (plus the assumed stay) lasts past its start.
        n = bisect_left(starts[venue_id], end + dt.timedelta(minutes=buffer))
        if n and reach[venue_id][n - 1] + dt.timedelta(minutes=stay + buffer) > start:
            cases.add(case_id)
    return sorted(cases)


def matches_follow_visits(
    spans: Sequence[tuple[int, dt.datetime, dt.datetime]], *, actor: Actor = None
) -> MatchResult:
    """Matches follow late data. ``spans``: visits just added or widened, as (venue
    id, their check-in, their last scan or check-out). The open cases with a matched
    venue stop that such a visit reaches are matched again: new matches are
    proposed for review (``found_late``), the ones the visits extend are widened
    (``revised_at``). One audit row (the system, or ``actor`` whose import or scan
    it was) when anything changed."""
    if not spans:
        return MatchResult([], 0, 0, 0)
    case_ids = _reached_cases(spans)
    if not case_ids:
        return MatchResult([], 0, 0, 0)
    cases = list(Case.objects.select_related("rules").filter(pk__in=case_ids).order_by("pk"))
    with transaction.atomic():
        result = _run_batch(cases)
        if result.created or result.updated:
            audit_record(
                actor=actor,
                action="match.follow",
                object_type="investigation.case",
                changes={
                    "cases": [None, [c.pk for c in cases]],
                    "created": [None, result.created],
                    "updated": [None, result.updated],
                },
                reason=_("Late check-ins at the venues and times of these cases."),
            )
    return result
