"""Sampling (采): open a tube, scan people into it, close it; offline batches.

Rules (each refusal raises with a field and a message):
- a tube barcode is used once, ever;
- a tube holds at most its capacity, which is at most the round's pooling ratio;
- nobody is scanned into a closed tube;
- nobody is scanned twice into one tube;
- a person already sampled in this round is accepted with a warning.

Offline batches are idempotent by tube + person + time: submitting the same
scans again changes nothing and reports them as duplicates.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record, diff
from fangkong.core.bulk import gc_paused
from fangkong.core.crypto import lookup_hash
from fangkong.core.errors import ApplicationError, Conflict, NotFound, ValidationFailed
from fangkong.core.fastpaths import PRINCIPAL_CTE
from fangkong.core.identity import normalise_document
from fangkong.core.models import Person
from fangkong.core.prepared import Prepared, execute_prepared, prepared
from fangkong.core.services import PersonData, api_token_hash, person_create
from fangkong.core.signing import person_id_from_token
from fangkong.core.types import Actor, acting_user
from fangkong.screening.models import CustodyEvent, Round, Site, Task, Team, Tube, TubeMember
from fangkong.screening.selectors import access_round_by_id
from fangkong.screening.sql import (
    copy_rows,
    db_time,
    select_in,
    time_adapter,
    update_rows,
)

# --- Messages (one place, so the API, the page and the batch say the same) -----------


def _closed_msg() -> str:
    return _("This tube is closed; open a new tube.")


def _full_msg(capacity: int) -> str:
    return _("This tube is full (%(n)s people); close it and open a new tube.") % {"n": capacity}


def _twice_msg() -> str:
    return _("This person is already in this tube.")


def _warn_msg() -> str:
    return _("Already sampled in this round; sampled again.")


def _barcode_used_msg() -> str:
    return _("This tube barcode has already been used.")


def _clean_barcode(value: str, field: str = "barcode") -> str:
    code = (value or "").strip()
    if not code or len(code) > 64 or not code.isprintable():
        raise ValidationFailed(fields={field: _("Scan or type the barcode (up to 64 characters).")})
    return code


# --- People --------------------------------------------------------------------


def person_resolve(
    *,
    actor: Actor,
    person_token: str = "",
    doc_type: str = "prc_id",
    doc_number: str = "",
    name: str = "",
    phone: str = "",
) -> Person:
    """The person scanned: by personal QR token, or by document (staff-assisted).

    An unknown document with a name registers the person on the spot through
    core's person service (audited there)."""
    if person_token:
        pid = person_id_from_token(person_token, field="person_token")
        person = Person.objects.filter(pk=pid).first()
        if person is None:
            raise NotFound(fields={"person_token": _("This personal code is not registered.")})
        while person.merged_into_id:
            person = Person.objects.get(pk=person.merged_into_id)
        return person
    if not doc_number:
        raise ValidationFailed(
            fields={"person_token": _("Scan a personal code or enter a document number.")}
        )
    doc = normalise_document(doc_type, doc_number)
    person = (
        Person.objects.active()
        .filter(doc_type=doc.doc_type, doc_hash=lookup_hash("doc", doc.number))
        .first()
    )
    if person is not None:
        return person
    if not name.strip():
        raise NotFound(
            fields={
                "name": _("Nobody is registered with this document; enter the name to register.")
            }
        )
    return person_create(
        actor=actor,
        data=PersonData(doc_type=doc.doc_type, doc_number=doc.number, name=name, phone=phone),
    )


# --- Tubes -----------------------------------------------------------------------


def _tube_scope(actor: Actor, site: Site | None, team: Team | None) -> str:
    if site is not None:
        return site.scope_path
    if team is not None:
        return team.scope_path
    return permissions.scope_path(actor) or ""


def _place_for(
    actor: Actor, site_id: int | None, team_id: int | None
) -> tuple[Site | None, Team | None]:
    site = team = None
    if site_id is not None:
        site = Site.objects.filter(pk=site_id, active=True).first()
        if site is None or not permissions.in_scope(actor, site.scope_path):
            raise NotFound(fields={"site_id": _("No such sampling site.")})
    if team_id is not None:
        team = Team.objects.filter(pk=team_id, active=True).first()
        if team is None or not permissions.in_scope(actor, team.scope_path):
            raise NotFound(fields={"team_id": _("No such sampling team.")})
    return site, team


