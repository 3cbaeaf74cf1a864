"""Handlers of other apps' facts (subscribed in ``StatusConfig.ready``): cases and
contacts (investigation), arrivals classified (entry), zones declared, changed
and lifted (zones), positive and negative screening results (screening).

Each runs after the publisher's commit, in its own transaction, and may run
again for the same fact (``core.events``): every one is idempotent, because
``reasons_grant`` skips a person who already has the reason from that source
and ``reasons_end`` ends only reasons still active.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from fangkong.core import events
from fangkong.core.types import Actor, acting_user
from fangkong.status.models import Reason
from fangkong.status.services.reasons import (
    negative_results_record,
    notify_changes,
    reasons_end,
    reasons_end_many,
    reasons_grant,
    reasons_grant_many,
    recompute,
)

CASE = "investigation.case"
ZONE = "zones.zone"
CONTACT = "investigation.contact"
CONTACT_KINDS = {
    "close": "close_contact",
    "secondary": "secondary_contact",
    "venue_exposed": "venue_exposed",
}


def end_of_day(day: dt.date) -> dt.datetime:
    """The first instant after ``day`` in the project's time zone."""
    tz = timezone.get_current_timezone()
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)


def on_case_confirmed(
    *, case_id: int, person_id: int, disease_id: int | None = None, actor: Actor = None, **_: Any
) -> None:
    reasons_grant(
        kind="confirmed_case",
        person_ids=[person_id],
        source_type=CASE,
        source_id=case_id,
        disease_id=disease_id,
        actor=actor,
    )


def on_case_excluded(*, case_id: int, actor: Actor = None, **_: Any) -> None:
    reasons_end(source_type=CASE, source_id=case_id, how=Reason.How.REVOKED, actor=actor)


def on_case_released(*, case_id: int, actor: Actor = None, **_: Any) -> None:
    reasons_end(source_type=CASE, source_id=case_id, how=Reason.How.CASE_RELEASED, actor=actor)


def on_case_outcome(*, case_id: int, outcome: str, actor: Actor = None, **_: Any) -> None:
    if outcome == "died":
        reasons_end(source_type=CASE, source_id=case_id, how=Reason.How.CASE_RELEASED, actor=actor)


def on_contact_categorised(
    *,
    contact_id: int,
    person_id: int,
    category: str,
    monitoring_end: str | None = None,
    disease_id: int | None = None,
    actor: Actor = None,
    **_: Any,
) -> None:
    kind = CONTACT_KINDS.get(category)
    if kind is None:
        return
    ends_at = end_of_day(dt.date.fromisoformat(monitoring_end)) if monitoring_end else None
    current = list(
        Reason.objects.filter(source_type=CONTACT, source_id=contact_id, ended_at__isnull=True)
    )
    if any(r.kind == kind and r.ends_at == ends_at for r in current):
        return  # nothing changed
    if current:
        # Superseded without a recompute: the new reason is granted right after,
        # and the person is told only if their level really changes.
        Reason.objects.filter(pk__in=[r.pk for r in current]).update(
            ended_at=timezone.now(),
            ended_how=Reason.How.SUPERSEDED,
            ended_by=acting_user(actor),
        )
    if ends_at is not None and ends_at <= timezone.now():
        notify_changes(recompute([person_id]))  # monitoring already over
        return
    reasons_grant(
        kind=kind,
        person_ids=[person_id],
        source_type=CONTACT,
        source_id=contact_id,
        disease_id=disease_id,
        ends_at=ends_at,
        actor=actor,
    )


def on_contact_monitoring_ended(
    *, contact_id: int, actor: Actor = None, became_case: bool = False, **_: Any
) -> None:
    how = Reason.How.SUPERSEDED if became_case else Reason.How.EXPIRY
    reasons_end(source_type=CONTACT, source_id=contact_id, how=how, actor=actor)


ARRIVAL = "entry.arrival"


def on_arrival_classified(
    *,
    arrival_id: int,
    person_id: int,
    status_reason: bool,
    measures_end: str | None = None,
    actor: Actor = None,
    **_: Any,
) -> None:
    """An arrival from a listed area (the rule says so) holds an ``arrival_risk``
    reason until its measures end; classified again (a new list, a reviewed
    place), the earlier reason is superseded or ended. Idempotent: the same
    decision delivered twice changes nothing."""
    _arrivals_classified([(arrival_id, person_id, status_reason, measures_end)], actor=actor)


def on_arrivals_classified(*, decisions: list[list[Any]], actor: Actor = None, **_: Any) -> None:
    """``arrival.classified`` for many arrivals at once (entry's re-classification
    after a risk-area list changed): each item ``[arrival_id, person_id, category,
    status_reason, measures_end]``; reasons ended and granted in bulk."""
    _arrivals_classified(
        [(int(a), int(p), bool(reason), end) for a, p, _category, reason, end in decisions],
        actor=actor,
    )


