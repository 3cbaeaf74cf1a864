"""Facts the quarantine app acts on (subscribed in ``QuarantineConfig.ready``).

``transfer.handed_over`` (entry): the people of a point-to-point transfer were
handed over at a quarantine site; each gets a stay there, waiting for a room.
Handlers may run more than once for one fact (delivery is at least once): a
stay is keyed by the transfer and the person, so a second run admits nobody.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from fangkong.core import events
from fangkong.quarantine.models import StayCategory
from fangkong.quarantine.services.stays import AdmitData, stays_admit

QUARANTINE_SITE = "quarantine_site"


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value)
    if "T" in text or " " in text:
        moment = dt.datetime.fromisoformat(text)
        return timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()
    return dt.date.fromisoformat(text)


def _moment(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def on_transfer_handed_over(
    *,
    transfer_id: int,
    person_ids: list[int],
    destination_kind: str,
    destination_id: int | None,
    at: Any = None,
    category: str = "other",
    planned_end: Any = None,
    arrival_ids: list[int] | None = None,
    disease_code: str = "",
    **_other: Any,
) -> None:
    """Open a pending stay at the site for each person handed over (a category
    the quarantine rules do not know is admitted as "other", whose rule applies)."""
    if destination_kind != QUARANTINE_SITE or destination_id is None or not person_ids:
        return
    known = StayCategory.objects.filter(code=category, active=True).exists()
    arrivals = list(arrival_ids or [])
    started = _date(at)
    people = [
        AdmitData(
            person_id=int(pid),
            category=category if known else "other",
            disease_code=disease_code or "",
            started_on=started,
            requested_end=_date(planned_end),
            transfer_id=int(transfer_id),
            arrival_id=int(arrivals[i]) if i < len(arrivals) and arrivals[i] is not None else None,
            source_key=f"transfer:{transfer_id}:{pid}",
            arrived_at=_moment(at),
        )
        for i, pid in enumerate(person_ids)
    ]
    stays_admit(actor=None, site_id=int(destination_id), people=people, source="transfer")


def connect() -> None:
    events.subscribe("transfer.handed_over", on_transfer_handed_over)
