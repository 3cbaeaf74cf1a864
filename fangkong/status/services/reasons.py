"""Reasons: created and ended only by facts; the effective status recomputed on each change.

Every function here is bulk-safe: person ids are handled in chunks with set-based
queries (``bulk_create``, ``update`` per group), the effective status of all the
people touched is recomputed in one pass, and the people whose level changed get
one notification batch (``fangkong.notify``). The cache is written after commit,
so a rolled-back fact never shows in a status check.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fangkong.core.audit import audit_record, audit_record_many
from fangkong.core.errors import ValidationFailed
from fangkong.core.models import Person
from fangkong.core.types import Actor, acting_user
from fangkong.status import queries, rules
from fangkong.status.models import PersonStatus, Reason

KINDS = (
    "confirmed_case",
    "close_contact",
    "secondary_contact",
    "venue_exposed",
    "sealed_zone",
    "controlled_zone",
    "pooled_positive",
    "overdue_screening",
    "arrival_risk",
    "manual",
)
SOURCE_TYPES = (
    "investigation.case",
    "investigation.contact",
    "zones.zone",
    "screening.tube",
    "screening.schedule",
    "portal.arrival",
    "entry.arrival",
    "status.manual",
)
END_HOWS = tuple(Reason.How.values)

CHUNK = 2000
PER_PERSON_AUDIT = 50  # above this many people, one summary audit row per call
PER_PERSON_NOTICE = 200  # above this many changed people, one notify batch per level
CACHE_SECONDS = 3600


def cache_key(person_id: int) -> str:
    return f"st:{person_id}"


def _chunks(ids: list[int], size: int = CHUNK) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _in(qs: Any, column: str, ids: list[int]) -> Any:
    """``qs`` narrowed to ``column IN (ids)`` with the ids written as literals: the
    ids are ints we converted ourselves, and the ORM's per-value preparation of a
    2,000-value ``__in`` costs more than the query (bulk paths only)."""
    table = qs.model._meta.db_table
    listed = ", ".join(str(int(i)) for i in ids) or "NULL"
    return qs.extra(where=[f'"{table}"."{column}" IN ({listed})'])  # noqa: S610


def _clean_ids(person_ids: Iterable[int] | None) -> list[int]:
    if person_ids is None:
        return []
    try:
        return sorted({int(p) for p in person_ids})
    except (TypeError, ValueError):
        raise ValidationFailed(fields={"person_ids": _("Person ids are whole numbers.")}) from None


_active = queries.active


# --- Effective status ------------------------------------------------------------


def recompute(person_ids: Iterable[int], *, now: dt.datetime | None = None) -> dict[int, str]:
    """Recompute the cached status of these people from their active reasons.

    Returns ``{person_id: new level}`` for the people whose level changed.
    """
    now = now or timezone.now()
    ids = _clean_ids(person_ids)
    levels = rules.levels()
    lowest = rules.lowest_level()
    changed: dict[int, str] = {}
    groups: dict[tuple[str, dt.datetime | None], list[int]] = defaultdict(list)
    creates: list[PersonStatus] = []
    to_cache: dict[str, tuple[str, float | None]] = {}
    for part in _chunks(ids):
        best: dict[int, tuple[int, str, dt.datetime | None, bool]] = {}
        for pid, level, ends_at in (
            _in(Reason.objects.filter(_active(now)), "person_id", part)
            .order_by()
            .values_list("person_id", "level", "ends_at")
        ):
            sev = levels[level].severity if level in levels else 0
            cur = best.get(pid)
            if cur is None or sev > cur[0]:
                best[pid] = (sev, level, ends_at, ends_at is None)
            elif sev == cur[0]:
                open_ended = cur[3] or ends_at is None
                until = None if open_ended else max(cur[2], ends_at)
                best[pid] = (sev, level, until, open_ended)
        existing = {
            pid: (level, until)
            for pid, level, until in _in(PersonStatus.objects.all(), "person_id", part).values_list(
                "person_id", "level", "valid_until"
            )
        }
        for pid in part:
            found = best.get(pid)
            level, until = (found[1], found[2]) if found else (lowest.code, None)
            old = existing.get(pid)
            if old is None:
                if found is None:
                    continue  # no row and nothing active: green, nothing to write
                creates.append(
                    PersonStatus(
                        person_id=pid,
                        level=level,
                        severity=levels[level].severity if level in levels else 0,
                        valid_until=until,
                        changed_at=now,
                    )
                )
                changed[pid] = level
            elif old != (level, until):
                groups[(level, until)].append(pid)
                if old[0] != level:
                    changed[pid] = level
            else:
                continue
            to_cache[cache_key(pid)] = (level, until.timestamp() if until else None)
    if creates:
        PersonStatus.objects.bulk_create(creates, batch_size=1000)
    for (level, until), pids in groups.items():
        sev = levels[level].severity if level in levels else 0
        for part in _chunks(pids):
            _in(PersonStatus.objects.all(), "person_id", part).update(
                level=level, severity=sev, valid_until=until, changed_at=now
            )
    if to_cache:
        # Readers inside this transaction fall back to the database; after commit
        # every process reads the new value (write-through).
        cache.delete_many(list(to_cache))
        transaction.on_commit(lambda: cache.set_many(to_cache, CACHE_SECONDS))
    return changed


# --- Notifications ---------------------------------------------------------------


def _level_name(levels: dict[str, Any], level: str, language: str) -> str:
    """The level's name in the recipient's language (not the request's: the
    staff member who caused the change may read English)."""
    lv = levels.get(level)
    if lv is None:
        return level
    with translation.override(language or settings.LANGUAGE_CODE):
        return str(lv.name)


def notify_changes(changed: dict[int, str]) -> None:
    """Tell every person whose level changed (one notice each; a batch per level
    and language when many changed at once)."""
    if not changed:
        return
    from fangkong.notify import services as notify

    levels = rules.levels()
    stamp = timezone.now().strftime("%Y%m%d%H%M%S%f")
    if len(changed) == 1:
        [(pid, level)] = changed.items()
        person = Person.objects.filter(pk=pid).first()
        if person is not None:
            notify.notify_system(
                person=person,
                purpose="status_change",
                template_code="status_changed",
                context={"level_name": _level_name(levels, level, person.language)},
                legally_required=True,
                dedup_key=f"st-{stamp}-{pid}",
            )
        return
    by_level: dict[str, list[int]] = defaultdict(list)
    for pid, level in changed.items():
        by_level[level].append(pid)
    payload = {level: sorted(pids) for level, pids in by_level.items()}
    if len(changed) <= PER_PERSON_NOTICE:
        # A few people at once (a positive pool, a household): one batch per new
        # level, inside the fact's transaction, so the notices exist iff it commits.
        notify_batches(payload, stamp)
        return
    # Many people at once (a zone declared): the batch is built by the worker right
    # after commit, so the fact's transaction does not wait for 100,000 messages.
    from fangkong.status import jobs

    transaction.on_commit(lambda: jobs.notify_status_changes(payload, stamp))


def notify_batches(by_level: dict[str, list[int]], stamp: str) -> int:
    """One notify batch per new level and recipients' language (the level's name
    in theirs; the worker's side of ``notify_changes``)."""
    from fangkong.notify import services as notify

    levels = rules.levels()
    made = 0
    for level, pids in by_level.items():
        by_language: dict[str, list[int]] = defaultdict(list)
        for part in _chunks(pids):
            for pid, language in _in(Person.objects.all(), "id", part).values_list(
                "id", "language"
            ):
                by_language[language or settings.LANGUAGE_CODE].append(pid)
        for language, people in sorted(by_language.items()):
            notify.batch_create_system(
                purpose="status_change",
                template_code="status_changed",
                context={"level_name": _level_name(levels, level, language)},
                person_ids=sorted(people),
                legally_required=True,
                dedup_key=f"st-{stamp}-{level}-{language}",
            )
            made += 1
    return made


