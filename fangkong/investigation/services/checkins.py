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


def _record_visit(*, venue_id: int, person_id: int, when: dt.datetime, source: str) -> Visit:
    """Extend the person's open visit at the venue, or start a new one.

    One statement on PostgreSQL, two at most on SQLite. Two scans of one person arriving in the same
    millisecond may both insert; the visits then overlap and matching, which
    works on time windows, counts the person once per trajectory stop anyway.
    """
    window = dt.timedelta(minutes=DEDUP_MINUTES)
    at = _db_dt(when)
    update = (
        f"UPDATE {_TABLE} SET last_scan_at = CASE WHEN last_scan_at < %s THEN %s "  # noqa: S608
        "ELSE last_scan_at END WHERE id = (SELECT id FROM "
        f"{_TABLE} WHERE person_id = %s AND time >= %s AND time <= %s "
        "AND venue_id = %s AND last_scan_at >= %s ORDER BY time DESC LIMIT 1) RETURNING id"
    )
    update_params = [
        at,
        at,
        person_id,
        _db_dt(when - DEDUP_LOOKBACK),
        _db_dt(when + window),
        venue_id,
        _db_dt(when - window),
    ]
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
    window = dt.timedelta(minutes=DEDUP_MINUTES)
    db_at = _db_dt(at)
    ok = "EXISTS (SELECT 1 FROM code WHERE key_version = %s AND revoked_at IS NULL)"
    sql = (
        _async_commit_prefix() + f"WITH code AS ({CODE_ROW_SQL}), "  # noqa: S608
        f"upd AS (UPDATE {_TABLE} SET last_scan_at = CASE WHEN last_scan_at < %s THEN %s "
        f"ELSE last_scan_at END WHERE id = (SELECT id FROM {_TABLE} WHERE person_id = %s "
        "AND time >= %s AND time <= %s AND venue_id = %s AND last_scan_at >= %s "
        f"ORDER BY time DESC LIMIT 1) AND {ok} RETURNING id), "
        f"ins AS (INSERT INTO {_TABLE} (venue_id, person_id, time, last_scan_at, left_at, "
        "source, external_ref) SELECT %s, COALESCE(p.merged_into_id, p.id), %s, %s, NULL, "
        f"%s, '' FROM {_PERSON_TABLE} p WHERE p.id = %s AND NOT EXISTS (SELECT 1 FROM upd) "
        f"AND {ok} RETURNING id) "
        "SELECT code.key_version, code.revoked_at, code.scope_path, code.name, "
        "(SELECT id FROM upd), (SELECT id FROM ins) FROM (SELECT 1) AS one "
        "LEFT JOIN code ON TRUE"
    )
    params = [
        venue_id,
        serial,
        db_at,
        db_at,
        person_id,
        _db_dt(at - DEDUP_LOOKBACK),
        _db_dt(at + window),
        venue_id,
        _db_dt(at - window),
        version,
        venue_id,
        db_at,
        db_at,
        CheckIn.Source.SCAN.value,
        person_id,
        version,
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
    return ScanResult(venue.venue_id, venue.name, at, [visit])


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
    return ScanResult(venue.venue_id, venue.name, at, visits)


def checkin_assist(
    *,
    actor: Any,
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


@dataclass(frozen=True)
class IngestError:
    """One problem in a log; ``row`` is 1-based with the header as row 1 (CSV) or
    the line number (JSON lines)."""

    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class IngestReport:
    rows: int = 0
    inserted: int = 0
    duplicates: int = 0
    extended: int = 0
    errors: list[IngestError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "extended": self.extended,
            "errors": [e.as_dict() for e in self.errors],
        }


class IngestRejected(ValidationFailed):
    code = "import_rejected"

    def __init__(self, report: IngestReport) -> None:
        errors = report.errors
        super().__init__(
            _("The log was not imported: %(n)s problems found.") % {"n": len(errors)},
            extra={"errors": [e.as_dict() for e in errors[:1000]], "rows": report.rows},
        )
        self.report = report


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


@dataclass
class _Row:
    line: int
    venue_id: int
    person_id: int
    time: dt.datetime
    last_scan_at: dt.datetime
    left_at: dt.datetime | None
    external_ref: str


def _resolve_venues(
    actor: Any, refs: set[str], errors_for: dict[str, str]
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


def checkins_ingest(
    rows: Any,
    *,
    actor: Any = None,
    valid_only: bool = False,
    source_name: str = "",
    first_line: int = 2,
) -> IngestReport:
    """Validate and load a check-in log (an iterable of dicts with the columns of
    ``INGEST_COLUMNS``).

    Every row is checked and every problem reported as (row, column, message);
    unless ``valid_only``, nothing is written when any row is bad
    (``IngestRejected``). Scans of one person at one venue within 10 minutes
    of each other, in the file or against visits already stored, are one visit.
    Rows are written in bulk: ``COPY`` on PostgreSQL, one ``executemany`` in one
    transaction on SQLite. With ``actor`` (``checkin.import``) only venues of
    their area are accepted; without, the caller is the system.
    """
    from fangkong.core.crypto import lookup_hash
    from fangkong.core.identity import normalise_document

    if actor is not None:
        permissions.require(actor, "checkin.import")
    report = IngestReport()
    errors: list[IngestError] = []
    now = timezone.now()
    oldest = now - dt.timedelta(days=checkin_retention_days(timezone.localdate(now)))
    window = dt.timedelta(minutes=DEDUP_MINUTES)

    # Pass 1: parse, collect references to resolve in bulk.
    parsed: list[tuple[int, str, Any, tuple[str, str] | None, dt.datetime, Any, str]] = []
    venue_refs: set[str] = set()
    person_ids: set[int] = set()
    docs: dict[tuple[str, str], str] = {}  # (doc_type, number) -> hash
    line = first_line - 1
    for raw in rows:
        line += 1
        report.rows += 1
        row_errors: list[IngestError] = []
        unknown = [k for k in raw if k not in INGEST_COLUMNS and k is not None and k != ""]
        for col in unknown:
            row_errors.append(IngestError(line, str(col), _("Unknown column.")))
        venue_ref = str(
            raw.get("venue") or raw.get("venue_id") or raw.get("venue_token") or ""
        ).strip()
        if not venue_ref:
            row_errors.append(
                IngestError(line, "venue", _("A venue id or venue code is required."))
            )
        person: Any = None
        doc: tuple[str, str] | None = None
        pid_text = str(raw.get("person_id") or "").strip()
        if pid_text:
            if pid_text.isdigit():
                person = int(pid_text)
            else:
                row_errors.append(IngestError(line, "person_id", _("Give a number.")))
        elif raw.get("doc_type") or raw.get("doc_number"):
            try:
                d = normalise_document(
                    str(raw.get("doc_type") or "").strip(), str(raw.get("doc_number") or "")
                )
            except ValidationFailed as exc:
                for col, msg in exc.fields.items():
                    row_errors.append(IngestError(line, col, msg))
            else:
                doc = (d.doc_type, d.number)
        else:
            row_errors.append(
                IngestError(
                    line, "person_id", _("Give a person id, or a document type and number.")
                )
            )
        when = _parse_time(raw.get("time"))
        if when is None:
            row_errors.append(
                IngestError(
                    line, "time", _("Give the time as ISO 8601, e.g. 2022-10-05T09:30:00+08:00.")
                )
            )
        elif timezone.is_naive(when):
            row_errors.append(IngestError(line, "time", _("Give the time with its time zone.")))
            when = None
        elif when > now + CLOCK_SKEW:
            row_errors.append(IngestError(line, "time", _("A check-in cannot be in the future.")))
        elif when < oldest:
            row_errors.append(
                IngestError(line, "time", _("Older than the retention period: not kept."))
            )
        left_text = raw.get("left_at")
        left: dt.datetime | None = None
        if left_text not in (None, ""):
            left = _parse_time(left_text)
            if left is None or timezone.is_naive(left):
                row_errors.append(
                    IngestError(line, "left_at", _("Give the time as ISO 8601 with its time zone."))
                )
                left = None
            elif when is not None and not timezone.is_naive(when):
                if left < when:
                    row_errors.append(
                        IngestError(line, "left_at", _("The visit ends before it starts."))
                    )
                elif left - when > MAX_VISIT_LENGTH:
                    row_errors.append(
                        IngestError(
                            line,
                            "left_at",
                            _("A visit lasts at most %(hours)s hours.")
                            % {"hours": int(MAX_VISIT_LENGTH.total_seconds() // 3600)},
                        )
                    )
        ref = str(raw.get("external_ref") or "").strip()
        if len(ref) > 64:
            row_errors.append(IngestError(line, "external_ref", _("At most 64 characters.")))
        if row_errors:
            errors.extend(row_errors)
            continue
        assert when is not None
        venue_refs.add(venue_ref)
        if person is not None:
            person_ids.add(person)
        if doc is not None and doc not in docs:
            docs[doc] = lookup_hash("doc", doc[1])
        parsed.append((line, venue_ref, person, doc, when, left, ref))

    # Pass 2: resolve venues, people and documents in bulk.
    venue_errors: dict[str, str] = {}
    venues = _resolve_venues(actor, venue_refs, venue_errors)
    known_people: set[int] = set()
    ids = sorted(person_ids)
    for i in range(0, len(ids), LOOKUP_CHUNK):
        known_people.update(
            Person.objects.filter(pk__in=ids[i : i + LOOKUP_CHUNK]).values_list("pk", flat=True)
        )
    by_doc: dict[tuple[str, str], int] = {}
    hashes = {h: key for key, h in docs.items()}
    hash_list = list(hashes)
    for i in range(0, len(hash_list), LOOKUP_CHUNK):
        for doc_type, doc_hash, pk in (
            Person.objects.active()
            .filter(doc_hash__in=hash_list[i : i + LOOKUP_CHUNK])
            .values_list("doc_type", "doc_hash", "pk")
        ):
            key = hashes[doc_hash]
            if key[0] == doc_type:
                by_doc[key] = pk
    good: list[_Row] = []
    for line, venue_ref, person, doc, when, left, ref in parsed:
        bad = False
        if venue_ref not in venues:
            errors.append(
                IngestError(line, "venue", venue_errors.get(venue_ref, _("Unknown venue.")))
            )
            bad = True
        if person is not None and person not in known_people:
            errors.append(IngestError(line, "person_id", _("No one is registered with this id.")))
            bad = True
        if doc is not None:
            person = by_doc.get(doc)
            if person is None:
                errors.append(
                    IngestError(line, "doc_number", _("No one is registered with this document."))
                )
                bad = True
        if bad:
            continue
        good.append(_Row(line, venues[venue_ref][0], person, when, when, left, ref))

    errors.sort(key=lambda e: (e.row, e.column))
    report.errors = errors
    if errors and not valid_only:
        raise IngestRejected(report)
    if not good:
        return report

    # Pass 3: one visit per person and venue within the dedup window, in the file...
    good.sort(key=lambda r: (r.person_id, r.venue_id, r.time))
    visits: list[_Row] = []
    for r in good:
        prev = visits[-1] if visits else None
        if (
            prev is not None
            and prev.person_id == r.person_id
            and prev.venue_id == r.venue_id
            and r.time <= prev.last_scan_at + window
        ):
            prev.last_scan_at = max(prev.last_scan_at, r.time)
            if r.left_at is not None and (prev.left_at is None or r.left_at > prev.left_at):
                prev.left_at = r.left_at
            report.duplicates += 1
            continue
        visits.append(r)

    # ... and against the visits already stored.
    lo = min(r.time for r in visits) - MAX_VISIT_LENGTH - window
    hi = max(r.time for r in visits) + window
    pairs: dict[tuple[int, int], list[_Row]] = {}
    for r in visits:
        pairs.setdefault((r.person_id, r.venue_id), []).append(r)
    existing: dict[tuple[int, int], list[tuple[int, dt.datetime, dt.datetime]]] = {}
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
    for qs in queries:
        for pk, person_id, venue_id, time, last in qs.values_list(
            "pk", "person_id", "venue_id", "time", "last_scan_at"
        ).iterator(chunk_size=5000):
            if (person_id, venue_id) in pairs:
                existing.setdefault((person_id, venue_id), []).append((pk, time, last))
    extend: dict[int, dt.datetime] = {}
    to_insert: list[_Row] = []
    for r in visits:
        hit = None
        for pk, time, last in existing.get((r.person_id, r.venue_id), ()):
            if time - window <= r.time <= last + window:
                hit = (pk, last)
                break
        if hit is None:
            to_insert.append(r)
            continue
        report.duplicates += 1
        if r.last_scan_at > hit[1]:
            extend[hit[0]] = max(extend.get(hit[0], r.last_scan_at), r.last_scan_at)

    with transaction.atomic():
        report.inserted = _bulk_insert(to_insert)
        for pk, last in extend.items():
            CheckIn.objects.filter(pk=pk, last_scan_at__lt=last).update(last_scan_at=last)
        report.extended = len(extend)
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


def read_checkin_log(data: bytes, *, fmt: str) -> tuple[list[dict[str, Any]], int]:
    """Decode a log file (UTF-8 with or without BOM, or GBK/GB18030) into rows.

    Returns (rows, number of the first data row). Raises ValidationFailed on
    ``file`` for an undecodable file or a bad JSON line."""
    import csv
    import io
    import json

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise ValidationFailed(
                fields={"file": _("The file is neither UTF-8 nor GBK text.")}
            ) from None
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = [h.strip() for h in reader.fieldnames or []]
        reader.fieldnames = header
        unknown = [h for h in header if h not in INGEST_COLUMNS]
        if unknown:
            raise ValidationFailed(
                fields={
                    "file": _("Unknown columns: %(cols)s. Known columns: %(known)s.")
                    % {"cols": ", ".join(unknown), "known": ", ".join(sorted(INGEST_COLUMNS))}
                },
                code="unknown_columns",
            )
        return list(reader), 2
    if fmt == "jsonl":
        rows: list[dict[str, Any]] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                raise ValidationFailed(
                    fields={"file": _("Line %(n)s is not valid JSON.") % {"n": number}}
                ) from None
            if not isinstance(obj, dict):
                raise ValidationFailed(
                    fields={"file": _("Line %(n)s is not a JSON object.") % {"n": number}}
                )
            rows.append(obj)
        return rows, 1
    raise ValidationFailed(fields={"format": _("Use csv or jsonl.")})