def _check_capacity(rnd: Round, capacity: int | None) -> int:
    if capacity is None:
        return rnd.pooling_ratio
    if capacity < 1 or capacity > rnd.pooling_ratio:
        raise ValidationFailed(
            fields={
                "capacity": _(
                    "A tube of this round holds 1 to %(max)s people (the round's pooling ratio)."
                )
                % {"max": rnd.pooling_ratio}
            }
        )
    return capacity


def _check_round_open(rnd: Round, at: dt.datetime) -> None:
    if rnd.state == Round.State.CLOSED:
        raise ValidationFailed(fields={"round_id": _("This round is closed.")})


def tube_open(
    *,
    actor: Actor,
    round_id: int,
    barcode: str,
    site_id: int | None = None,
    team_id: int | None = None,
    capacity: int | None = None,
    opened_at: dt.datetime | None = None,
    retest: bool = False,
) -> Tube:
    permissions.require(actor, "screening.sample")
    barcode = _clean_barcode(barcode)
    rnd = access_round_by_id(actor, round_id, capability="screening.sample")
    _check_round_open(rnd, opened_at or timezone.now())
    cap = _check_capacity(rnd, 1 if retest else capacity)
    site, team = _place_for(actor, site_id, team_id)
    with transaction.atomic():
        if Tube.objects.filter(barcode=barcode).exists():
            raise Conflict(fields={"barcode": _barcode_used_msg()}, code="barcode_used")
        tube = Tube.objects.create(
            barcode=barcode,
            round=rnd,
            site=site,
            team=team,
            capacity=cap,
            scope_path=_tube_scope(actor, site, team),
            opened_by=acting_user(actor),
            opened_at=opened_at or timezone.now(),
            retest=retest,
        )
        audit_record(
            actor=actor,
            action="screening.tube.open",
            obj=tube,
            scope_path=tube.scope_path,
            changes=diff({}, {"barcode": barcode, "round": rnd.pk, "capacity": cap}),
        )
    return tube


@dataclass
class ScanOutcome:
    tube: str
    person_id: int
    person_name: str
    added: bool
    member_count: int
    capacity: int
    warning: str = ""


def _access_tube_for_update(actor: Actor, barcode: str) -> Tube:
    tube = Tube.objects.select_for_update().filter(barcode=barcode).first()
    if tube is None or not permissions.in_scope(actor, tube.scope_path):
        raise NotFound(fields={"barcode": _("No such tube; open it first.")})
    return tube


@dataclass
class _Who:
    pk: int
    name: str
    scope_path: str


def _who(person: Person) -> _Who:
    return _Who(person.pk, person.name, person.scope_path)


def _who_by_token(token: str) -> _Who:
    """The hot path: a personal code resolves with one narrow query."""
    pid = person_id_from_token(token, field="person_token")
    for _hop in range(5):
        row = (
            Person.objects.filter(pk=pid)
            .values_list("name", "scope_path", "merged_into_id")
            .first()
        )
        if row is None:
            raise NotFound(fields={"person_token": _("This personal code is not registered.")})
        if not row[2]:
            return _Who(pid, row[0], row[1])
        pid = row[2]
    raise NotFound(fields={"person_token": _("This personal code is not registered.")})


def scan_rule(
    *,
    state: str,
    count: int,
    capacity: int,
    in_tube_at: dt.datetime | None,
    at: dt.datetime,
    field: str = "barcode",
) -> bool:
    """The rules of one scan of a person into a tube, the one Python definition (the
    live scan and the offline batch use it; ``SCAN_ONE`` is its SQL form on
    PostgreSQL, and a test runs both on the same generated scans).

    ``state``, ``count``, ``capacity``: the tube's; ``in_tube_at``: when this person was
    sampled into this tube, if they were; ``at``: this scan's time. True: this very
    scan is recorded already (a repeat, nothing to do); False: record it. A refusal
    raises, naming the tube by ``field``: a closed tube, a person already in this
    tube, a full tube (in that order). Whether the person was sampled elsewhere in
    the round does not refuse the scan (it is recorded with a warning)."""
    if in_tube_at is not None and in_tube_at == at:
        return True
    if state != Tube.State.OPEN:
        raise ValidationFailed(fields={field: _closed_msg()}, code="tube_closed")
    if in_tube_at is not None:
        raise Conflict(fields={"person": _twice_msg()}, code="person_twice")
    if count >= capacity:
        raise ValidationFailed(fields={field: _full_msg(capacity)}, code="tube_full")
    return False


