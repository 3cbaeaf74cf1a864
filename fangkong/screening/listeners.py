"""Facts the screening app acts on (subscribed in ``ScreeningConfig.ready``).

``arrival.sampled`` (entry): an arrival test was taken at a checkpoint; the sample
goes into its tube of the district's arrival-test round. Delivery is at least
once: a person already in the tube is left as is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from fangkong.core import events
from fangkong.core.types import Actor
from fangkong.screening.services.arrivals import arrival_sample_record


def on_arrival_sampled(
    *,
    arrival_id: int,
    person_id: int,
    barcode: str,
    pool_size: int,
    sampled_at: str,
    scope_path: str,
    place: str = "",
    actor: Actor = None,
    **_other: Any,
) -> None:
    at = dt.datetime.fromisoformat(sampled_at)
    arrival_sample_record(
        actor=actor,
        arrival_id=int(arrival_id),
        person_id=int(person_id),
        barcode=barcode,
        pool_size=int(pool_size),
        sampled_at=at if timezone.is_aware(at) else timezone.make_aware(at),
        scope_path=scope_path,
        place=place,
    )


def connect() -> None:
    events.subscribe("arrival.sampled", on_arrival_sampled)