# --- Facts -----------------------------------------------------------------------


def _check_kind(kind: str) -> None:
    if kind not in KINDS and kind not in rules.kinds():
        raise ValidationFailed(fields={"kind": _("Unknown reason kind “%(k)s”.") % {"k": kind}})


def _check_source_type(source_type: str) -> None:
    if source_type not in SOURCE_TYPES:
        raise ValidationFailed(
            fields={"source_type": _("Unknown source “%(s)s”.") % {"s": source_type}}
        )


def _audit_many(
    actor: Actor,
    action: str,
    source_type: str,
    groups: list[tuple[Any, list[int]]],
    changes: dict[str, Any],
) -> None:
    """One audit row per person (per source), or one summary row for a source with
    more than ``PER_PERSON_AUDIT`` people; all in one insert."""
    small = [pid for _src, pids in groups if len(pids) <= PER_PERSON_AUDIT for pid in pids]
    paths = (
        dict(_in(Person.objects.all(), "id", small).values_list("pk", "scope_path"))
        if small
        else {}
    )
    entries: list[dict[str, Any]] = []
    for source_id, pids in groups:
        if not pids:
            continue
        object_id = f"{source_type}:{source_id}"
        if len(pids) <= PER_PERSON_AUDIT:
            entries.extend(
                {
                    "object_type": "status.reason",
                    "object_id": object_id,
                    "scope_path": paths.get(pid, ""),
                    "person_id": pid,
                    "changes": changes,
                }
                for pid in pids
            )
        else:
            entries.append(
                {
                    "object_type": "status.reason",
                    "object_id": object_id,
                    "changes": {**changes, "people": [None, len(pids)]},
                }
            )
    audit_record_many(actor=actor, action=action, entries=entries)


