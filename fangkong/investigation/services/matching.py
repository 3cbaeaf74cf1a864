"""Co-presence (时空伴随 at venue level) and shared-transport matching.

For each trajectory stop of a case, inside the case's infectious period:

- **venue** stops: everyone whose visit window ``[time, coalesce(left_at,
  last_scan_at + assumed stay)]`` at the same venue overlaps the stop window
  widened by the co-presence buffer on both sides;
- **transport** stops: everyone on the same flight / train / bus on the same
  day (same carriage for trains), seated within ``transport_seat_rows`` rows of
  the case when both seats are known.

Periods come from the rule version recorded on the case (in force on its report date),
recorded on every match. One match per (stop, person): re-running after new
stops adds only the new matches (the unique constraint does the work).

Speed: the stops of a case (or of a batch of cases) and the check-ins around
them come from one join, each stop a small range scan on the (venue, time)
index: ``venue_id = X AND time >= start - buffer - longest visit AND time < end +
buffer``.
A visit is at most ``MAX_VISIT_LENGTH`` + the assumed stay long (live scans are
extended only within that look-back; imports refuse longer ones), so the
bounded range loses nothing.

On PostgreSQL the whole venue matching of a batch of cases is one statement
(windows, overlapping visits, union of a person's overlaps per stop, insert of
the new matches, stops marked); transport stops, rare, go through Python. On
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
from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, ValidationFailed
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
        f"SELECT {sql}, NULL, NULL, NULL, NULL FROM {_STOP} s "  # noqa: S608
        f"WHERE s.case_id IN ({marks}) AND s.kind IN ('venue', 'transport') "
        "UNION ALL "
        "SELECT s.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, c.person_id, "
        f"{_us_sql('c.time')}, {_us_sql('c.last_scan_at')}, {_us_sql('c.left_at')} "
        f"FROM {_STOP} s JOIN {_CHECKIN} c ON c.venue_id = s.venue_id "
        f"AND c.time >= {lower} AND c.time < {upper} "
        f"WHERE s.case_id IN ({marks}) AND s.kind = 'venue' "
        f"AND (c.left_at > {ended} OR (c.left_at IS NULL AND c.last_scan_at > {stayed}))"
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
        end = row[13] if row[13] is not None else row[12] + w.stay_us
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
            f"transport_number, carriage, seat FROM {_STOP} WHERE case_id IN ({marks}) "
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
            *(value or "" for value in row[6:10]),
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
         greatest(s.start, k.inf_lo) - make_interval(mins => k.buf) AS lo,
         least(s."end", k.inf_hi) + make_interval(mins => k.buf) AS hi
  FROM k CROSS JOIN LATERAL (  -- each case's stops by the case_id index, whatever the stats
    SELECT * FROM {_STOP} s0 WHERE s0.case_id = k.case_id AND s0.kind IN ('venue', 'transport')
    OFFSET 0
  ) s
  WHERE least(s."end", k.inf_hi) >= greatest(s.start, k.inf_lo)
), v AS (
  SELECT st.id AS stop_id, c.person_id, st.case_id, st.venue_id, st.rules_id,
         greatest(c.time, st.lo) AS a,
         least(coalesce(c.left_at, c.last_scan_at + make_interval(mins => st.stay)), st.hi) AS b
  FROM st CROSS JOIN LATERAL (  -- each stop one range scan on (venue, time), always
    SELECT c0.person_id, c0.time, c0.last_scan_at, c0.left_at FROM {_CHECKIN} c0
    WHERE c0.venue_id = st.venue_id AND c0.time < st.hi
      AND c0.time > st.lo - make_interval(mins => st.stay) - %s::interval
    OFFSET 0
  ) c
  WHERE st.kind = 'venue' AND c.person_id <> st.case_person
)"""  # noqa: S608