def tube_scan(
    *,
    actor: Actor,
    barcode: str,
    person_token: str = "",
    doc_type: str = "prc_id",
    doc_number: str = "",
    name: str = "",
    phone: str = "",
    scanned_at: dt.datetime | None = None,
) -> ScanOutcome:
    """Scan one person into an open tube (the sampling API's hot path: a few
    narrow statements on a raw cursor inside one transaction)."""
    permissions.require(actor, "screening.sample")
    barcode = _clean_barcode(barcode)
    if person_token and connection.vendor == "postgresql":
        pid = person_id_from_token(person_token, field="person_token")
        done = _scan_postgresql(actor, barcode, pid, scanned_at or timezone.now())
        if done is not None:
            return done
    if person_token:
        who = _who_by_token(person_token)
    else:
        who = _who(
            person_resolve(
                actor=actor, doc_type=doc_type, doc_number=doc_number, name=name, phone=phone
            )
        )
    at = scanned_at or timezone.now()
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "SELECT id, round_id, capacity, member_count, state, scope_path "  # noqa: S608
            f"FROM screening_tube WHERE barcode = %s{lock}",
            [barcode],
        )
        row = cur.fetchone()
        if row is None or not permissions.in_scope(actor, row[5]):
            raise NotFound(fields={"barcode": _("No such tube; open it first.")})
        tube_id, round_id, capacity, count, state, _path = row
        cur.execute(
            "SELECT tube_id, sampled_at, round_id FROM screening_tubemember WHERE person_id = %s",
            [who.pk],
        )
        earlier = [(t, db_time(when)) for t, when, r in cur.fetchall() if r == round_id]
        in_tube = [when for t, when in earlier if t == tube_id]
        if scan_rule(
            state=state,
            count=count,
            capacity=capacity,
            in_tube_at=in_tube[0] if in_tube else None,
            at=at,
        ):
            return ScanOutcome(barcode, who.pk, who.name, False, count, capacity)
        user_id = user.pk if (user := acting_user(actor)) else None
        again = bool(earlier)
        link = [
            tube_id,
            round_id,
            who.pk,
            who.scope_path,
            connection.ops.adapt_datetimefield_value(at),
            user_id,
        ]
        insert = (
            "INSERT INTO screening_tubemember (tube_id, round_id, person_id, person_scope_path, "
            "sampled_at, sampled_by_id, repeat) VALUES (%s, %s, %s, %s, %s, %s, %s)"
        )
        # A first link of this person made meanwhile by a scan into another tube (it
        # committed after the read above): this one is then a repeat.
        cur.execute(
            insert + " ON CONFLICT (round_id, person_id) WHERE NOT repeat DO NOTHING",
            [*link, again],
        )
        if cur.rowcount == 0:
            again = True
            cur.execute(insert, [*link, again])
        cur.execute(
            "UPDATE screening_tube SET member_count = member_count + 1 WHERE id = %s", [tube_id]
        )
    return ScanOutcome(
        barcode, who.pk, who.name, True, count + 1, capacity, _warn_msg() if again else ""
    )