def _insert_reasons(
    person_ids: list[int],
    *,
    level: str,
    kind: str,
    source_type: str,
    source_id: int,
    disease_id: int | None,
    rule_id: int | None,
    starts_at: dt.datetime,
    ends_at: dt.datetime | None,
    created_by_id: int | None,
    now: dt.datetime,
) -> None:
    """One prepared INSERT for many reasons of one source: the values shared by every
    row are adapted once (``bulk_create`` would compile each value of each row)."""
    if not person_ids:
        return
    fields = {f.name: f for f in Reason._meta.concrete_fields}
    shared = {
        "level": level,
        "kind": kind,
        "source_type": source_type,
        "source_id": source_id,
        "disease_id": disease_id,
        "rule": rule_id,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "negatives": [],
        "ended_at": None,
        "ended_how": "",
        "ended_by": None,
        "created_by": created_by_id,
        "created_at": now,
    }
    names = list(shared)
    values = [fields[n].get_db_prep_save(shared[n], connection) for n in names]
    qn = connection.ops.quote_name
    columns = ", ".join(qn(str(fields[n].column)) for n in ["person", *names])
    marks = ", ".join(["%s"] * (len(names) + 1))
    sql = f"INSERT INTO {qn(Reason._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[pid, *values] for pid in person_ids])


def reasons_grant(
    *,
    kind: str,
    person_ids: Iterable[int],
    source_type: str,
    source_id: int,
    actor: Actor = None,
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    disease_id: int | None = None,
    level: str | None = None,
    notify: bool = True,
) -> int:
    """Give these people a reason of ``kind`` from one source fact.

    Idempotent per (person, kind, source_type, source_id, still active). Level and
    planned end come from the status rules (data, per disease, versioned) unless
    given. Returns the number of reasons created.
    """
    return reasons_grant_many(
        kind=kind,
        grants=[(source_id, person_ids)],
        source_type=source_type,
        actor=actor,
        starts_at=starts_at,
        ends_at=ends_at,
        disease_id=disease_id,
        level=level,
        notify=notify,
    )


