"""Bulk writes for the import paths: COPY on PostgreSQL, one prepared INSERT run
with ``executemany`` elsewhere. Values are raw column values (ids, strings,
aware datetimes); callers have validated them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.db import connection

from fangkong.core.dbtime import db_datetime


def copy_rows(
    table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, adapted: bool = False
) -> None:
    """``adapted``: the rows' datetimes went through ``time_adapter`` already."""
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
            if adapted:
                values: Sequence[Sequence[Any]] = rows
            else:
                adapt = _row_adapter(_time_columns(rows))
                values = [adapt(r) for r in rows]
            cursor.executemany(
                f"INSERT INTO {qn(table)} ({cols}) VALUES ({marks})",  # noqa: S608
                values,
            )


def update_rows(table: str, set_columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """``UPDATE table SET c1=%s, ... WHERE id=%s`` for each row (values..., id).

    Rows that set the same values (a lab's file of negatives: the same result,
    state and time) go in as one ``UPDATE ... WHERE id IN`` per set of values. Else,
    on PostgreSQL, the rows go in as one COPY into a temporary table and one
    ``UPDATE ... FROM`` (a set-based join instead of one statement per row)."""
    if not rows:
        return
    qn = connection.ops.quote_name
    shared = _shared_values(rows)
    if shared is not None:
        sets = ", ".join(f"{qn(c)} = %s" for c in set_columns)
        for values, ids in shared.items():
            execute_in(
                f"UPDATE {qn(table)} SET {sets} WHERE {qn('id')} {{in}}",  # noqa: S608
                ids,
                _adapt(values),
            )
        return
    if connection.vendor == "postgresql" and len(rows) > 50:
        cols = [*set_columns, "id"]
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS _fk_upd_{table} ON COMMIT DROP AS "  # noqa: S608
                f"SELECT {', '.join(qn(c) for c in cols)} FROM {qn(table)} WITH NO DATA"
            )
            cursor.execute(f"TRUNCATE _fk_upd_{table}")
            with cursor.cursor.copy(
                f"COPY _fk_upd_{table} ({', '.join(qn(c) for c in cols)}) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
            sets = ", ".join(f"{qn(c)} = u.{qn(c)}" for c in set_columns)
            cursor.execute(
                f"UPDATE {qn(table)} AS t SET {sets} FROM _fk_upd_{table} AS u "  # noqa: S608
                f"WHERE t.{qn('id')} = u.{qn('id')}"
            )
        return
    sets = ", ".join(f"{qn(c)} = %s" for c in set_columns)
    adapt = _row_adapter()
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {qn(table)} SET {sets} WHERE {qn('id')} = %s",  # noqa: S608
            [adapt(r) for r in rows],
        )


def _shared_values(rows: Sequence[Sequence[Any]]) -> dict[tuple[Any, ...], list[Any]] | None:
    """Ids by the values they are set to, when a few sets of values cover many rows."""
    if len(rows) < 50:
        return None
    groups: dict[tuple[Any, ...], list[Any]] = {}
    try:
        for row in rows:
            key = tuple(row[:-1])
            ids = groups.get(key)
            if ids is None:
                if len(groups) >= 8:
                    return None
                ids = groups[key] = []
            ids.append(row[-1])
    except TypeError:  # a value that cannot be a key (a dict): row by row
        return None
    return groups


def _adapt(row: Sequence[Any]) -> list[Any]:
    """Datetimes as the backend stores them (SQLite: naive UTC text)."""
    if connection.vendor == "postgresql":
        return list(row)
    return [
        connection.ops.adapt_datetimefield_value(v) if isinstance(v, dt.datetime) else v
        for v in row
    ]


def _time_columns(rows: Sequence[Sequence[Any]]) -> list[int] | None:
    """The positions that may hold datetimes: those holding a datetime or nothing in
    the first row (ids, numbers and text stay what they are in every row of an import);
    ``None`` when unsure."""
    first = rows[0]
    found = [i for i, v in enumerate(first) if v is None or isinstance(v, dt.datetime)]
    return found if len(found) < len(first) else None