# The scan on PostgreSQL as one statement (atomic by itself: no BEGIN or COMMIT of
# its own in autocommit, one round trip): the tube locked, the person, their earlier
# samples, the rules of ``scan_rule`` (open, not in this tube yet, not full) and the
# scanner's area; when they all hold, the link inserted and the tube's count raised.
# It answers a row only for a recorded scan; anything else (a refusal, an unknown or
# merged person, a repeat) is for the general path, which explains it. A first link
# of the person written meanwhile by another scan (``screening_member_first``; this
# statement's snapshot predates it) inserts nothing here: the general path, reading
# after it, records a repeat.
_SCAN_BODY = (
    " t AS ("
    " SELECT id, round_id, capacity, member_count, state, scope_path"
    " FROM screening_tube WHERE barcode = %(barcode)s FOR UPDATE"
    "), p AS ("
    " SELECT id, name, scope_path FROM core_person"
    " WHERE id = %(person)s AND merged_into_id IS NULL"
    "), earlier AS ("
    " SELECT tube_id, round_id FROM screening_tubemember WHERE person_id = %(person)s"
    "), ok AS ("
    " SELECT t.id, t.round_id, t.capacity, t.member_count, p.name, p.scope_path,"
    " actor.user_id,"
    " EXISTS (SELECT 1 FROM earlier e WHERE e.round_id = t.round_id) AS again"
    " FROM t CROSS JOIN p CROSS JOIN actor"
    " WHERE t.state = 'open' AND t.member_count < t.capacity"
    " AND starts_with(t.scope_path, actor.scope)"
    " AND NOT EXISTS (SELECT 1 FROM earlier e WHERE e.tube_id = t.id)"
    "), ins AS ("
    " INSERT INTO screening_tubemember (tube_id, round_id, person_id, person_scope_path,"
    " sampled_at, sampled_by_id, repeat)"
    " SELECT id, round_id, %(person)s, scope_path, %(at)s, user_id, again FROM ok"
    " ON CONFLICT (round_id, person_id) WHERE NOT repeat DO NOTHING"
    " RETURNING tube_id"
    "), raised AS ("
    " UPDATE screening_tube SET member_count = member_count + 1"
    " WHERE id IN (SELECT tube_id FROM ins)"
    ")"
    " SELECT name, member_count, capacity, again FROM ok WHERE EXISTS (SELECT 1 FROM ins)"
)
# For a known scanner (parameters ``user`` and ``scope``, their area).
SCAN_ONE = "WITH actor AS (SELECT %(user)s AS user_id, %(scope)s AS scope)," + _SCAN_BODY
# For a sampling device's API token, checked in the same statement (the rules of
# ``core.fastpaths.token_principal``; parameter ``token_hash``): a device's scan in
# one round trip. No row: the token, the capability or the scan is for the general
# path to explain.
SCAN_BY_TOKEN = (
    "WITH "  # noqa: S608 (constant fragments only)
    + PRINCIPAL_CTE
    + ", actor AS (SELECT user_id, scope FROM principal WHERE scope IS NOT NULL),"
    + _SCAN_BODY
)


# Planning them costs more than running them (the token's: 1.3 ms against 0.75 ms,
# measured): prepared once on each connection.
SCAN_ONE_PREPARED = prepared(
    "screening_scan",
    SCAN_ONE,
    {
        "user": "bigint",
        "scope": "text",
        "barcode": "text",
        "person": "bigint",
        "at": "timestamptz",
    },
)
SCAN_BY_TOKEN_PREPARED = prepared(
    "screening_scan_by_token",
    SCAN_BY_TOKEN,
    {
        "token_hash": "text",
        "capability": "text",
        "barcode": "text",
        "person": "bigint",
        "at": "timestamptz",
    },
)


def tube_scan_by_token(*, token: str, barcode: str, person_token: str) -> ScanOutcome | None:
    """A device's scan with its API token (PostgreSQL; the sampling fast path): the
    scan recorded, or ``None`` when anything is to be explained (then the caller
    authenticates as usual and runs ``tube_scan``, or lets Django answer)."""
    if connection.vendor != "postgresql":
        return None
    try:
        code = _clean_barcode(barcode)
        pid = person_id_from_token(person_token, field="person_token")
    except ApplicationError:
        return None
    params = {
        "token_hash": api_token_hash(token),
        "capability": "screening.sample",
        "barcode": code,
        "person": pid,
        "at": timezone.now(),
    }
    return _scan_statement(SCAN_BY_TOKEN_PREPARED, params)


def _scan_postgresql(actor: Actor, barcode: str, pid: int, at: dt.datetime) -> ScanOutcome | None:
    """The scan recorded in one statement, or ``None``: the general path answers."""
    scope = permissions.scope_path(actor)
    if scope is None:
        return None
    user_id = user.pk if (user := acting_user(actor)) else None
    params = {"barcode": barcode, "person": pid, "scope": scope, "at": at, "user": user_id}
    return _scan_statement(SCAN_ONE_PREPARED, params)


def _scan_statement(statement: Prepared, params: dict[str, Any]) -> ScanOutcome | None:
    """Run a one-statement scan; its answer for a recorded scan, else ``None``."""
    with connection.cursor() as cur:
        execute_prepared(cur, statement, params)
        row = cur.fetchone()
    if row is None:
        return None
    name, count, capacity, again = row
    warning = _warn_msg() if again else ""
    return ScanOutcome(
        params["barcode"], params["person"], name, True, count + 1, capacity, warning
    )