def reasons_grant_many(
    *,
    kind: str,
    grants: Sequence[tuple[int, Iterable[int]]],
    source_type: str,
    actor: Actor = None,
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    disease_id: int | None = None,
    level: str | None = None,
    notify: bool = True,
) -> int:
    """``reasons_grant`` for many source facts of one kind at once (a lab's file
    with 100 positive pools: each pool its members): the same rows, audit entries
    and notices, with one query of each kind instead of one per source."""
    _check_kind(kind)
    _check_source_type(source_type)
    if kind == "manual" and source_type != "status.manual":
        raise ValidationFailed(
            fields={"kind": _("Manual reasons come only from approved manual requests.")}
        )
    now = timezone.now()
    starts_at = starts_at or now
    rule = rules.rule_in_force(kind, disease_id, timezone.localdate(starts_at))
    if level is None:
        if rule is None:
            raise ValidationFailed(
                fields={"kind": _("No status rule is in force for “%(k)s”.") % {"k": kind}}
            )
        level = rule.level
    if level not in rules.levels():
        raise ValidationFailed(fields={"level": _("Unknown level “%(l)s”.") % {"l": level}})
    if ends_at is None and rule is not None and rule.duration_days:
        ends_at = starts_at + dt.timedelta(days=rule.duration_days)
    if ends_at is not None and ends_at <= starts_at:
        raise ValidationFailed(fields={"ends_at": _("The end must be after the start.")})
    wanted = [(int(source_id), _clean_ids(ids)) for source_id, ids in grants]
    user = acting_user(actor)
    created: list[tuple[int, list[int]]] = []
    with transaction.atomic():
        # Who already has this reason from these sources (one indexed query).
        sources = sorted({source_id for source_id, _ids in wanted})
        already = set(
            _in(
                Reason.objects.filter(kind=kind, source_type=source_type, ended_at__isnull=True),
                "source_id",
                sources,
            ).values_list("source_id", "person_id")
        )
        everyone = sorted({pid for _src, ids in wanted for pid in ids})
        known: set[int] = set()
        for part in _chunks(everyone):
            known.update(_in(Person.objects.all(), "id", part).values_list("pk", flat=True))
        for source_id, ids in wanted:
            new = [pid for pid in ids if pid in known and (source_id, pid) not in already]
            already.update((source_id, pid) for pid in new)
            for part in _chunks(new):
                _insert_reasons(
                    part,
                    level=level,
                    kind=kind,
                    source_type=source_type,
                    source_id=source_id,
                    disease_id=disease_id,
                    rule_id=rule.pk if rule else None,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    created_by_id=user.pk if user else None,
                    now=now,
                )
            if new:
                created.append((source_id, new))
        if created:
            _audit_many(
                actor,
                "status.reason_grant",
                source_type,
                created,
                {
                    "kind": [None, kind],
                    "level": [None, level],
                    "ends_at": [None, ends_at.isoformat() if ends_at else None],
                    "rule": [None, f"{rule.kind} v{rule.version}" if rule else None],
                },
            )
            changed = recompute({pid for _src, new in created for pid in new}, now=now)
            if notify:
                notify_changes(changed)
    return sum(len(new) for _src, new in created)


def _end_rows(
    rows: list[tuple[int, int]], *, how: str, actor: Actor, now: dt.datetime, notify: bool
) -> int:
    """End reasons (id, person_id) and recompute those people."""
    if not rows:
        return 0
    user = acting_user(actor)
    ids = [rid for rid, _pid in rows]
    for part in _chunks(ids):
        _in(Reason.objects.filter(ended_at__isnull=True), "id", part).update(
            ended_at=now, ended_how=how, ended_by=user
        )
    changed = recompute({pid for _rid, pid in rows}, now=now)
    if notify:
        notify_changes(changed)
    return len(ids)


