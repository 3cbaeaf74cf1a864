"""Datetimes read with raw SQL, made aware.

PostgreSQL gives aware datetimes; SQLite gives naive UTC values or text, and JSON
built by PostgreSQL carries the offset in the text. One reading for all apps."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.dateparse import parse_datetime


def db_datetime(value: Any) -> dt.datetime:
    """An aware datetime (UTC when the value carries no offset)."""
    if isinstance(value, dt.datetime):
        result = value
    else:
        parsed = parse_datetime(str(value))
        if parsed is None:
            raise ValueError(f"not a datetime: {value!r}")
        result = parsed
    return result if result.utcoffset() is not None else result.replace(tzinfo=dt.UTC)