def tube_close(*, actor: Actor, barcode: str, closed_at: dt.datetime | None = None) -> Tube:
    permissions.require(actor, "screening.sample")
    barcode = _clean_barcode(barcode)
    with transaction.atomic():
        tube = _access_tube_for_update(actor, barcode)
        if tube.state != Tube.State.OPEN:
            raise ValidationFailed(fields={"barcode": _closed_msg()}, code="tube_closed")
        if tube.member_count == 0:
            raise ValidationFailed(
                fields={"barcode": _("This tube is empty; scan at least one person.")}
            )
        at = closed_at or timezone.now()
        tube.state = Tube.State.CLOSED
        tube.closed_at = at
        tube.save(update_fields=["state", "closed_at", "updated_at"])
        _after_close(
            actor,
            [(tube.pk, tube.capacity, tube.closed_at)],
            place=tube.site.name if tube.site_id and tube.site else "",
        )
        audit_record(
            actor=actor,
            action="screening.tube.close",
            obj=tube,
            scope_path=tube.scope_path,
            changes={"state": ["open", "closed"], "members": [None, tube.member_count]},
        )
    return tube


def _after_close(
    actor: Actor, tubes: Sequence[tuple[int, int, dt.datetime | None]], *, place: str = ""
) -> None:
    """Custody 'collected' for each tube (id, capacity, closed at); single-tube
    samples settle retest and resample tasks; standing schedules move on."""
    from fangkong.screening.services.schedules import schedules_record_sampled

    user_id = user.pk if (user := acting_user(actor)) else None
    now = timezone.now()
    collected = CustodyEvent.Stage.COLLECTED
    copy_rows(
        CustodyEvent._meta.db_table,
        ["tube_id", "stage", "time", "place", "user_id"],
        [(pk, collected, closed_at or now, place, user_id) for pk, _cap, closed_at in tubes],
    )
    ids = [pk for pk, _cap, _at in tubes]
    single = [pk for pk, cap, _at in tubes if cap == 1]
    # Open tasks are few; skip the lookups when there are none at all.
    if Task.objects.filter(state=Task.State.OPEN).exists():
        done = {"state": Task.State.DONE, "done_at": now, "updated_at": now}
        if single:
            people = TubeMember.objects.filter(tube_id__in=single).values("person_id")
            Task.objects.filter(state=Task.State.OPEN, person_id__in=people).update(**done)
        # Door-to-door and resample tasks are settled by any sample.
        people = TubeMember.objects.filter(tube_id__in=ids).values("person_id")
        Task.objects.filter(
            state=Task.State.OPEN,
            kind__in=[Task.Kind.DOOR_TO_DOOR, Task.Kind.RESAMPLE],
            person_id__in=people,
        ).update(**done)
    schedules_record_sampled(tube_ids=ids, actor=actor)


# --- Offline batches ----------------------------------------------------------------


@dataclass
class BatchItemOutcome:
    index: int
    op: str
    tube: str
    status: str  # "ok" | "duplicate" | "refused"
    person_id: int | None = None
    warning: str = ""
    field: str = ""
    message: str = ""


class BatchReport:
    """Every item's outcome, in order (``items``). Plain successes (no warning) are
    kept as (index, op, tube, person id) and made into outcomes only when asked."""

    def __init__(self) -> None:
        self._rows: list[BatchItemOutcome | tuple[int, str, str, int | None]] = []
        self._items: list[BatchItemOutcome] | None = None

    @property
    def items(self) -> list[BatchItemOutcome]:
        if self._items is None or len(self._items) != len(self._rows):
            self._items = [
                r
                if isinstance(r, BatchItemOutcome)
                else BatchItemOutcome(r[0], r[1], r[2], "ok", r[3])
                for r in self._rows
            ]
        return self._items

    def _outcomes(self) -> list[BatchItemOutcome]:
        """The items that are not plain successes."""
        return [r for r in self._rows if isinstance(r, BatchItemOutcome)]

    def count(self, status: str) -> int:
        others = sum(1 for r in self._outcomes() if r.status == status)
        if status != "ok":
            return others
        return others + sum(1 for r in self._rows if not isinstance(r, BatchItemOutcome))

    def as_dict(self) -> dict[str, Any]:
        others = self._outcomes()
        return {
            "ok": self.count("ok"),
            "duplicate": self.count("duplicate"),
            "refused": self.count("refused"),
            "warnings": sum(1 for i in others if i.warning),
            "items": [i.__dict__ for i in others if i.status != "ok" or i.warning],
        }


@dataclass
class _MemTube:
    id: int | None
    barcode: str
    capacity: int
    count: int
    state: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None = None
    new: bool = False
    closed_now: bool = False
    members: dict[int, dt.datetime] = field(default_factory=dict)