def reasons_end(
    *,
    source_type: str,
    source_id: int,
    how: str,
    person_ids: Iterable[int] | None = None,
    kind: str | None = None,
    actor: Actor = None,
    notify: bool = True,
) -> int:
    """End the active reasons coming from that source (optionally only for those
    people / that kind); recomputes the effective status. Returns reasons ended."""
    _check_source_type(source_type)
    if how not in END_HOWS:
        raise ValidationFailed(fields={"how": _("Unknown way to end “%(h)s”.") % {"h": how}})
    now = timezone.now()
    base = Reason.objects.filter(
        source_type=source_type, source_id=source_id, ended_at__isnull=True
    )
    if kind is not None:
        base = base.filter(kind=kind)
    with transaction.atomic():
        if person_ids is None:
            rows = list(base.values_list("pk", "person_id"))
        else:
            rows = []
            for part in _chunks(_clean_ids(person_ids)):
                rows.extend(_in(base, "person_id", part).values_list("pk", "person_id"))
        if rows:
            _audit_many(
                actor,
                "status.reason_end",
                source_type,
                [(source_id, sorted({pid for _r, pid in rows}))],
                {"how": [None, how], "kind": [None, kind]},
            )
        return _end_rows(rows, how=how, actor=actor, now=now, notify=notify)


def reasons_end_many(
    *,
    source_type: str,
    source_ids: Iterable[int],
    how: str,
    actor: Actor = None,
    notify: bool = True,
) -> int:
    """``reasons_end`` for many sources of one type at once (arrivals classified
    again after a new risk-area list): the same rows, audit entries and
    notices, with one query of each kind instead of one per source."""
    _check_source_type(source_type)
    if how not in END_HOWS:
        raise ValidationFailed(fields={"how": _("Unknown way to end “%(h)s”.") % {"h": how}})
    now = timezone.now()
    wanted = _clean_ids(source_ids)
    with transaction.atomic():
        by_source: dict[int, list[tuple[int, int]]] = {}
        active = Reason.objects.filter(source_type=source_type, ended_at__isnull=True)
        for part in _chunks(wanted):
            for pk, source_id, person_id in _in(active, "source_id", part).values_list(
                "pk", "source_id", "person_id"
            ):
                by_source.setdefault(int(source_id), []).append((pk, person_id))
        if by_source:
            _audit_many(
                actor,
                "status.reason_end",
                source_type,
                [
                    (sid, sorted({pid for _r, pid in rows}))
                    for sid, rows in sorted(by_source.items())
                ],
                {"how": [None, how], "kind": [None, None]},
            )
        rows = [row for found in by_source.values() for row in found]
        return _end_rows(rows, how=how, actor=actor, now=now, notify=notify)


def _spaced_count(times: list[dt.datetime], interval_hours: int) -> int:
    """How many of these test times are each at least ``interval_hours`` after the
    previous one counted."""
    count = 0
    last: dt.datetime | None = None
    gap = dt.timedelta(hours=interval_hours)
    for t in sorted(times):
        if last is None or t - last >= gap:
            count += 1
            last = t
    return count


class NegativeResult(NamedTuple):
    """One negative-test fact: these people, sampled at that time, from that source."""

    person_ids: Iterable[int]
    sampled_at: dt.datetime
    source_id: int | None = None


FEW_PEOPLE = 5000  # up to this many people, candidate reasons are looked up by person


def _clearable(ids: list[int], latest: dt.datetime, now: dt.datetime) -> list[tuple[Any, ...]]:
    """Active reasons of these people whose rule ends them on negative tests and that
    began by ``latest``: (id, person_id, starts_at, negatives, needed, interval, how).

    Many people at once (a whole round's results): such reasons are usually few, so
    they are read once and matched in Python, instead of sending every person id to
    the database; if there are more of them than people, by person after all."""
    base = queries.clearable(latest, now)
    columns = (
        "pk",
        "person_id",
        "starts_at",
        "negatives",
        "rule__clear_negative_tests",
        "rule__clear_interval_hours",
        "rule__clear_how",
    )
    rows: list[tuple[Any, ...]]
    if len(ids) > FEW_PEOPLE:
        rows = list(base.values_list(*columns)[: len(ids) + 1])
        if len(rows) <= len(ids):
            wanted = set(ids)
            return [r for r in rows if r[1] in wanted]
    rows = []
    for part in _chunks(ids):
        rows.extend(_in(base, "person_id", part).values_list(*columns))
    return rows


