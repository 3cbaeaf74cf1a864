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
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from fangkong.core import permissions, signing
from fangkong.core.audit import audit_record
from fangkong.core.errors import NotFound, ValidationFailed
from fangkong.core.models import Person
from fangkong.core.selectors import person_find_by_document
from fangkong.investigation.models import CheckIn, Disease, DiseaseRules
from fangkong.investigation.services.venues import venue_from_token

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

    Two statements at most. Two scans of one person arriving in the same
    millisecond may both insert; the visits then overlap and matching, which
    works on time windows, counts the person once per trajectory stop anyway.
    """
    window = dt.timedelta(minutes=DEDUP_MINUTES)
    at = _db_dt(when)
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {_TABLE} SET last_scan_at = CASE WHEN last_scan_at < %s THEN %s "  # noqa: S608
            "ELSE last_scan_at END WHERE id = (SELECT id FROM "
            f"{_TABLE} WHERE person_id = %s AND time >= %s AND time <= %s "
            "AND venue_id = %s AND last_scan_at >= %s ORDER BY time DESC LIMIT 1) RETURNING id",
            [
                at,
                at,
                person_id,
                _db_dt(when - DEDUP_LOOKBACK),
                _db_dt(when + window),
                venue_id,
                _db_dt(when - window),
            ],
        )
        row = cur.fetchone()
        if row is not None:
            return Visit(id=row[0], person_id=person_id, venue_id=venue_id, extended=True)
        # INSERT ... SELECT from the person row: an unknown person inserts nothing
        # (FK checks are deferred inside transactions), a merged one is recorded
        # against the record they were merged into.
        cur.execute(
            f"INSERT INTO {_TABLE} (venue_id, person_id, time, last_scan_at, left_at, "  # noqa: S608
            "source, external_ref) SELECT %s, COALESCE(p.merged_into_id, p.id), %s, %s, NULL, "
            f"%s, '' FROM {_PERSON_TABLE} p WHERE p.id = %s RETURNING id",
            [venue_id, at, at, source, person_id],
        )
        row = cur.fetchone()
    if row is None:
        raise ValidationFailed(
            fields={"person_token": _("This personal code is not known.")}, code="unknown_person"
        )
    new_id = row[0]
    return Visit(id=new_id, person_id=person_id, venue_id=venue_id, extended=False)


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


def parse_db_datetime(value: Any) -> dt.datetime:
    """A datetime read by raw SQL (SQLite returns text for computed columns)."""
    if isinstance(value, dt.datetime):
        result = value
    else:
        parsed = parse_datetime(str(value))
        if parsed is None:
            raise ValueError(f"not a datetime: {value!r}")
        result = parsed
    if timezone.is_naive(result):
        result = result.replace(tzinfo=dt.UTC)
    return result