def _as_time(value: Any, field_name: str = "at") -> dt.datetime:
    if value.__class__ is dt.datetime and (value.tzinfo is dt.UTC or value.utcoffset() is not None):
        return value  # already aware (the common case in a big batch)
    if isinstance(value, dt.datetime):
        at = value
    else:
        try:
            at = dt.datetime.fromisoformat(str(value))
        except ValueError:
            raise ValidationFailed(fields={field_name: _("Not a date and time.")}) from None
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    return at


def _resolve_people(actor: Actor, items: Sequence[dict[str, Any]]) -> dict[int, Any]:
    """index → Person-like (id, scope_path) or an ApplicationError, in bulk."""
    out: dict[int, Any] = {}
    ids: dict[int, int] = {}
    docs: dict[int, tuple[str, str]] = {}
    for i, item in enumerate(items):
        if item.get("op", "scan") != "scan":
            continue
        try:
            given = item.get("person_id")
            if given is not None:
                ids[i] = given if given.__class__ is int else int(given)
            elif item.get("person_token"):
                ids[i] = person_id_from_token(item["person_token"], field="person_token")
            elif item.get("doc_number"):
                doc = normalise_document(item.get("doc_type") or "prc_id", item["doc_number"])
                docs[i] = (doc.doc_type, lookup_hash("doc", doc.number))
            else:
                raise ValidationFailed(
                    fields={"person_token": _("Scan a personal code or enter a document number.")}
                )
        except ApplicationError as exc:
            out[i] = exc
    found: dict[int, tuple[int, str, int | None]] = {}
    people_sql = "SELECT id, scope_path, merged_into_id FROM core_person WHERE id {in}"
    for pid, path, merged in select_in(people_sql, sorted(set(ids.values()))):
        found[pid] = (pid, path, merged)
    merged_targets = sorted({m for (_p, _s, m) in found.values() if m})
    for pid, path, merged in select_in(people_sql, merged_targets):
        found[pid] = (pid, path, merged)
    plain = {pid: (pid, path) for pid, (_p, path, merged) in found.items() if not merged}
    for i, pid in ids.items():
        known = plain.get(pid)
        if known is not None:
            out[i] = known
            continue
        row = found.get(pid)
        hops = 0
        while row is not None and row[2] and hops < 5:
            row = found.get(row[2])
            hops += 1
        if row is None:
            out[i] = NotFound(fields={"person": _("This personal code is not registered.")})
        else:
            out[i] = (row[0], row[1])
    if docs:
        hashes = {h for (_t, h) in docs.values()}
        by_doc = {
            (t, h): (pk, path)
            for pk, t, h, path in Person.objects.active()
            .filter(doc_hash__in=hashes)
            .values_list("pk", "doc_type", "doc_hash", "scope_path")
        }
        for i, key in docs.items():
            if key in by_doc:
                out[i] = by_doc[key]
                continue
            item = items[i]
            try:
                with transaction.atomic():
                    person = person_resolve(
                        actor=actor,
                        doc_type=item.get("doc_type") or "prc_id",
                        doc_number=item["doc_number"],
                        name=item.get("name", ""),
                        phone=item.get("phone", ""),
                    )
                out[i] = (person.pk, person.scope_path)
                by_doc[key] = out[i]
            except ApplicationError as exc:
                out[i] = exc
    return out


def _refusal(exc: ApplicationError) -> tuple[str, str]:
    if exc.fields:
        name, msg = next(iter(exc.fields.items()))
        return name, msg
    return "", str(exc.message)


# A batch that lost a first-link race to live scans is applied this many times in all.
_BATCH_ATTEMPTS = 3


@gc_paused()
def sample_batch_submit(
    *,
    actor: Actor,
    round_id: int,
    items: Sequence[dict[str, Any]],
    site_id: int | None = None,
    team_id: int | None = None,
) -> BatchReport:
    """Apply a batch of sampling operations collected by a client, in order.

    Each item is ``{"op": "open"|"scan"|"close", "tube": barcode, "at": time, ...}``;
    scans name the person by ``person_token``, ``person_id`` or ``doc_type`` +
    ``doc_number`` (+ ``name`` to register). A scan into an unknown tube opens it
    (the client opened it offline). Every item gets an outcome; a refused item
    does not stop the others. Submitting the same batch again changes nothing.
    """
    permissions.require(actor, "screening.sample")
    rnd = access_round_by_id(actor, round_id, capability="screening.sample")
    _check_round_open(rnd, timezone.now())
    site, team = _place_for(actor, site_id, team_id)
    scope = _tube_scope(actor, site, team)
    user_id = user.pk if (user := acting_user(actor)) else None
    attempts_left = _BATCH_ATTEMPTS
    while True:
        try:
            return _batch_apply(actor, rnd, items, site, team, scope, user_id)
        except Exception as exc:  # Django's IntegrityError, or psycopg's from a COPY
            # A live scan gave one of these people their first link of the round
            # after the batch had read their links: applied again, it sees that one
            # (the batch is idempotent) and records a repeat.
            attempts_left -= 1
            if not attempts_left or not _is_first_link_race(exc):
                raise


