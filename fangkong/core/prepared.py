"""Statements planned once per PostgreSQL connection (one copy for every app).

A hot statement whose planning costs about as much as its work (the sampler's
scan, a case's co-presence match) is prepared on each connection once and then
executed by name, its plan kept by the server. With ``FANGKONG_DB_PREPARE`` off
(behind a pooler in transaction mode, which may hand each statement to another
server connection) the statement is sent whole. A statement dropped behind our
back (``DISCARD ALL`` by a pooler) is prepared again, once, where no transaction
was lost with it.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any, NamedTuple

from django.conf import settings
from django.db import ProgrammingError, connection


class Prepared(NamedTuple):
    """A statement with ``%(x)s`` parameters and their SQL types (``prepared``)."""

    name: str
    prepare: str  # PREPARE name (types) AS ... ($1, $2, ...)
    execute: str  # EXECUTE name (%s, %s, ...)
    keys: tuple[str, ...]  # the parameters' names, in order
    sql: str  # the statement itself, with %(x)s parameters (not prepared)


def prepared(name: str, sql: str, types: dict[str, str]) -> Prepared:
    """``sql`` with ``%(x)s`` parameters as a named prepared statement (``types``:
    parameter name -> SQL type, in the order of ``$n``)."""
    body = sql
    for n, key in enumerate(types, start=1):
        body = body.replace(f"%({key})s", f"${n}")
    return Prepared(
        name,
        f"PREPARE {name} ({', '.join(types.values())}) AS {body}",
        f"EXECUTE {name} ({', '.join(['%s'] * len(types))})",
        tuple(types),
        sql,
    )


def execute_prepared(cursor: Any, statement: Prepared, params: dict[str, Any]) -> None:
    """Run ``statement`` with its named ``params`` (prepared on first use)."""
    if not settings.FANGKONG_DB_PREPARE:
        cursor.execute(statement.sql, params)
        return
    values = [params[k] for k in statement.keys]
    _run(cursor, statement.name, statement.prepare, statement.execute, values)


def execute_prepared_text(cursor: Any, name: str, sql: str, params: Sequence[Any]) -> None:
    """Run ``sql`` with positional ``%s`` parameters as the prepared statement
    ``name`` (its parameter types inferred by the server). A statement built at
    run time may change its text: under the same name, the new text replaces the
    old one on the connection."""
    if not settings.FANGKONG_DB_PREPARE:
        cursor.execute(sql, params)
        return
    pieces = sql.split("%s")
    if len(pieces) != len(params) + 1 or "%" in "".join(pieces):
        raise ValueError(f"{name}: {len(params)} parameters for {len(pieces) - 1} places")
    body = "".join(f"{p}${n}" for n, p in enumerate(pieces[:-1], start=1)) + pieces[-1]
    execute = f"EXECUTE {name} ({', '.join(['%s'] * len(params))})"
    _run(cursor, name, f"PREPARE {name} AS {body}", execute, list(params))


# What each connection holds: by the driver's connection object (a reconnect
# prepares again), statement name -> the PREPARE text it was prepared with.
_on: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()


def _run(cursor: Any, name: str, prepare: str, execute: str, values: list[Any]) -> None:
    held = _on.setdefault(connection.connection, {})

    def make() -> None:
        if name in held:  # another text under this name
            cursor.execute(f"DEALLOCATE {name}")
        cursor.execute(prepare)
        held[name] = prepare

    if held.get(name) != prepare:
        make()
    try:
        cursor.execute(execute, values)
    except ProgrammingError as exc:
        from psycopg.errors import InvalidSqlStatementName

        if connection.in_atomic_block or not isinstance(exc.__cause__, InvalidSqlStatementName):
            raise
        held.pop(name, None)
        make()
        cursor.execute(execute, values)
