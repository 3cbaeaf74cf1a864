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
bounded range loses nothing. Overlaps are computed in Python on the few rows found.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
    """A stop clipped to the infectious period, widened by the buffer."""

    case: Case
    stop: _Stop
    rules: DiseaseRules
    lo: dt.datetime
    hi: dt.datetime


@dataclass(frozen=True)
class _Hit:
    window: _Window
    person_id: int
    start: dt.datetime
    end: dt.datetime


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
    return _Window(case, stop, rules, start - buffer, end + buffer)


def _minutes(delta: dt.timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds() / 60))


def _union_length(intervals: list[tuple[dt.datetime, dt.datetime]]) -> dt.timedelta:
    total = dt.timedelta(0)
    cur_start: dt.datetime | None = None
    cur_end: dt.datetime | None = None
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


def _pads(cases: Sequence[Case]) -> tuple[dt.timedelta, dt.timedelta]:
    """How far before a stop's start and after its end check-ins are looked for:
    the buffer plus the longest possible visit before, the buffer after (the
    widest over the cases' rules; Python keeps only true overlaps)."""
    before = max(
        dt.timedelta(minutes=c.rules.copresence_buffer_minutes + c.rules.assumed_stay_minutes)
        for c in cases
    )
    after = max(dt.timedelta(minutes=c.rules.copresence_buffer_minutes) for c in cases)
    # One minute more: SQLite's datetime() drops fractions of a second.
    return before + MAX_VISIT_LENGTH + dt.timedelta(minutes=1), after + dt.timedelta(minutes=1)


def stops_join_sql(
    case_ids: Sequence[int], before: dt.timedelta, after: dt.timedelta
) -> tuple[str, list[Any]]:
    """The bare SQL join of a case's (or cases') stops with the check-ins at the
    same venue around them: each stop is a small range scan on the (venue, time)
    index. Transport stops come back once, with no check-in."""
    marks = ", ".join(["%s"] * len(case_ids))
    if connection.vendor == "postgresql":
        lower, upper = "s.start - %s::interval", 's."end" + %s::interval'
        pads: list[Any] = [before, after]
    else:
        lower, upper = "datetime(s.start, %s)", 'datetime(s."end", %s)'
        pads = [
            f"-{int(before.total_seconds() // 60)} minutes",
            f"+{int(after.total_seconds() // 60)} minutes",
        ]
    columns = (
        's.id, s.case_id, s.kind, s.venue_id, s.start, s."end", s.transport_mode, '
        "s.transport_number, s.carriage, s.seat, c.person_id, c.time, c.last_scan_at, c.left_at"
    )
    sql = (
        f"SELECT {columns} FROM {_STOP} s LEFT JOIN {_CHECKIN} c "  # noqa: S608
        f"ON s.kind = 'venue' AND c.venue_id = s.venue_id "
        f"AND c.time >= {lower} AND c.time < {upper} "
        f"WHERE s.case_id IN ({marks}) AND s.kind IN ('venue', 'transport')"
    )
    return sql, [*pads, *case_ids]


def _candidates(cases: Sequence[Case]) -> tuple[list[_Window], list[_Hit]]:
    """One query: the cases' stops and the check-ins around them."""
    by_case = {c.pk: c for c in cases}
    before, after = _pads(cases)
    sql, params = stops_join_sql(list(by_case), before, after)
    windows: dict[int, _Window | None] = {}
    periods: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    hits: list[_Hit] = []
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    for row in rows:
        stop_id = row[0]
        if stop_id not in windows:
            stop = _Stop(
                stop_id,
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
            windows[stop_id] = _window(case, stop, periods[case.pk])
        w = windows[stop_id]
        person_id = row[10]
        if w is None or person_id is None or person_id == w.case.person_id:
            continue
        start = parse_db_datetime(row[11])
        if row[13] is not None:
            end = parse_db_datetime(row[13])
        else:
            end = parse_db_datetime(row[12]) + dt.timedelta(minutes=w.rules.assumed_stay_minutes)
        s, e = max(start, w.lo), min(end, w.hi)
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
        out.append(_Hit(w, person_id, s, e))
    return out


def _compute(
    cases: Sequence[Case],
) -> tuple[int, list[tuple[_Window, int, dt.datetime, dt.datetime, int]]]:
    """(stops examined, matches as (window, person, window start, end, overlap minutes))."""
    windows, hits = _candidates(cases)
    transport = [
        w
        for w in windows
        if w.stop.kind == TrajectoryStop.Kind.TRANSPORT and w.stop.transport_number
    ]
    if transport:
        hits += _transport_hits(transport)
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
    return len(windows), matches


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


def _store(
    matches: list[tuple[_Window, int, dt.datetime, dt.datetime, int]], case_ids: Sequence[int]
) -> int:
    """Insert the matches not recorded yet (one per stop and person) and mark the
    cases' stops as matched; return how many matches were new.

    One multi-row ``INSERT ... ON CONFLICT DO NOTHING`` per 500 matches; on
    PostgreSQL the stops' update travels in the same round trip."""
    db = connection.ops.adapt_datetimefield_value
    now = db(timezone.now())
    mark, mark_params = _mark_sql(case_ids)
    created = 0
    with connection.cursor() as cur:
        if not matches:
            cur.execute(mark, mark_params)
            return 0
        chunks = [matches[i : i + 500] for i in range(0, len(matches), 500)]
        for n, chunk in enumerate(chunks):
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
                    db(start),
                    db(end),
                    minutes,
                    ExposureMatch.Status.PENDING.value,
                    w.rules.pk,
                ]
            sql = (
                f"INSERT INTO {_MATCH} ({_INSERT_COLUMNS}) VALUES {values} "  # noqa: S608
                "ON CONFLICT DO NOTHING RETURNING id"
            )
            last = n == len(chunks) - 1
            if last and connection.vendor == "postgresql":
                cur.execute(f"{sql}; {mark}", params + mark_params)
            else:
                cur.execute(sql, params)
            created += len(cur.fetchall())
        if connection.vendor != "postgresql":
            cur.execute(mark, mark_params)
    return created


def match_case(*, actor: Any, case_id: int) -> MatchResult:
    """Match one case's venue and transport stops; store the new matches.

    Uses the rule version recorded on the case (the one in force on its report
    date) and records it on every match."""
    permissions.require(actor, "match.run")
    case = access_case_by_id(actor, case_id)
    with transaction.atomic():
        examined, matches = _compute([case])
        created = _store(matches, [case.pk])
        audit_record(
            actor=actor,
            action="match.run",
            obj=case,
            scope_path=case.scope_path,
            person_id=case.person_id,
            changes={"found": [None, len(matches)], "created": [None, created]},
        )
    return MatchResult([case.pk], examined, len(matches), created)


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
            examined, matches = _compute(part)
            total_examined += examined
            total_found += len(matches)
            total_created += _store(matches, [c.pk for c in part])
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