def time_adapter() -> Callable[[dt.datetime], Any]:
    """A datetime as ``copy_rows`` writes it (PostgreSQL: itself; SQLite: naive UTC
    text), each distinct value converted once."""
    if connection.vendor == "postgresql":
        return _same_time
    convert = _sqlite_time()
    memo: dict[dt.datetime, Any] = {}

    def adapt(value: dt.datetime) -> Any:
        found = memo.get(value)
        if found is None:
            found = memo[value] = convert(value)
        return found

    return adapt


def _sqlite_time() -> Callable[[dt.datetime], Any]:
    slow = connection.ops.adapt_datetimefield_value
    tz = connection.timezone if settings.USE_TZ else None

    def convert(value: dt.datetime) -> Any:
        # What Django's SQLite adapter does for an aware value, without its per-call
        # settings lookups: naive text in the connection's time zone.
        if tz is not None and value.tzinfo is not None:
            return str(value.astimezone(tz).replace(tzinfo=None))
        return slow(value)

    return convert


def _same_time(value: dt.datetime) -> Any:
    return value


def _row_adapter(positions: list[int] | None = None) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """``_adapt`` for many rows: on SQLite each distinct datetime is converted once
    (rows of one import share a few: the import time, each tube's sampling time).
    ``positions``: only these columns can hold datetimes."""
    if connection.vendor == "postgresql":
        return _same
    convert = _sqlite_time()
    memo: dict[dt.datetime, Any] = {}
    datetime = dt.datetime

    def adapt(row: Sequence[Any]) -> Sequence[Any]:
        out = list(row)
        for i in range(len(out)) if positions is None else positions:
            v = out[i]
            if isinstance(v, datetime):
                found = memo.get(v)
                if found is None:
                    found = memo[v] = convert(v)
                out[i] = found
        return out

    return adapt


def _same(row: Sequence[Any]) -> Sequence[Any]:
    return row


def _pg_array(values: Sequence[Any]) -> tuple[Any, str]:
    """The values as one array parameter. Ints and strings are written as the array's
    text literal here (the driver's per-element adaptation of a 20,000-element list
    costs more than the query); anything else goes to the driver as a list."""
    if all(v.__class__ is int for v in values):
        return "{" + ",".join(map(str, values)) + "}", "::bigint[]"
    if all(v.__class__ is str for v in values):
        quoted = (v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
        return "{" + ",".join(f'"{v}"' for v in quoted) + "}", "::text[]"
    return list(values), ""


def execute_in(sql: str, values: Sequence[Any], params: Sequence[Any] = ()) -> None:
    """Like ``select_in`` for statements that return nothing (UPDATE, DELETE)."""
    if not values:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            array, cast = _pg_array(values)
            cursor.execute(sql.replace("{in}", f"= ANY(%s{cast})"), [*params, array])
            return
        for k in range(0, len(values), 5000):
            part = list(values[k : k + 5000])
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(sql.replace("{in}", f"IN ({marks})"), [*params, *part])


def select_in(sql: str, values: Sequence[Any], params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run ``sql`` whose ``{in}`` stands for "column IN the values": one array
    parameter on PostgreSQL (``= ANY(%s)``: one plan, one bind, however many
    values), chunks of ``IN (...)`` elsewhere. ``params`` come before the values."""
    if not values:
        return []
    out: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            array, cast = _pg_array(values)
            cursor.execute(sql.replace("{in}", f"= ANY(%s{cast})"), [*params, array])
            return list(cursor.fetchall())
        for k in range(0, len(values), 5000):
            part = list(values[k : k + 5000])
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(sql.replace("{in}", f"IN ({marks})"), [*params, *part])
            out.extend(cursor.fetchall())
    return out


db_time = db_datetime  # a datetime read on a raw cursor, aware (core.dbtime)
