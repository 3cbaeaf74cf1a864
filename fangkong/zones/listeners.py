"""Facts of other modules that zones acts on (subscribed in ``ZonesConfig.ready``).
Handlers are idempotent: a fact delivered twice changes nothing more."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from fangkong.core import events
from fangkong.core.types import Actor
from fangkong.zones.services.requests import service_requests_delivered


def on_supplies_delivered(
    *,
    request_ids: list[int],
    delivered_at: str,
    received_by: str = "",
    actor: Actor = None,
    **_other: Any,
) -> None:
    """Supplies delivered the goods of these door-step requests to the zone (proof
    recorded): the requests are done, for the resident to confirm."""
    if not request_ids:
        return
    service_requests_delivered(
        actor=actor,
        request_ids=request_ids,
        at=dt.datetime.fromisoformat(delivered_at),
        note=_("Delivered by the supplies team, received by %(name)s.") % {"name": received_by},
    )


def connect() -> None:
    events.subscribe("supplies.delivered", on_supplies_delivered)
