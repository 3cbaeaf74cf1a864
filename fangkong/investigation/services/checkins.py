"""Check-ins: live scans (self, staff-assisted, dependants), bulk ingestion of
external scan logs, and deletion after the retention period.

Check-ins are the audit of themselves: each row already records who was where,
when, and how the scan was made (``source``: self scan, staff-assisted, by a
family member, imported). A scan writes no ``AuditEntry`` row: that would
double the writes on the hottest path of the platform (tens of millions of
scans a day in a large city) without recording anything the check-in row does
not. Imports (one audit row per file, with counts) and purges (count and
cut-off) are audited.

The live path is kept to one indexed read (the scanned venue code, joined to
its venue) and one write (extend the open visit, or insert a new one): raw SQL
through Django's cursor, no ORM model instances.

On PostgreSQL, when the operator opts in with
``FANGKONG_CHECKIN_ASYNC_COMMIT=1``, a live scan is committed with
``synchronous_commit = off`` (for that statement only): the request does not
wait for the WAL to reach the disk, which on ordinary disks takes longer than
everything else in the request. The price: if the database server crashes, the
scans of its last fraction of a second (at most 3 × ``wal_writer_delay``, 600 ms
by default) may be lost; the database stays consistent. It is off by default
because we never lose data unless the operator chose to.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions, signing
from fangkong.core.audit import audit_record
from fangkong.core.dbtime import db_datetime
from fangkong.core.errors import NotFound, ValidationFailed
from fangkong.core.models import Person
from fangkong.core.selectors import person_find_by_document
from fangkong.core.tabular import (
    FIRST_DATA_ROW,
    FileRejected,
    ImportRejected,
    RowError,
    decode_text,
    json_lines,
    read_table,
)
from fangkong.core.types import Actor
from fangkong.investigation.models import CheckIn, Disease, DiseaseRules
from fangkong.investigation.services.venues import (
    CODE_ROW_SQL,
    scanned_venue_from_row,
    venue_from_token,
    venue_token_payload,
)

# Repeated scans of one person at one venue within this many minutes are one visit.
DEDUP_MINUTES = 10
# The longest a visit can be: repeated scans extend a visit begun at most this long
# ago, and imported visits may not be longer. Matching relies on it to bound
# its index range scans.
MAX_VISIT_LENGTH = dt.timedelta(hours=12)
DEDUP_LOOKBACK = MAX_VISIT_LENGTH
# Scanner clocks may run this far ahead of the server.
CLOCK_SKEW = dt.timedelta(seconds=60)
# Live scans may be sent late (a phone offline) by at most this much; older
# logs go through bulk ingestion.
MAX_LIVE_DELAY = dt.timedelta(hours=24)
MAX_DEPENDANTS = 10
DEFAULT_RETENTION_DAYS = 28
PURGE_BATCH = 10_000

_TABLE = CheckIn._meta.db_table
_PERSON_TABLE = Person._meta.db_table


@dataclass(frozen=True)
class Visit:
    id: int
    person_id: int
    venue_id: int
    extended: bool


@dataclass(frozen=True)
class ScanResult:
    venue_id: int
    venue_name: str
    time: dt.datetime
    visits: list[Visit]


def _skip_prefix_result(cur: Any) -> None:
    if settings.FANGKONG_CHECKIN_ASYNC_COMMIT:
        cur.nextset()  # the SET LOCAL statement's empty result comes first


def _async_commit_prefix() -> str:
    """Opt-in (FANGKONG_CHECKIN_ASYNC_COMMIT): don't wait for the WAL flush on live scans.
    Off by default: we never lose data unless the operator chose that trade-off."""
    return "SET LOCAL synchronous_commit = off; " if settings.FANGKONG_CHECKIN_ASYNC_COMMIT else ""


def _db_dt(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _scan_time(when: dt.datetime | None) -> dt.datetime:
    now = timezone.now()
    if when is None:
        return now
    if timezone.is_naive(when):
        raise ValidationFailed(fields={"time": _("Give the time with its time zone.")})
    if when > now + CLOCK_SKEW:
        raise ValidationFailed(fields={"time": _("A check-in cannot be in the future.")})
    if when < now - MAX_LIVE_DELAY:
        raise ValidationFailed(
            fields={
                "time": _("This scan is more than a day old; import it with the scan log instead.")
            }
        )
    return when


# A live scan at %(at)s joins the person's latest visit at the venue by the rule of
# ``_mergeable`` and ``_merge`` (the scan is a visit of one instant): a visit whose
# scans come within the window of it and which stays within MAX_VISIT_LENGTH with it
# is widened to it (an earlier check-in, a later last scan); its check-out is kept.
_EXTEND_SQL = (
    f"UPDATE {_TABLE} SET time = CASE WHEN time > %s THEN %s ELSE time END, "  # noqa: S608
    "last_scan_at = CASE WHEN last_scan_at < %s THEN %s ELSE last_scan_at END "
    f"WHERE id = (SELECT id FROM {_TABLE} WHERE person_id = %s AND time >= %s "
    "AND time <= %s AND venue_id = %s AND last_scan_at >= %s AND last_scan_at <= %s "
    "AND (left_at IS NULL OR left_at <= %s) ORDER BY time DESC LIMIT 1)"
)


def _extend_params(person_id: int, venue_id: int, when: dt.datetime) -> list[Any]:
    window = dt.timedelta(minutes=DEDUP_MINUTES)
    at = _db_dt(when)
    latest = _db_dt(when + MAX_VISIT_LENGTH)
    return [
        at,
        at,
        at,
        at,
        person_id,
        _db_dt(when - MAX_VISIT_LENGTH),
        _db_dt(when + window),
        venue_id,
        _db_dt(when - window),
        latest,
        latest,
    ]


def _record_visit(*, venue_id: int, person_id: int, when: dt.datetime, source: str) -> Visit:
    """Widen the person's visit at the venue to this scan, or start a new one.

    One statement on PostgreSQL, two at most on SQLite. Two scans of one person arriving in the same
    millisecond may both insert; the visits then overlap and matching, which
    works on time windows, counts the person once per trajectory stop anyway.
    """
    at = _db_dt(when)
    update = _EXTEND_SQL + " RETURNING id"
    update_params = _extend_params(person_id, venue_id, when)
    # INSERT ... SELECT from the person row: an unknown person inserts nothing
    # (FK checks are deferred inside transactions), a merged one is recorded
    # against the record they were merged into.
    insert = (
        f"INSERT INTO {_TABLE} (venue_id, person_id, time, last_scan_at, left_at, "  # noqa: S608
        "source, external_ref) SELECT %s, COALESCE(p.merged_into_id, p.id), %s, %s, NULL, "
        f"%s, '' FROM {_PERSON_TABLE} p WHERE p.id = %s"
    )
    insert_params = [venue_id, at, at, source, person_id]
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # One round trip: extend, or else insert; committed without waiting
            # for the WAL flush (see the module docstring).
            cur.execute(
                _async_commit_prefix() + f"WITH upd AS ({update}), ins AS ({insert} AND NOT EXISTS "  # noqa: S608
                "(SELECT 1 FROM upd) RETURNING id) "
                "SELECT id, TRUE FROM upd UNION ALL SELECT id, FALSE FROM ins",
                update_params + insert_params,
            )
            _skip_prefix_result(cur)
            row = cur.fetchone()
            if row is not None and row[1]:
                return Visit(id=row[0], person_id=person_id, venue_id=venue_id, extended=True)
        else:
            cur.execute(update, update_params)
            row = cur.fetchone()
            if row is not None:
                return Visit(id=row[0], person_id=person_id, venue_id=venue_id, extended=True)
            cur.execute(insert + " RETURNING id", insert_params)
            row = cur.fetchone()
    if row is None:
        raise ValidationFailed(
            fields={"person_token": _("This personal code is not known.")}, code="unknown_person"
        )
    new_id = row[0]
    return Visit(id=new_id, person_id=person_id, venue_id=venue_id, extended=False)


def _scan_in_one_statement(
    venue_token: str, person_token: str, when: dt.datetime | None
) -> ScanResult:
    """The self scan on PostgreSQL: the code check, the visit's extension or
    insertion, in one statement (one round trip). The write happens only when
    the code row is valid; what was wrong is read from the returned row."""
    venue_id, serial, version = venue_token_payload(venue_token)
    person_id = signing.person_id_from_token(person_token)
    at = _scan_time(when)
    db_at = _db_dt(at)
    ok = "EXISTS (SELECT 1 FROM code WHERE key_version = %s AND revoked_at IS NULL)"
    sql = (
        _async_commit_prefix() + f"WITH code AS ({CODE_ROW_SQL}), "  # noqa: S608
        f"upd AS ({_EXTEND_SQL} AND {ok} RETURNING id), "
        f"ins AS (INSERT INTO {_TABLE} (venue_id, person_id, time, last_scan_at, left_at, "
        "source, external_ref) SELECT %s, COALESCE(p.merged_into_id, p.id), %s, %s, NULL, "
        f"%s, '' FROM {_PERSON_TABLE} p WHERE p.id = %s AND NOT EXISTS (SELECT 1 FROM upd) "
        f"AND {ok} RETURNING id) "
        "SELECT code.key_version, code.revoked_at, code.scope_path, code.name, "
        f"(SELECT id FROM upd), (SELECT id FROM ins), ({_late_stops_sql()}) "
        "FROM (SELECT 1) AS one LEFT JOIN code ON TRUE"
    )
    params = [
        venue_id,
        serial,
        *_extend_params(person_id, venue_id, at),
        version,
        venue_id,
        db_at,
        db_at,
        CheckIn.Source.SCAN.value,
        person_id,
        version,
        venue_id,
        _db_dt(at + dt.timedelta(minutes=DEDUP_MINUTES)),
        db_at,
    ]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        _skip_prefix_result(cur)
        row = cur.fetchone()
    venue = scanned_venue_from_row(venue_id, serial, version, row)
    assert row is not None
    if row[4] is not None:
        visit = Visit(id=row[4], person_id=person_id, venue_id=venue_id, extended=True)
    elif row[5] is not None:
        visit = Visit(id=row[5], person_id=person_id, venue_id=venue_id, extended=False)
    else:
        raise ValidationFailed(
            fields={"person_token": _("This personal code is not known.")}, code="unknown_person"
        )
    if row[6]:  # a matched stop of an open case may be reached: late data
        _follow_scan(venue_id, at)
    return ScanResult(venue.venue_id, venue.name, at, [visit])


@functools.cache
def _late_stops_sql() -> str:
    from fangkong.investigation.services.matching import late_stops_sql

    return late_stops_sql()


def _dependant_ids(scanner_id: int, dependants: list[Any]) -> list[int]:
    """Resolve dependants (person tokens or ids) and check they share the scanner's
    household. Raises ValidationFailed on ``dependants``."""
    if len(dependants) > MAX_DEPENDANTS:
        raise ValidationFailed(
            fields={
                "dependants": _("At most %(n)s dependants can be checked in at once.")
                % {"n": MAX_DEPENDANTS}
            }
        )
    ids: list[int] = []
    for item in dependants:
        if isinstance(item, bool):
            raise ValidationFailed(fields={"dependants": _("Give a person code or id.")})
        if isinstance(item, int):
            ids.append(item)
        elif isinstance(item, str) and item.strip().isdigit():
            ids.append(int(item.strip()))
        elif isinstance(item, str):
            ids.append(signing.person_id_from_token(item, field="dependants"))
        else:
            raise ValidationFailed(fields={"dependants": _("Give a person code or id.")})
    ids = [i for i in dict.fromkeys(ids) if i != scanner_id]
    if not ids:
        return []
    households = dict(
        Person.objects.filter(pk__in=[scanner_id, *ids], merged_into__isnull=True).values_list(
            "pk", "household_id"
        )
    )
    own = households.get(scanner_id)
    if own is None or any(households.get(i) != own for i in ids):
        raise ValidationFailed(
            fields={
                "dependants": _("Only members of your own household can be checked in with you.")
            }
        )
    return ids


def checkin_scan(
    *,
    venue_token: str,
    person_token: str,
    dependants: list[Any] | None = None,
    when: dt.datetime | None = None,
) -> ScanResult:
    """A resident scans a venue code with their phone (the personal token is the
    credential), optionally checking in household members with them."""
    if not dependants and connection.vendor == "postgresql":
        return _scan_in_one_statement(venue_token, person_token, when)
    venue = venue_from_token(venue_token)
    person_id = signing.person_id_from_token(person_token)
    at = _scan_time(when)
    if not dependants:
        visit = _record_visit(
            venue_id=venue.venue_id, person_id=person_id, when=at, source=CheckIn.Source.SCAN
        )
        _follow_scan(venue.venue_id, at)
        return ScanResult(venue.venue_id, venue.name, at, [visit])
    others = _dependant_ids(person_id, dependants)
    with transaction.atomic():
        visits = [
            _record_visit(
                venue_id=venue.venue_id, person_id=person_id, when=at, source=CheckIn.Source.SCAN
            )
        ]
        for pid in others:
            visits.append(
                _record_visit(
                    venue_id=venue.venue_id,
                    person_id=pid,
                    when=at,
                    source=CheckIn.Source.DEPENDANT,
                )
            )
        _follow_scan(venue.venue_id, at)
    return ScanResult(venue.venue_id, venue.name, at, visits)


def checkin_assist(
    *,
    actor: Actor,
    venue_token: str,
    doc_type: str,
    doc_number: str,
    when: dt.datetime | None = None,
) -> ScanResult:
    """Staff check in a person without a phone by their ID document, at a venue of
    their area."""
    from fangkong.core.identity import normalise_document

    permissions.require(actor, "checkin.assist")
    venue = venue_from_token(venue_token)
    if not permissions.in_scope(actor, venue.scope_path):
        raise NotFound()
    doc = normalise_document(doc_type, doc_number)
    person = person_find_by_document(doc.doc_type, doc.number)
    if person is None:
        raise ValidationFailed(
            fields={"doc_number": _("No one is registered with this document.")},
            code="unknown_person",
        )
    at = _scan_time(when)
    visit = _record_visit(
        venue_id=venue.venue_id, person_id=person.pk, when=at, source=CheckIn.Source.STAFF
    )
    _follow_scan(venue.venue_id, at)
    return ScanResult(venue.venue_id, venue.name, at, [visit])


# --- Retention -----------------------------------------------------------------


def checkin_retention_days(on: dt.date | None = None) -> int:
    """The longest check-in retention among the rule versions in force for active
    diseases (default 28 days)."""
    on = on or timezone.localdate()
    days = []
    for disease_id in Disease.objects.filter(active=True).values_list("pk", flat=True):
        rules = (
            DiseaseRules.objects.filter(disease_id=disease_id, effective_from__lte=on)
            .order_by("-effective_from", "-version")
            .values_list("checkin_retention_days", flat=True)
            .first()
        )
        if rules is not None:
            days.append(rules)
    return max(days) if days else DEFAULT_RETENTION_DAYS


def checkin_purge_expired(*, now: dt.datetime | None = None, batch_size: int = PURGE_BATCH) -> int:
    """Delete check-ins older than the retention period, in batches; log the count
    and cut-off in the audit trail (actor "system"). Returns the count deleted."""
    now = now or timezone.now()
    days = checkin_retention_days(timezone.localdate(now))
    cutoff = now - dt.timedelta(days=days)
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                CheckIn.objects.filter(time__lt=cutoff)
                .order_by("time")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            deleted += CheckIn.objects.filter(pk__in=ids).delete()[0]
    with transaction.atomic():
        audit_record(
            actor=None,
            action="checkin.purge",
            object_type="investigation.checkin",
            changes={
                "deleted": [None, deleted],
                "cutoff": [None, cutoff.isoformat()],
                "retention_days": [None, days],
            },
            reason=_("Check-ins older than the retention period are deleted."),
        )
    return deleted


parse_db_datetime = db_datetime  # raw-SQL datetimes, aware (core.dbtime)


# --- Bulk ingestion of scan logs ------------------------------------------------

INGEST_COLUMNS = {
    "venue",
    "venue_id",
    "venue_token",
    "person_id",
    "doc_type",
    "doc_number",
    "time",
    "left_at",
    "external_ref",
}
LOOKUP_CHUNK = 1000
PERSON_LOOKUP_LIMIT = 20_000


@dataclass
class IngestReport:
    rows: int = 0
    inserted: int = 0
    duplicates: int = 0
    extended: int = 0
    errors: list[RowError] = field(default_factory=list)
    # Matches of open cases that the new or widened visits reach (late data).
    matches_found: int = 0
    matches_widened: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "extended": self.extended,
            "matches_found": self.matches_found,
            "matches_widened": self.matches_widened,
            "errors": [e.as_dict() for e in self.errors],
        }


def _parse_time(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def _resolve_venues(
    actor: Actor, refs: set[str], errors_for: dict[str, str]
) -> dict[str, tuple[int, str]]:
    """Venue references (ids or tokens) → (venue id, scope path)."""
    from fangkong.investigation.models import Venue

    out: dict[str, tuple[int, str]] = {}
    ids = {r: int(r) for r in refs if r.isdigit()}
    found = dict(Venue.objects.filter(pk__in=set(ids.values())).values_list("pk", "scope_path"))
    for ref, vid in ids.items():
        if vid in found:
            out[ref] = (vid, found[vid])
        else:
            errors_for[ref] = _("Unknown venue.")
    for ref in refs - set(ids):
        try:
            scanned = venue_from_token(ref, field="venue")
        except ValidationFailed as exc:
            errors_for[ref] = exc.fields.get("venue", _("This code is not valid."))
            continue
        out[ref] = (scanned.venue_id, scanned.scope_path)
    prefix = permissions.scope_path(actor) if actor is not None else ""
    for ref, (_vid, path) in list(out.items()):
        if prefix is None or not path.startswith(prefix):
            del out[ref]
            errors_for[ref] = _("Unknown venue.")
    return out


@dataclass
class _Parsed:
    """A row as read, its references not yet resolved."""

    line: int
    venue_ref: str
    person_id: int | None
    doc: tuple[str, str] | None  # (doc_type, number)
    time: dt.datetime
    left_at: dt.datetime | None
    external_ref: str


@dataclass
class _Row:
    """A visit to write: a resolved row, or several merged (see ``_merge``)."""

    line: int
    venue_id: int
    person_id: int
    time: dt.datetime
    last_scan_at: dt.datetime
    left_at: dt.datetime | None
    external_ref: str


# --- Merging scans into visits: one rule for files, stored visits and live scans ----


def _latest(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _mergeable(visit: _Row, other: _Row) -> bool:
    """Two visits of one person at one venue are one when their scans come within
    ``DEDUP_MINUTES`` of each other and the visit they make lasts at most
    ``MAX_VISIT_LENGTH`` (matching bounds its range scans by it)."""
    window = dt.timedelta(minutes=DEDUP_MINUTES)
    if other.time > visit.last_scan_at + window or visit.time > other.last_scan_at + window:
        return False
    start = min(visit.time, other.time)
    end = max(visit.last_scan_at, other.last_scan_at)
    end = _latest(end, _latest(visit.left_at, other.left_at)) or end
    return end - start <= MAX_VISIT_LENGTH


def _merge(visit: _Row, other: _Row) -> None:
    """The union of what both say, never less than either: the earliest check-in,
    the latest last scan, the latest check-out."""
    visit.time = min(visit.time, other.time)
    visit.last_scan_at = max(visit.last_scan_at, other.last_scan_at)
    visit.left_at = _latest(visit.left_at, other.left_at)


# --- Stage 1: parse ---------------------------------------------------------------


def _parse_person(raw: Mapping[str, Any], line: int, errors: list[RowError]) -> tuple[Any, Any]:
    """(person id, None) or (None, (doc type, number)) or (None, None) with errors."""
    from fangkong.core.identity import normalise_document

    pid_text = str(raw.get("person_id") or "").strip()
    if pid_text:
        if pid_text.isdigit():
            return int(pid_text), None
        errors.append(RowError(line, "person_id", _("Give a number.")))
        return None, None
    if raw.get("doc_type") or raw.get("doc_number"):
        try:
            d = normalise_document(
                str(raw.get("doc_type") or "").strip(), str(raw.get("doc_number") or "")
            )
        except ValidationFailed as exc:
            errors.extend(RowError(line, col, msg) for col, msg in exc.fields.items())
            return None, None
        return None, (d.doc_type, d.number)
    errors.append(
        RowError(line, "person_id", _("Give a person id, or a document type and number."))
    )
    return None, None


def _parse_times(
    raw: Mapping[str, Any],
    line: int,
    errors: list[RowError],
    *,
    now: dt.datetime,
    oldest: dt.datetime,
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """(check-in time, check-out time or None); None for a bad check-in time."""
    when = _parse_time(raw.get("time"))
    if when is None:
        errors.append(
            RowError(line, "time", _("Give the time as ISO 8601, e.g. 2022-10-05T09:30:00+08:00."))
        )
    elif timezone.is_naive(when):
        errors.append(RowError(line, "time", _("Give the time with its time zone.")))
        when = None
    elif when > now + CLOCK_SKEW:
        errors.append(RowError(line, "time", _("A check-in cannot be in the future.")))
    elif when < oldest:
        errors.append(RowError(line, "time", _("Older than the retention period: not kept.")))
    left_text = raw.get("left_at")
    if left_text in (None, ""):
        return when, None
    left = _parse_time(left_text)
    if left is None or timezone.is_naive(left):
        errors.append(RowError(line, "left_at", _("Give the time as ISO 8601 with its time zone.")))
        return when, None
    if when is not None:
        if left < when:
            errors.append(RowError(line, "left_at", _("The visit ends before it starts.")))
        elif left - when > MAX_VISIT_LENGTH:
            errors.append(
                RowError(
                    line,
                    "left_at",
                    _("A visit lasts at most %(hours)s hours.")
                    % {"hours": int(MAX_VISIT_LENGTH.total_seconds() // 3600)},
                )
            )
    return when, left


def _parse_row(
    raw: Mapping[str, Any], line: int, *, now: dt.datetime, oldest: dt.datetime
) -> tuple[_Parsed | None, list[RowError]]:
    errors: list[RowError] = []
    for col in raw:
        if col not in INGEST_COLUMNS and col is not None and col != "":
            errors.append(RowError(line, str(col), _("Unknown column.")))
    venue_ref = str(raw.get("venue") or raw.get("venue_id") or raw.get("venue_token") or "").strip()
    if not venue_ref:
        errors.append(RowError(line, "venue", _("A venue id or venue code is required.")))
    person_id, doc = _parse_person(raw, line, errors)
    when, left = _parse_times(raw, line, errors, now=now, oldest=oldest)
    ref = str(raw.get("external_ref") or "").strip()
    if len(ref) > 64:
        errors.append(RowError(line, "external_ref", _("At most 64 characters.")))
    if errors:
        return None, errors
    assert when is not None
    return _Parsed(line, venue_ref, person_id, doc, when, left, ref), []


def _parse_rows(
    numbered: Iterable[tuple[int, Mapping[str, Any]]], *, now: dt.datetime, oldest: dt.datetime
) -> tuple[list[_Parsed], list[RowError], int]:
    """Every row checked: (parsed rows, problems, rows read)."""
    parsed: list[_Parsed] = []
    errors: list[RowError] = []
    count = 0
    for count, (line, raw) in enumerate(numbered, start=1):  # noqa: B007
        row, problems = _parse_row(raw, line, now=now, oldest=oldest)
        if row is None:
            errors.extend(problems)
        else:
            parsed.append(row)
    return parsed, errors, count


# --- Stage 2: resolve venues, people and documents in bulk ---------------------------


def _known_people(ids: set[int]) -> set[int]:
    known: set[int] = set()
    ordered = sorted(ids)
    for i in range(0, len(ordered), LOOKUP_CHUNK):
        known.update(
            Person.objects.filter(pk__in=ordered[i : i + LOOKUP_CHUNK]).values_list("pk", flat=True)
        )
    return known


def _people_by_document(docs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    from fangkong.core.crypto import lookup_hash

    hashes = {lookup_hash("doc", number): (doc_type, number) for doc_type, number in docs}
    found: dict[tuple[str, str], int] = {}
    hash_list = list(hashes)
    for i in range(0, len(hash_list), LOOKUP_CHUNK):
        for doc_type, doc_hash, pk in (
            Person.objects.active()
            .filter(doc_hash__in=hash_list[i : i + LOOKUP_CHUNK])
            .values_list("doc_type", "doc_hash", "pk")
        ):
            key = hashes[doc_hash]
            if key[0] == doc_type:
                found[key] = pk
    return found


def _resolve(actor: Actor, parsed: list[_Parsed]) -> tuple[list[_Row], list[RowError]]:
    """The rows whose venue (in the actor's area), person or document is known."""
    venue_errors: dict[str, str] = {}
    venues = _resolve_venues(actor, {p.venue_ref for p in parsed}, venue_errors)
    known = _known_people({p.person_id for p in parsed if p.person_id is not None})
    by_doc = _people_by_document({p.doc for p in parsed if p.doc is not None})
    good: list[_Row] = []
    errors: list[RowError] = []
    for p in parsed:
        row_errors = []
        if p.venue_ref not in venues:
            message = venue_errors.get(p.venue_ref, _("Unknown venue."))
            row_errors.append(RowError(p.line, "venue", message))
        person = p.person_id
        if person is not None and person not in known:
            row_errors.append(
                RowError(p.line, "person_id", _("No one is registered with this id."))
            )
        if p.doc is not None:
            person = by_doc.get(p.doc)
            if person is None:
                row_errors.append(
                    RowError(p.line, "doc_number", _("No one is registered with this document."))
                )
        if row_errors:
            errors.extend(row_errors)
            continue
        assert person is not None
        venue_id = venues[p.venue_ref][0]
        good.append(_Row(p.line, venue_id, person, p.time, p.time, p.left_at, p.external_ref))
    return good, errors


# --- Stage 3: merge into visits, in the file and with the visits stored ----------------


def _merge_in_file(rows: list[_Row]) -> tuple[list[_Row], int]:
    """One visit per person and venue for scans within the window: (visits, rows merged)."""
    rows.sort(key=lambda r: (r.person_id, r.venue_id, r.time))
    visits: list[_Row] = []
    merged = 0
    for r in rows:
        prev = visits[-1] if visits else None
        if (
            prev is not None
            and (prev.person_id, prev.venue_id) == (r.person_id, r.venue_id)
            and _mergeable(prev, r)
        ):
            _merge(prev, r)
            merged += 1
        else:
            visits.append(r)
    return visits, merged


def _stored_visits(visits: list[_Row]) -> dict[tuple[int, int], list[tuple[int, _Row]]]:
    """The stored visits a visit of the file could merge with, by (person, venue)."""
    window = dt.timedelta(minutes=DEDUP_MINUTES)
    lo = min(r.time for r in visits) - MAX_VISIT_LENGTH - window
    hi = max(r.last_scan_at for r in visits) + window
    pairs = {(r.person_id, r.venue_id) for r in visits}
    people = sorted({p for p, _v in pairs})
    # Few people: their visits through the (person, time) index; many (a city's
    # daily log): one range scan of the time index over the log's span.
    if len(people) <= PERSON_LOOKUP_LIMIT:
        queries = [
            CheckIn.objects.filter(
                person_id__in=people[i : i + LOOKUP_CHUNK], time__gte=lo, time__lte=hi
            )
            for i in range(0, len(people), LOOKUP_CHUNK)
        ]
    else:
        queries = [CheckIn.objects.filter(time__gte=lo, time__lte=hi)]
    stored: dict[tuple[int, int], list[tuple[int, _Row]]] = {}
    for qs in queries:
        for pk, person_id, venue_id, time, last, left in qs.values_list(
            "pk", "person_id", "venue_id", "time", "last_scan_at", "left_at"
        ).iterator(chunk_size=5000):
            if (person_id, venue_id) in pairs:
                row = _Row(0, venue_id, person_id, time, last, left, "")
                stored.setdefault((person_id, venue_id), []).append((pk, row))
    return stored


def _merge_with_stored(visits: list[_Row]) -> tuple[list[_Row], dict[int, _Row], int]:
    """(new visits to insert, stored visits to widen by id with their union, merged)."""
    stored = _stored_visits(visits)
    to_insert: list[_Row] = []
    widened: dict[int, _Row] = {}
    merged = 0
    for r in visits:
        for pk, visit in stored.get((r.person_id, r.venue_id), ()):
            if _mergeable(visit, r):
                _merge(visit, r)
                widened[pk] = visit
                merged += 1
                break
        else:
            to_insert.append(r)
    return to_insert, widened, merged


# --- Stage 4: write ----------------------------------------------------------------------


def _follow(visits: list[_Row], *, actor: Actor) -> Any:
    """Matches of open cases follow the visits just added or widened."""
    from fangkong.investigation.services.matching import matches_follow_visits

    spans = [(v.venue_id, v.time, max(v.last_scan_at, v.left_at or v.last_scan_at)) for v in visits]
    return matches_follow_visits(spans, actor=actor)


def _follow_scan(venue_id: int, at: dt.datetime) -> None:
    """Matches follow a live scan (one sent late reaches a matched stop): the visit
    it changed changed at most from ``at`` to ``at`` + the dedup window (plus the
    assumed stay, which the matching adds)."""
    from fangkong.investigation.services.matching import matches_follow_visits

    matches_follow_visits([(venue_id, at, at + dt.timedelta(minutes=DEDUP_MINUTES))])


# A stored visit widened by a merge: never narrowed, even if a live scan widened it
# since it was read (each bound moves only outwards).
_WIDEN_SQL = (
    f"UPDATE {_TABLE} SET "  # noqa: S608
    "time = CASE WHEN time > %s THEN %s ELSE time END, "
    "last_scan_at = CASE WHEN last_scan_at < %s THEN %s ELSE last_scan_at END, "
    "left_at = CASE WHEN left_at IS NULL OR left_at < %s THEN COALESCE(%s, left_at) "
    "ELSE left_at END WHERE id = %s"
)


def _widen(visits: dict[int, _Row]) -> None:
    db = _db_dt
    params = []
    for pk, v in visits.items():
        left = db(v.left_at) if v.left_at is not None else None
        params.append([db(v.time)] * 2 + [db(v.last_scan_at)] * 2 + [left] * 2 + [pk])
    if params:
        with connection.cursor() as cur:
            cur.executemany(_WIDEN_SQL, params)


def checkins_ingest(
    rows: Iterable[Mapping[str, Any]],
    *,
    actor: Actor = None,
    valid_only: bool = False,
    source_name: str = "",
    first_line: int = FIRST_DATA_ROW,
) -> IngestReport:
    """Validate and load a check-in log given as rows (mappings with the columns of
    ``INGEST_COLUMNS``, as a CSV reader yields them), numbered from ``first_line``;
    see ``_ingest``."""
    return _ingest(
        enumerate(rows, start=first_line),
        actor=actor,
        valid_only=valid_only,
        source_name=source_name,
    )


def checkins_ingest_file(
    data: bytes,
    *,
    fmt: str,
    actor: Actor = None,
    valid_only: bool = False,
    source_name: str = "",
) -> IngestReport:
    """Validate and load a check-in log file (CSV or JSON lines, UTF-8 or GB18030);
    problems carry the file's own row numbers. See ``_ingest``."""
    return _ingest(
        read_checkin_log(data, fmt=fmt),
        actor=actor,
        valid_only=valid_only,
        source_name=source_name,
    )


def _ingest(
    numbered: Iterable[tuple[int, Mapping[str, Any]]],
    *,
    actor: Actor,
    valid_only: bool,
    source_name: str,
) -> IngestReport:
    """Four stages: parse every row, resolve venues and people in bulk, merge the
    scans into visits (in the file and with the visits stored), write.

    Every problem is reported as a ``RowError`` (row, column, message); unless
    ``valid_only``, nothing is written when any row is bad (``ImportRejected``,
    whose ``result`` is the report). Scans of one person at one venue within 10
    minutes of each other are one visit keeping the union of what each says
    (``_merge``). Rows are written in bulk: ``COPY`` on PostgreSQL, one
    ``executemany`` in one transaction on SQLite. With ``actor``
    (``checkin.import``) only venues of their area are accepted; without, the
    caller is the system.
    """
    if actor is not None:
        permissions.require(actor, "checkin.import")
    now = timezone.now()
    oldest = now - dt.timedelta(days=checkin_retention_days(timezone.localdate(now)))
    parsed, errors, count = _parse_rows(numbered, now=now, oldest=oldest)
    good, unresolved = _resolve(actor, parsed)
    errors += unresolved
    errors.sort(key=lambda e: (e.row, e.column))
    report = IngestReport(rows=count, errors=errors)
    if errors and not valid_only:
        raise ImportRejected(errors, result=report)
    if not good:
        return report
    visits, in_file = _merge_in_file(good)
    to_insert, widened, with_stored = _merge_with_stored(visits)
    report.duplicates = in_file + with_stored
    with transaction.atomic():
        report.inserted = _bulk_insert(to_insert)
        _widen(widened)
        report.extended = len(widened)
        followed = _follow([*to_insert, *widened.values()], actor=actor)
        report.matches_found, report.matches_widened = followed.created, followed.updated
        audit_record(
            actor=actor,
            action="checkin.import",
            object_type="investigation.checkin",
            changes={
                "rows": [None, report.rows],
                "inserted": [None, report.inserted],
                "duplicates": [None, report.duplicates],
                "rejected": [None, len(errors)],
            },
            reason=source_name,
        )
    return report


COPY_COLUMNS = "venue_id, person_id, time, last_scan_at, left_at, source, external_ref"


def _bulk_insert(rows: list[_Row]) -> int:
    """COPY on PostgreSQL, executemany on SQLite (inside the caller's transaction)."""
    source = CheckIn.Source.IMPORT.value
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            raw = cur.cursor
            with raw.copy(f"COPY {_TABLE} ({COPY_COLUMNS}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(
                        (
                            r.venue_id,
                            r.person_id,
                            r.time,
                            r.last_scan_at,
                            r.left_at,
                            source,
                            r.external_ref,
                        )
                    )
        return len(rows)
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {_TABLE} ({COPY_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)",  # noqa: S608
            [
                (
                    r.venue_id,
                    r.person_id,
                    adapt(r.time),
                    adapt(r.last_scan_at),
                    adapt(r.left_at) if r.left_at else None,
                    source,
                    r.external_ref,
                )
                for r in rows
            ],
        )
    return len(rows)


def read_checkin_log(data: bytes, *, fmt: str) -> list[tuple[int, dict[str, Any]]]:
    """A log file's rows, each with its row number as the person sees it (the
    spreadsheet's, header = row 1; a JSON-lines file's line). Raises FileRejected
    for a file that is not text, has unknown columns or a line that is not JSON."""
    text = decode_text(data)
    if fmt == "csv":
        table = read_table(text, delimiter=",")
        unknown = [h for h in table.header if h and h not in INGEST_COLUMNS]
        if unknown:
            raise FileRejected(
                _("Unknown columns: %(cols)s. Known columns: %(known)s.")
                % {"cols": ", ".join(unknown), "known": ", ".join(sorted(INGEST_COLUMNS))}
            )
        names = list(enumerate(table.header))
        return [
            (row, {name: cells[i] for i, name in names if name and i < len(cells)})
            for row, cells in table.rows
        ]
    if fmt == "jsonl":
        return list(json_lines(text))
    raise ValidationFailed(fields={"format": _("Use csv or jsonl.")})