def negative_results_record(
    entries: Iterable[NegativeResult | tuple[Iterable[int], dt.datetime, int | None]],
    *,
    source_type: str = "screening.tube",
) -> int:
    """Many negative-test facts at once (a lab's file, a whole round): the same as
    one ``test_result_record`` per entry, in order, with the candidate reasons read
    once. A reason ends after N negative tests (spaced by its rule's interval) taken
    after it began; each entry that ends reasons is audited; the people whose level
    changed are notified. Returns reasons ended."""
    facts = [NegativeResult(*e) for e in entries]
    cleaned = [(_clean_ids(f.person_ids), f.sampled_at, f.source_id) for f in facts]
    everyone = sorted({pid for ids, _at, _src in cleaned for pid in ids})
    if not everyone:
        return 0
    now = timezone.now()
    latest = max(at for _ids, at, _src in cleaned)
    with transaction.atomic():
        candidates: dict[int, list[list[Any]]] = defaultdict(list)
        for row in _clearable(everyone, latest, now):
            candidates[row[1]].append([row[0], row[1], row[2], list(row[3] or []), *row[4:]])
        if not candidates:
            return 0
        touched: dict[int, list[Any]] = {}
        done: set[int] = set()
        ended: dict[str, list[tuple[int, int]]] = defaultdict(list)
        audits: list[dict[str, Any]] = []
        for ids, sampled_at, source_id in cleaned:
            stamp = sampled_at.isoformat()
            by_how: dict[str, list[tuple[int, int]]] = defaultdict(list)
            for pid in ids:
                for reason in candidates.get(pid, ()):
                    rid, _pid, starts_at, negatives, needed, interval, how = reason
                    if rid in done or starts_at > sampled_at:
                        continue
                    if stamp not in negatives:
                        negatives.append(stamp)
                    touched[rid] = reason
                    times = [dt.datetime.fromisoformat(s) for s in negatives]
                    if _spaced_count(times, interval) >= needed:
                        done.add(rid)
                        by_how[how or "negative_tests"].append((rid, pid))
            for how, rows in by_how.items():
                audits.append(
                    {
                        "object_type": "status.reason",
                        "object_id": f"{source_type}:{source_id}",
                        "person_id": rows[0][1] if len(rows) == 1 else None,
                        "changes": {"how": [None, how], "reasons": [None, len(rows)]},
                    }
                )
                ended[how].extend(rows)
        audit_record_many(actor=None, action="status.reason_end", entries=audits)
        if touched:
            Reason.objects.bulk_update(
                [Reason(pk=rid, negatives=r[3]) for rid, r in touched.items()],
                ["negatives"],
                batch_size=1000,
            )
        return sum(
            _end_rows(rows, how=how, actor=None, now=now, notify=True)
            for how, rows in ended.items()
        )


def test_result_record(
    *,
    person_ids: Iterable[int],
    result: str,
    sampled_at: dt.datetime,
    source_type: str = "screening.tube",
    source_id: int | None = None,
) -> int:
    """A test result fact. Negative results clear the reasons whose rule ends on N
    negative tests (spaced by the rule's interval) taken after the reason began.
    Returns reasons ended."""
    if result not in ("negative", "positive"):
        raise ValidationFailed(fields={"result": _("A result is “negative” or “positive”.")})
    if result != "negative":
        return 0
    return negative_results_record(
        [NegativeResult(person_ids, sampled_at, source_id)], source_type=source_type
    )


def reasons_expire(*, now: dt.datetime | None = None) -> int:
    """End every active reason whose planned end has passed (the periodic job)."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            Reason.objects.filter(ended_at__isnull=True, ends_at__lte=now).values_list(
                "pk", "person_id"
            )
        )
        if rows:
            audit_record(
                actor=None,
                action="status.reason_expire",
                object_type="status.reason",
                changes={"reasons": [None, len(rows)]},
            )
        return _end_rows(rows, how=Reason.How.EXPIRY, actor=None, now=now, notify=True)


test_result_record.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