_VENUE_MATCH_SQL = (  # table names and constants only
    "WITH cfg AS (SELECT set_config('synchronous_commit', "  # noqa: S608
    "CASE WHEN %s THEN 'off' ELSE current_setting('synchronous_commit') END, true)), "
    + _JOIN_CTES
    + f""", g AS (
  SELECT stop_id, person_id, case_id, venue_id, rules_id, a, b,
         CASE WHEN a <= max(b) OVER (PARTITION BY stop_id, person_id ORDER BY a, b
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
              THEN 0 ELSE 1 END AS fresh
  FROM v WHERE b > a
), i AS (
  SELECT stop_id, person_id, case_id, venue_id, rules_id, a, b,
         sum(fresh) OVER (PARTITION BY stop_id, person_id ORDER BY a, b
                          ROWS UNBOUNDED PRECEDING) AS island
  FROM g
), isl AS (
  SELECT stop_id, person_id, case_id, venue_id, rules_id, min(a) AS a, max(b) AS b
  FROM i GROUP BY stop_id, person_id, case_id, venue_id, rules_id, island
), m AS (
  SELECT stop_id, person_id, case_id, venue_id, rules_id, min(a) AS ws, max(b) AS we,
         greatest(1, ceil(extract(epoch from sum(b - a)) / 60))::int AS ov
  FROM isl GROUP BY stop_id, person_id, case_id, venue_id, rules_id
), ins AS (
  INSERT INTO {_MATCH} ({{columns}})
  SELECT %s, %s, case_id, stop_id, person_id, 'venue', venue_id, ws, we, ov, %s, rules_id
  FROM m
  ON CONFLICT DO NOTHING RETURNING 1
), mark AS (
  UPDATE {_STOP} SET matched_at = %s WHERE case_id = ANY(%s::bigint[])
  AND kind IN ('venue', 'transport') RETURNING 1
)
SELECT (SELECT count(*) FROM st), (SELECT count(*) FROM m), (SELECT count(*) FROM ins),
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


def venue_join_sql(cases: Sequence[Case]) -> tuple[str, list[Any]]:
    """PostgreSQL: the bare SQL join of the cases' venue windows with the visits
    overlapping them (stop, person, overlap start and end), nothing else."""
    return (
        f"WITH {_JOIN_CTES} SELECT stop_id, person_id, a, b FROM v WHERE b > a",  # noqa: S608
        _join_params(cases),
    )


def _run_postgresql(cases: Sequence[Case]) -> tuple[int, int, int]:
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
        cur.execute(_VENUE_MATCH_SQL.replace("{columns}", _INSERT_COLUMNS), params)
        examined, found, created, transport, _marked, _cfg = cur.fetchone()
    if transport:
        matches = _group(_transport_hits(_transport_windows(cases)))
        found += len(matches)
        created += _store(matches, [c.pk for c in cases])
    return int(examined), int(found), int(created)


def _run(cases: Sequence[Case]) -> tuple[int, int, int]:
    """Match the cases and store the new matches: (stops examined, found, created)."""
    if connection.vendor == "postgresql":
        return _run_postgresql(cases)
    examined, matches = _compute(cases)
    return examined, len(matches), _store(matches, [c.pk for c in cases])


_INSERT_COLUMNS = (
    "created_at, updated_at, case_id, stop_id, person_id, kind, venue_id, window_start, "
    "window_end, overlap_minutes, status, rules_id"
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
) -> int:
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
        "'epoch'::timestamptz + u.we * interval '1 microsecond', u.ov, %s, k.rules_id "
        "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::int[]) "
        "AS u(stop_id, person_id, ws, we, ov) "
        f"JOIN {_STOP} s ON s.id = u.stop_id JOIN {Case._meta.db_table} k ON k.id = s.case_id "
        "ON CONFLICT DO NOTHING"
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
    return max(0, cur.rowcount)


def _store(matches: list[tuple[_Window, int, int, int, int]], case_ids: Sequence[int]) -> int:
    """Insert the matches not recorded yet (one per stop and person) and mark the
    cases' stops as matched; return how many matches were new.

    PostgreSQL: one statement. SQLite: one multi-row ``INSERT ... ON CONFLICT DO
    NOTHING`` per 500 matches, then the stops' update."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            return _store_postgresql(cur, matches, case_ids)
        db = connection.ops.adapt_datetimefield_value
        now = db(timezone.now())
        created = 0
        for i in range(0, len(matches), 500):
            chunk = matches[i : i + 500]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
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
                ]
            cur.execute(
                f"INSERT INTO {_MATCH} ({_INSERT_COLUMNS}) VALUES {values} "  # noqa: S608
                "ON CONFLICT DO NOTHING RETURNING id",
                params,
            )
            created += len(cur.fetchall())
        mark, mark_params = _mark_sql(case_ids)
        cur.execute(mark, mark_params)
    return created


def match_case(*, actor: Any, case_id: int) -> MatchResult:
    """Match one case's venue and transport stops; store the new matches.

    Uses the rule version recorded on the case (the one in force on its report
    date) and records it on every match."""
    permissions.require(actor, "match.run")
    case = access_case_by_id(actor, case_id, related=("rules",))
    with transaction.atomic():
        examined, found, created = _run([case])
        audit_record(
            actor=actor,
            action="match.run",
            obj=case,
            scope_path=case.scope_path,
            person_id=case.person_id,
            changes={"found": [None, found], "created": [None, created]},
        )
    return MatchResult([case.pk], examined, found, created)


def match_cases(case_ids: Sequence[int], *, actor: Any = None, chunk: int = 250) -> MatchResult:
    """Batch job: match many cases at once (one audit row for the batch).

    Run by the system (no permission check) or on behalf of ``actor``
    (``match.run``; cases outside their area are skipped)."""
    if actor is not None:
        permissions.require(actor, "match.run")
    qs = Case.objects.select_related("rules").filter(pk__in=list(case_ids))
    prefix = permissions.scope_path(actor) if actor is not None else ""
    cases = [c for c in qs if prefix is not None and c.scope_path.startswith(prefix)]
    total_examined = total_found = total_created = 0
    with transaction.atomic():
        for i in range(0, len(cases), chunk):
            part = cases[i : i + chunk]
            examined, found, created = _run(part)
            total_examined += examined
            total_found += found
            total_created += created
        audit_record(
            actor=actor,
            action="match.batch",
            object_type="investigation.case",
            changes={
                "cases": [None, len(cases)],
                "found": [None, total_found],
                "created": [None, total_created],
            },
        )
    return MatchResult([c.pk for c in cases], total_examined, total_found, total_created)


# --- Decisions -------------------------------------------------------------------


def match_confirm(*, actor: Any, match_id: int, category: str | None = None) -> Any:
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


def match_dismiss(*, actor: Any, match_id: int, reason: str) -> ExposureMatch:
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


def _decide(actor: Any, match: ExposureMatch, status: str, *, reason: str) -> None:
    before = match.status
    match.status = status
    match.decided_by = actor if getattr(actor, "is_authenticated", False) else None
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
