"""Helpers of the supplies tests."""

from __future__ import annotations

import struct
import zlib
from typing import Any

from django.db.models import Sum

from fangkong.supplies import services
from fangkong.supplies.models import Movement, Posting, Stock


def move(actor: Any, kind: str, wh: Any, item: Any, qty: int, **kw: Any) -> Movement:
    return services.movement_record(
        actor=actor,
        data=services.MovementData(
            kind=kind, warehouse_id=wh.pk, item_id=item.pk, quantity=qty, **kw
        ),
    )


def balance(wh: Any, item: Any) -> int:
    row = Stock.objects.filter(warehouse=wh, item=item).first()
    return row.quantity if row else 0


def postings_sum(wh: Any, item: Any) -> int:
    total = Posting.objects.filter(warehouse=wh, item=item).aggregate(t=Sum("amount"))["t"]
    return int(total or 0)


def _png() -> bytes:
    """A valid 8×8 grey PNG (a photo as far as a browser is concerned)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * 8 for _ in range(8))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = _png()


def grocery_request(person: Any, text: str = "大米5公斤、青菜") -> int:
    """A resident's door-step request for groceries, filed through the portal."""
    from fangkong.zones.services import service_request_create

    return int(service_request_create(person_id=person.pk, kind="groceries", text=text).pk)