def _arrivals_classified(
    decisions: list[tuple[int, int, bool, str | None]], *, actor: Actor
) -> None:
    now = timezone.now()
    wanted = {
        arrival_id: (person_id, reason, end_of_day(dt.date.fromisoformat(end)) if end else None)
        for arrival_id, person_id, reason, end in decisions
    }
    current: dict[int, list[dt.datetime | None]] = {}
    ids = sorted(wanted)
    for i in range(0, len(ids), 2000):
        for source_id, ends_at in Reason.objects.filter(
            source_type=ARRIVAL, source_id__in=ids[i : i + 2000], ended_at__isnull=True
        ).values_list("source_id", "ends_at"):
            current.setdefault(int(source_id), []).append(ends_at)
    ending: dict[str, list[int]] = {}
    grants: dict[dt.datetime | None, list[tuple[int, list[int]]]] = {}
    for arrival_id, (person_id, reason, ends_at) in wanted.items():
        held = current.get(arrival_id, [])
        if reason and ends_at in held:
            continue  # nothing changed
        if held:
            how = str(Reason.How.SUPERSEDED if reason else Reason.How.REVOKED)
            ending.setdefault(how, []).append(arrival_id)
        if not reason or (ends_at is not None and ends_at <= now):
            continue
        grants.setdefault(ends_at, []).append((arrival_id, [person_id]))
    for how, source_ids in ending.items():
        reasons_end_many(source_type=ARRIVAL, source_ids=source_ids, how=how, actor=actor)
    for ends_at, items in grants.items():
        reasons_grant_many(
            kind="arrival_risk",
            grants=items,
            source_type=ARRIVAL,
            ends_at=ends_at,
            actor=actor,
        )


def on_zone_declared(
    *, zone_id: int, reason_kind: str, person_ids: list[int], actor: Actor = None, **_: Any
) -> None:
    """The zone's residents get the reason of its level (the zone's own SMS tells
    them, so no status notice)."""
    if reason_kind and person_ids:
        reasons_grant(
            kind=reason_kind,
            person_ids=person_ids,
            source_type=ZONE,
            source_id=zone_id,
            actor=actor,
            notify=False,
        )


def on_zone_level_changed(
    *,
    zone_id: int,
    reason_kind: str,
    previous_reason_kind: str,
    person_ids: list[int],
    actor: Actor = None,
    **_: Any,
) -> None:
    """A new level with another reason kind: the old reasons are superseded, the
    residents get the new one."""
    if reason_kind == previous_reason_kind:
        return
    if previous_reason_kind:
        reasons_end(
            source_type=ZONE,
            source_id=zone_id,
            how=Reason.How.SUPERSEDED,
            kind=previous_reason_kind,
            actor=actor,
            notify=False,
        )
    on_zone_declared(zone_id=zone_id, reason_kind=reason_kind, person_ids=person_ids, actor=actor)


def on_zone_units_removed(
    *, zone_id: int, person_ids: list[int], actor: Actor = None, **_: Any
) -> None:
    """Residents of the units taken out of the zone are released from it."""
    if person_ids:
        reasons_end(
            source_type=ZONE,
            source_id=zone_id,
            how=Reason.How.ZONE_LIFTED,
            person_ids=person_ids,
            actor=actor,
            notify=False,
        )


def on_zone_lifted(*, zone_id: int, actor: Actor = None, **_: Any) -> None:
    reasons_end(
        source_type=ZONE, source_id=zone_id, how=Reason.How.ZONE_LIFTED, actor=actor, notify=False
    )


TUBE = "screening.tube"
SCHEDULE = "screening.schedule"


def on_pools_positive(*, grants: list[list[Any]], actor: Actor = None, **_: Any) -> None:
    """Every member of a positive pool gets the pooled-positive reason (one call
    for a lab's whole file)."""
    reasons_grant_many(
        kind="pooled_positive",
        grants=[(int(tube_id), [int(p) for p in ids]) for tube_id, ids in grants],
        source_type=TUBE,
        actor=actor,
    )


def on_negative_results(*, entries: list[list[Any]], **_: Any) -> None:
    """Negative screening results (person ids, sampled at, tube or none) end the
    reasons enough negative tests clear."""
    negative_results_record(
        [([int(p) for p in ids], dt.datetime.fromisoformat(at), tube) for ids, at, tube in entries],
        source_type=TUBE,
    )


def on_schedule_overdue(*, schedule_id: int, person_ids: list[int], **_: Any) -> None:
    reasons_grant(
        kind="overdue_screening", person_ids=person_ids, source_type=SCHEDULE, source_id=schedule_id
    )


def on_schedule_retested(
    *, schedule_id: int, person_ids: list[int], actor: Actor = None, **_: Any
) -> None:
    reasons_end(
        source_type=SCHEDULE,
        source_id=schedule_id,
        how=Reason.How.RETESTED,
        person_ids=person_ids,
        actor=actor,
    )


def connect() -> None:
    events.subscribe("case.confirmed", on_case_confirmed)
    events.subscribe("case.excluded", on_case_excluded)
    events.subscribe("case.released", on_case_released)
    events.subscribe("case.outcome_set", on_case_outcome)
    events.subscribe("contact.categorised", on_contact_categorised)
    events.subscribe("contact.monitoring_ended", on_contact_monitoring_ended)
    events.subscribe("arrival.classified", on_arrival_classified)
    events.subscribe("arrivals.classified", on_arrivals_classified)
    events.subscribe("zone.declared", on_zone_declared)
    events.subscribe("zone.level_changed", on_zone_level_changed)
    events.subscribe("zone.units_added", on_zone_declared)
    events.subscribe("zone.units_removed", on_zone_units_removed)
    events.subscribe("zone.lifted", on_zone_lifted)
    events.subscribe("screening.pools_positive", on_pools_positive)
    events.subscribe("screening.negative_results", on_negative_results)
    events.subscribe("screening.schedule_overdue", on_schedule_overdue)
    events.subscribe("screening.schedule_retested", on_schedule_retested)
