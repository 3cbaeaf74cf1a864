"""Facts of other modules that supplies acts on (subscribed in
``SuppliesConfig.ready``): a door-step request filed in a zone supplied at the
door waits for a delivery; one the zone's team closed waits no more. Idempotent:
a request is kept once, keyed by its id."""

from __future__ import annotations

from fangkong.core import events
from fangkong.supplies.services import zone_request_close, zone_request_receive


def connect() -> None:
    events.subscribe("service_request.filed", zone_request_receive)
    events.subscribe("service_request.closed", zone_request_close)
