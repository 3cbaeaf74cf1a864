"""Bulk writes for the import paths: COPY on PostgreSQL, one prepared INSERT run
with ``executemany`` elsewhere. Values are raw column values (ids, strings,
aware datetimes); callers have validated them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import connection


def copy_rows(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    if not rows:
        return
    qn = connection.ops.quote_name
    cols = ", ".join(qn(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {qn(table)} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {qn(table)} ({cols}) VALUES ({marks})",  # noqa: S608
                [_adapt(r) for r in rows],
            )


def update_rows(table: str, set_columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """``UPDATE table SET c1=%s, ... WHERE id=%s`` for each row (values..., id)."""
    if not rows:
        return
    qn = connection.ops.quote_name
    sets = ", ".join(f"{qn(c)} = %s" for c in set_columns)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {qn(table)} SET {sets} WHERE {qn('id')} = %s",  # noqa: S608
            [_adapt(r) for r in rows],
        )


def _adapt(row: Sequence[Any]) -> list[Any]:
    """Datetimes as the backend stores them (SQLite: naive UTC text)."""
    if connection.vendor == "postgresql":
        return list(row)
    return [
        connection.ops.adapt_datetimefield_value(v) if isinstance(v, dt.datetime) else v
        for v in row
    ]
