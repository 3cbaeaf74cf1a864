"""Co-presence (时空伴随 at venue level) and shared-transport matching.

For each trajectory stop of a case, inside the case's infectious period:

- **venue** stops: everyone whose visit window ``[time, coalesce(left_at,
  last_scan_at + assumed stay)]`` at the same venue overlaps the stop window
  widened by the co-presence buffer on both sides;
- **transport** stops: everyone on the same flight / train / bus on the same
  day (same carriage for trains), seated within ``transport_seat_rows`` rows of
  the case when both seats are known.

Periods come from the disease rule version in force on the case's report date,
recorded on every match. One match per (stop, person): re-running after new
stops adds only the new matches (the unique constraint does the work).

Speed: all stops of a case (or of a batch of cases) are looked up in one
``UNION ALL`` query, each arm a small range scan on the (venue, time) index:
``venue_id = X AND time >= widened_start - longest visit AND time < widened_end``.
A visit is at most ``MAX_VISIT_LENGTH`` + the assumed stay long (live scans are
extended only within that look-back; imports refuse longer ones), so the
bounded range loses nothing. Overlaps are computed in Python on the few rows found.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
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
from fangkong.investigation.services.rules import infectious_period_start, rules_in_force

# Stops looked up per query (SQLite allows 500 arms in a compound SELECT).
STOPS_PER_QUERY = 200

_CHECKIN = CheckIn._meta.db_table
_TRAVEL = TravelRecord._meta.db_table


@dataclass(frozen=True)
class MatchResult:
    case_ids: list[int]
    stops_examined: int
    found: int
    created: int


@dataclass(frozen=True)
class _Window:
    """A stop clipped to the infectious period, widened by the buffer."""

    key: int
    case: Case
    stop: TrajectoryStop
    rules: DiseaseRules
    lo: dt.datetime
    hi: dt.datetime


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


def _windows(cases: Sequence[Case], stops: Iterable[TrajectoryStop]) -> list[_Window]:
    by_case = {c.pk: c for c in cases}
    rules_cache: dict[tuple[int, dt.date], DiseaseRules] = {}
    periods: dict[int, tuple[DiseaseRules, dt.datetime, dt.datetime]] = {}
    for case in cases:
        key = (case.disease_id, case.report_date)
        if key not in rules_cache:
            rules_cache[key] = rules_in_force(case.disease_id, case.report_date)
        rules = rules_cache[key]
        periods[case.pk] = (rules, *infectious_window(case, rules))
    out: list[_Window] = []
    for stop in stops:
        case = by_case[stop.case_id]
        rules, inf_start, inf_end = periods[case.pk]
        start, end = max(stop.start, inf_start), min(stop.end, inf_end)
        if end < start:
            continue
        buffer = dt.timedelta(minutes=rules.copresence_buffer_minutes)
        if stop.kind == TrajectoryStop.Kind.TRANSPORT:
            buffer = dt.timedelta(0)
        out.append(_Window(len(out), case, stop, rules, start - buffer, end + buffer))
    return out


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


def _venue_sql(windows: list[_Window]) -> tuple[str, list[Any]]:
    """One UNION ALL query over the (venue, time) index for many stop windows."""
    arms, params = [], []
    db = connection.ops.adapt_datetimefield_value
    for w in windows:
        longest = MAX_VISIT_LENGTH + dt.timedelta(minutes=w.rules.assumed_stay_minutes)
        arms.append(
            f"SELECT %s, person_id, time, last_scan_at, left_at FROM {_CHECKIN} "  # noqa: S608
            "WHERE venue_id = %s AND time >= %s AND time < %s AND person_id <> %s"
        )
        params += [w.key, w.stop.venue_id, db(w.lo - longest), db(w.hi), w.case.person_id]
    return " UNION ALL ".join(arms), params


def venue_candidates_sql(windows: list[_Window]) -> tuple[str, list[Any]]:
    """The bare query (for the benchmark's floor)."""
    return _venue_sql(windows)


def _venue_matches(windows: list[_Window]) -> list[ExposureMatch]:
    by_key = {w.key: w for w in windows}
    hits: dict[tuple[int, int], list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    with connection.cursor() as cur:
        for i in range(0, len(windows), STOPS_PER_QUERY):
            sql, params = _venue_sql(windows[i : i + STOPS_PER_QUERY])
            cur.execute(sql, params)
            for key, person_id, time, last_scan, left in cur.fetchall():
                w = by_key[key]
                start = parse_db_datetime(time)
                if left is not None:
                    end = parse_db_datetime(left)
                else:
                    end = parse_db_datetime(last_scan) + dt.timedelta(
                        minutes=w.rules.assumed_stay_minutes
                    )
                s, e = max(start, w.lo), min(end, w.hi)
                if e > s:
                    hits[(key, person_id)].append((s, e))
    return [_match(by_key[key], person_id, spans) for (key, person_id), spans in hits.items()]


_ROW = re.compile(r"(\d+)")


def seat_row(seat: str) -> int | None:
    """The row number of a seat like ``12A`` / ``03F`` (None when unknown)."""
    m = _ROW.search(seat or "")
    return int(m.group(1)) if m else None


def _transport_matches(windows: list[_Window]) -> list[ExposureMatch]:
    by_key = {w.key: w for w in windows}
    arms, params = [], []
    db = connection.ops.adapt_datetimefield_value
    for w in windows:
        stop = w.stop
        day = timezone.localdate(stop.start)
        sql = (
            f"SELECT %s, person_id, departure, arrival, carriage, seat_row FROM {_TRAVEL} "  # noqa: S608
            "WHERE mode = %s AND number = %s AND departure >= %s AND departure < %s "
            "AND person_id <> %s"
        )
        p: list[Any] = [
            w.key,
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
    out: list[ExposureMatch] = []
    seen: set[tuple[int, int]] = set()
    with connection.cursor() as cur:
        cur.execute(" UNION ALL ".join(arms), params)
        rows = cur.fetchall()
    for key, person_id, departure, arrival, _carriage, row in rows:
        w = by_key[key]
        case_row = seat_row(w.stop.seat)
        if case_row is not None and row is not None:
            if abs(row - case_row) > w.rules.transport_seat_rows:
                continue
        if (key, person_id) in seen:
            continue
        seen.add((key, person_id))
        dep = parse_db_datetime(departure)
        arr = parse_db_datetime(arrival) if arrival is not None else w.hi
        s, e = max(dep, w.lo), min(arr, w.hi)
        if e <= s:  # times on the manifest disagree with the trajectory: the whole trip
            s, e = w.lo, w.hi
        out.append(_match(w, person_id, [(s, e)]))
    return out


def _match(
    w: _Window, person_id: int, spans: list[tuple[dt.datetime, dt.datetime]]
) -> ExposureMatch:
    return ExposureMatch(
        case=w.case,
        stop=w.stop,
        person_id=person_id,
        kind=w.stop.kind,
        venue_id=w.stop.venue_id,
        window_start=min(s for s, _e in spans),
        window_end=max(e for _s, e in spans),
        overlap_minutes=_minutes(_union_length(spans)),
        rules=w.rules,
    )


def _compute(cases: Sequence[Case]) -> tuple[int, list[ExposureMatch]]:
    stops = TrajectoryStop.objects.filter(
        case__in=[c.pk for c in cases],
        kind__in=[TrajectoryStop.Kind.VENUE, TrajectoryStop.Kind.TRANSPORT],
    ).order_by("case_id", "start", "id")
    windows = _windows(cases, stops)
    venue_windows = [
        w for w in windows if w.stop.kind == TrajectoryStop.Kind.VENUE and w.stop.venue_id
    ]
    transport_windows = [
        w
        for w in windows
        if w.stop.kind == TrajectoryStop.Kind.TRANSPORT and w.stop.transport_number
    ]
    matches = _venue_matches(venue_windows) if venue_windows else []
    matches += _transport_matches(transport_windows) if transport_windows else []
    return len(windows), matches


def _store(matches: list[ExposureMatch], stop_ids: Iterable[int]) -> int:
    """Insert the matches not recorded yet; return how many were new."""
    if not matches:
        return 0
    before = ExposureMatch.objects.filter(stop_id__in=list(stop_ids)).count()
    ExposureMatch.objects.bulk_create(matches, batch_size=1000, ignore_conflicts=True)
    after = ExposureMatch.objects.filter(stop_id__in=list(stop_ids)).count()
    return after - before


def match_case(*, actor: Any, case_id: int) -> MatchResult:
    """Match one case's venue and transport stops; store the new matches."""
    permissions.require(actor, "match.run")
    case = access_case_by_id(actor, case_id)
    with transaction.atomic():
        examined, matches = _compute([case])
        stop_ids = {m.stop_id for m in matches}
        created = _store(matches, stop_ids)
        now = timezone.now()
        TrajectoryStop.objects.filter(
            case=case, kind__in=[TrajectoryStop.Kind.VENUE, TrajectoryStop.Kind.TRANSPORT]
        ).update(matched_at=now)
        audit_record(
            actor=actor,
            action="match.run",
            obj=case,
            scope_path=case.scope_path,
            person_id=case.person_id,
            changes={"found": [None, len(matches)], "created": [None, created]},
        )
    return MatchResult([case.pk], examined, len(matches), created)


def match_cases(case_ids: Sequence[int], *, actor: Any = None) -> MatchResult:
    """Batch job: match many cases at once (one audit row for the batch).

    Run by the system (no permission check) or on behalf of ``actor``
    (``match.run``; cases outside their area are skipped)."""
    if actor is not None:
        permissions.require(actor, "match.run")
    qs = Case.objects.filter(pk__in=list(case_ids))
    prefix = permissions.scope_path(actor) if actor is not None else ""
    cases = [c for c in qs if prefix is not None and c.scope_path.startswith(prefix)]
    total_examined = total_found = total_created = 0
    with transaction.atomic():
        for i in range(0, len(cases), 250):
            chunk = cases[i : i + 250]
            examined, matches = _compute(chunk)
            total_examined += examined
            total_found += len(matches)
            total_created += _store(matches, {m.stop_id for m in matches})
        TrajectoryStop.objects.filter(
            case__in=[c.pk for c in cases],
            kind__in=[TrajectoryStop.Kind.VENUE, TrajectoryStop.Kind.TRANSPORT],
        ).update(matched_at=timezone.now())
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