def _is_first_link_race(exc: BaseException) -> bool:
    for error in (exc, exc.__cause__):
        diag = getattr(error, "diag", None)
        if getattr(diag, "constraint_name", None) == "screening_member_first":
            return True
    return False


def _batch_apply(
    actor: Actor,
    rnd: Round,
    items: Sequence[dict[str, Any]],
    site: Site | None,
    team: Team | None,
    scope: str,
    user_id: int | None,
) -> BatchReport:
    report = BatchReport()
    with transaction.atomic():
        people = _resolve_people(actor, items)
        raw_codes = [item.get("tube") for item in items]
        codes = sorted(
            {
                c
                for c in ((r if r.__class__ is str else str(r or "")).strip() for r in raw_codes)
                if c
            }
        )
        tubes: dict[str, _MemTube] = {}
        other_round: set[str] = set()
        out_of_scope: set[str] = set()
        id_to_code: dict[int, str] = {}
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        tube_sql = (
            "SELECT id, barcode, round_id, capacity, member_count, state, opened_at, "
            "scope_path FROM screening_tube WHERE barcode {in}"
        )
        for k in range(0, len(codes), 5000):
            sql = tube_sql + lock if len(codes) <= 5000 else tube_sql
            for pk, code, r_id, cap, count, state, opened, path in select_in(
                sql, codes[k : k + 5000]
            ):
                if r_id != rnd.pk:
                    other_round.add(code)
                    continue
                if not permissions.in_scope(actor, path):
                    out_of_scope.add(code)
                    continue
                tubes[code] = _MemTube(pk, code, cap, count, state, db_time(opened))
                id_to_code[pk] = code
        # People already sampled in this round (for the warning); earlier links of
        # the tubes of this batch. Found by person (their index; a few links each):
        # "round_id + 0" keeps the round out of the index choice (a round_id condition
        # tempts the planner into a bitmap of the whole round) and the links of other
        # rounds (one a day in a long outbreak) out of the answer.
        pids = sorted({p[0] for p in people.values() if isinstance(p, tuple)})
        sampled: set[int] = set()
        for pid, tube_id, when in select_in(
            "SELECT person_id, tube_id, sampled_at FROM screening_tubemember "
            "WHERE round_id + 0 = %s AND person_id {in}",
            pids,
            [rnd.pk],
        ):
            sampled.add(pid)
            code = id_to_code.get(tube_id, "")
            if code in tubes:
                tubes[code].members[pid] = db_time(when)
        new_members: list[tuple[_MemTube, int, str, dt.datetime, bool]] = []
        rows = report._rows
        valid_codes: set[str] = set()
        open_state = Tube.State.OPEN
        for i, item in enumerate(items):
            op = item.get("op", "scan")
            raw = raw_codes[i]
            code = raw.strip() if raw.__class__ is str else str(raw or "").strip()
            pid = None
            warning = ""
            status = "ok"
            try:
                if code not in valid_codes:
                    code = _clean_barcode(code, "tube")
                    valid_codes.add(code)
                at = _as_time(item.get("at") or timezone.now())
                if code in other_round:
                    raise Conflict(fields={"tube": _barcode_used_msg()})
                if code in out_of_scope:
                    raise NotFound(fields={"tube": _("No such tube.")})
                tube = tubes.get(code)
                if op == "scan":
                    who = people.get(i)
                    if who.__class__ is not tuple:
                        if isinstance(who, ApplicationError):
                            raise who
                        raise ValidationFailed(fields={"person": _("Unknown person.")})
                    pid, path = who
                    if tube is None:
                        tube = tubes[code] = _MemTube(
                            None, code, rnd.pooling_ratio, 0, open_state, at, new=True
                        )
                    members = tube.members
                    if scan_rule(
                        state=tube.state,
                        count=tube.count,
                        capacity=tube.capacity,
                        in_tube_at=members.get(pid),
                        at=at,
                        field="tube",
                    ):
                        status = "duplicate"
                    else:
                        repeat = pid in sampled
                        if repeat:
                            warning = _warn_msg()
                        else:
                            sampled.add(pid)
                        members[pid] = at
                        tube.count += 1
                        new_members.append((tube, pid, path, at, repeat))
                elif op == "open":
                    if tube is not None:
                        if tube.opened_at != at:
                            raise Conflict(fields={"tube": _barcode_used_msg()})
                        status = "duplicate"
                    else:
                        cap = _check_capacity(rnd, item.get("capacity"))
                        tubes[code] = _MemTube(None, code, cap, 0, open_state, at, new=True)
                elif op == "close":
                    if tube is None:
                        raise NotFound(fields={"tube": _("No such tube; open it first.")})
                    if tube.state != open_state:
                        status = "duplicate"
                    elif tube.count == 0:
                        raise ValidationFailed(
                            fields={"tube": _("This tube is empty; scan at least one person.")}
                        )
                    else:
                        tube.state = Tube.State.CLOSED
                        tube.closed_at = at
                        tube.closed_now = True
                else:
                    raise ValidationFailed(fields={"op": _("Unknown operation.")})
            except ApplicationError as exc:
                name, message = _refusal(exc)
                rows.append(BatchItemOutcome(i, op, code, "refused", pid, "", name, message))
                continue
            if status == "ok" and not warning:
                rows.append((i, op, code, pid))
            else:
                rows.append(BatchItemOutcome(i, op, code, status, pid, warning))
        _batch_write(actor, rnd, site, team, scope, user_id, tubes, new_members)
    return report


