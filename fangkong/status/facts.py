"""Handlers of investigation facts (subscribed in ``StatusConfig.ready``).

Each runs inside the publisher's transaction: a fact never exists without its
status consequence. Zones and screening call the reason services directly.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from fangkong.core import events
from fangkong.status.models import Reason
from fangkong.status.services.reasons import notify_changes, reasons_end, reasons_grant, recompute

CASE = "investigation.case"
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
    *, case_id: int, person_id: int, disease_id: int | None = None, actor: Any = None, **_: Any
) -> None:
    reasons_grant(
        kind="confirmed_case",
        person_ids=[person_id],
        source_type=CASE,
        source_id=case_id,
        disease_id=disease_id,
        actor=actor,
    )


def on_case_excluded(*, case_id: int, actor: Any = None, **_: Any) -> None:
    reasons_end(source_type=CASE, source_id=case_id, how=Reason.How.REVOKED, actor=actor)


def on_case_released(*, case_id: int, actor: Any = None, **_: Any) -> None:
    reasons_end(source_type=CASE, source_id=case_id, how=Reason.How.CASE_RELEASED, actor=actor)


def on_case_outcome(*, case_id: int, outcome: str, actor: Any = None, **_: Any) -> None:
    if outcome == "died":
        reasons_end(source_type=CASE, source_id=case_id, how=Reason.How.CASE_RELEASED, actor=actor)


def on_contact_categorised(
    *,
    contact_id: int,
    person_id: int,
    category: str,
    monitoring_end: dt.date | None = None,
    disease_id: int | None = None,
    actor: Any = None,
    **_: Any,
) -> None:
    kind = CONTACT_KINDS.get(category)
    if kind is None:
        return
    ends_at = end_of_day(monitoring_end) if monitoring_end is not None else None
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
            ended_by=actor if getattr(actor, "is_authenticated", False) else None,
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
    *, contact_id: int, actor: Any = None, became_case: bool = False, **_: Any
) -> None:
    how = Reason.How.SUPERSEDED if became_case else Reason.How.EXPIRY
    reasons_end(source_type=CONTACT, source_id=contact_id, how=how, actor=actor)


def connect() -> None:
    events.subscribe("case.confirmed", on_case_confirmed)
    events.subscribe("case.excluded", on_case_excluded)
    events.subscribe("case.released", on_case_released)
    events.subscribe("case.outcome_set", on_case_outcome)
    events.subscribe("contact.categorised", on_contact_categorised)
    events.subscribe("contact.monitoring_ended", on_contact_monitoring_ended)
