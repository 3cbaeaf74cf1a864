"""Writes of the supplies app: warehouses and markets, the stock ledger and price
reports (``ledger``), deliveries to sealed zones (``deliveries``)."""

from fangkong.supplies.services.deliveries import (
    MAX_PHOTO_BYTES,
    delivery_cancel,
    delivery_dispatch,
    delivery_plan,
    delivery_record_proof,
    distribution_lines,
    supplied_zone,
    zone_request_close,
    zone_request_receive,
)
from fangkong.supplies.services.ledger import (
    MAX_QUANTITY,
    MAX_TEXT,
    MovementData,
    market_create,
    movement_record,
    post_movement,
    price_correct,
    price_report,
    warehouse_create,
)

__all__ = [
    "MAX_PHOTO_BYTES",
    "MAX_QUANTITY",
    "MAX_TEXT",
    "MovementData",
    "delivery_cancel",
    "delivery_dispatch",
    "delivery_plan",
    "delivery_record_proof",
    "distribution_lines",
    "market_create",
    "movement_record",
    "post_movement",
    "price_correct",
    "price_report",
    "supplied_zone",
    "warehouse_create",
    "zone_request_close",
    "zone_request_receive",
]