def _batch_write(
    actor: Actor,
    rnd: Round,
    site: Site | None,
    team: Team | None,
    scope: str,
    user_id: int | None,
    tubes: dict[str, _MemTube],
    new_members: list[tuple[_MemTube, int, str, dt.datetime, bool]],
) -> None:
    created = [t for t in tubes.values() if t.new]
    round_pk = rnd.pk
    now = timezone.now()
    if created:
        copy_rows(
            Tube._meta.db_table,
            [
                "created_at",
                "updated_at",
                "barcode",
                "round_id",
                "site_id",
                "team_id",
                "capacity",
                "member_count",
                "state",
                "scope_path",
                "opened_by_id",
                "opened_at",
                "closed_at",
                "result",
                "retest",
            ],
            [
                (
                    now,
                    now,
                    t.barcode,
                    rnd.pk,
                    site.pk if site else None,
                    team.pk if team else None,
                    t.capacity,
                    t.count,
                    t.state,
                    scope,
                    user_id,
                    t.opened_at,
                    t.closed_at,
                    "",
                    False,
                )
                for t in created
            ],
        )
        codes = [t.barcode for t in created]
        ids = dict(select_in("SELECT barcode, id FROM screening_tube WHERE barcode {in}", codes))
        for t in created:
            t.id = ids[t.barcode]
    update_rows(
        Tube._meta.db_table,
        ["member_count", "state", "closed_at", "updated_at"],
        [(t.count, t.state, t.closed_at, now, t.id) for t in tubes.values() if not t.new],
    )
    db_at = time_adapter()  # the few sampling times of a batch, converted once each
    copy_rows(
        TubeMember._meta.db_table,
        [
            "tube_id",
            "round_id",
            "person_id",
            "person_scope_path",
            "sampled_at",
            "sampled_by_id",
            "repeat",
        ],
        [
            (t.id, round_pk, pid, path, db_at(at), user_id, repeat)
            for t, pid, path, at, repeat in new_members
        ],
        adapted=True,
    )
    closed = [t for t in tubes.values() if t.closed_now]
    if closed:
        _after_close(
            actor,
            [(t.id, t.capacity, t.closed_at) for t in closed if t.id is not None],
            place=site.name if site else "",
        )
    if created or new_members or closed:
        audit_record(
            actor=actor,
            action="screening.batch.submit",
            object_type="screening.round",
            object_id=rnd.pk,
            scope_path=scope,
            changes={
                "tubes_opened": [None, len(created)],
                "people_sampled": [None, len(new_members)],
                "tubes_closed": [None, len(closed)],
            },
        )


def tubes_of(person_ids: Iterable[int], round_id: int) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    for pid, tid in TubeMember.objects.filter(
        round_id=round_id, person_id__in=list(person_ids)
    ).values_list("person_id", "tube_id"):
        out[pid].append(tid)
    return out
