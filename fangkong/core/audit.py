"""Audit trail: every write through a service records who, what, where and why.

The request id and client address come from ``RequestIdMiddleware`` through a
context variable, so services need not pass the request around. Jobs and
commands run with an empty request context (request id from ``request_context``).
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fangkong.core import permissions
from fangkong.core.crypto import mask
from fangkong.core.models import AuditEntry
from fangkong.core.types import Actor, acting_user


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    client_ip: str | None = None


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "fangkong_request_context", default=None
)

# Fields whose values never appear in clear in an audit row.
PERSONAL_FIELDS = {"doc_number", "phone"}


@contextmanager
def request_context(request_id: str | None = None, client_ip: str | None = None) -> Iterator[None]:
    token = _current.set(RequestContext(request_id or uuid.uuid4().hex, client_ip))
    try:
        yield
    finally:
        _current.reset(token)


def current_request() -> RequestContext | None:
    return _current.get()


def masked_value(field: str, value: Any) -> Any:
    if field in PERSONAL_FIELDS and value:
        return mask(str(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value)
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for the fields that changed, personal values masked."""
    out: dict[str, list[Any]] = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            out[key] = [masked_value(key, old), masked_value(key, new)]
    return out


def audit_row(
    *,
    actor: Actor,
    action: str,
    obj: Any = None,
    object_type: str | None = None,
    object_id: Any = None,
    scope_path: str = "",
    person_id: int | None = None,
    changes: dict[str, Any] | None = None,
    reason: str = "",
) -> dict[str, Any]:
    """The field values of one audit row (who, from where, what, whom): what
    ``audit_record`` writes, and what ``audit_insert_sql`` puts in a statement."""
    ctx = current_request()
    profile = permissions.staff_profile(actor)
    user = acting_user(actor)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id if object_id is not None else obj.pk
    return {
        "actor": user,
        "actor_username": user.get_username() if user else "system",
        "actor_roles": ",".join(permissions.role_codes_of(user)) if user else "",
        "actor_jurisdiction_path": profile.jurisdiction.path if profile else "",
        "action": action,
        "object_type": object_type or "",
        "object_id": str(object_id if object_id is not None else ""),
        "scope_path": scope_path,
        "person_id": person_id,
        "changes": changes or {},
        "reason": reason,
        "request_id": ctx.request_id if ctx else "",
        "client_ip": ctx.client_ip if ctx else None,
    }


def audit_record(
    *,
    actor: Actor,
    action: str,
    obj: Any = None,
    object_type: str | None = None,
    object_id: Any = None,
    scope_path: str = "",
    person_id: int | None = None,
    changes: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEntry:
    """Append one audit row. Call inside the service's transaction."""
    return AuditEntry.objects.create(
        **audit_row(
            actor=actor,
            action=action,
            obj=obj,
            object_type=object_type,
            object_id=object_id,
            scope_path=scope_path,
            person_id=person_id,
            changes=changes,
            reason=reason,
        )
    )


def audit_insert_sql(row: dict[str, Any], *, changes_sql: str) -> tuple[str, list[Any]]:
    """PostgreSQL: the INSERT of the audit row ``row`` (``audit_row``) as one part of a
    service's single statement (a data-modifying CTE), its ``changes`` the jsonb
    expression ``changes_sql`` (no parameters) over the statement's own results,
    instead of ``row["changes"]``. For a service whose whole write is one statement
    in autocommit: the audit row commits with it or not at all."""
    from django.db import connection
    from django.utils import timezone

    actor = row["actor"]
    columns = [
        "time",
        "actor_id",
        "actor_username",
        "actor_roles",
        "actor_jurisdiction_path",
        "action",
        "object_type",
        "object_id",
        "scope_path",
        "person_id",
        "reason",
        "request_id",
        "client_ip",
    ]
    params = [
        connection.ops.adapt_datetimefield_value(timezone.now()),
        actor.pk if actor is not None else None,
        *(row[c] for c in columns[2:]),
    ]
    marks = ", ".join(["%s"] * (len(columns) - 1)) + ", %s::inet"
    table = AuditEntry._meta.db_table
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}, changes) "  # noqa: S608
        f"SELECT {marks}, {changes_sql}"
    )
    return sql, params


def audit_record_many(*, actor: Actor, action: str, entries: list[dict[str, Any]]) -> int:
    """Append many audit rows of one action by one actor in one insert (a fact
    about many people: one row each). Each entry may give ``object_type``,
    ``object_id``, ``scope_path``, ``person_id``, ``changes`` and ``reason``."""
    if not entries:
        return 0
    ctx = current_request()
    profile = permissions.staff_profile(actor)
    user = acting_user(actor)
    shared = {
        "actor": user,
        "actor_username": user.get_username() if user else "system",
        "actor_roles": ",".join(permissions.role_codes_of(user)) if user else "",
        "actor_jurisdiction_path": profile.jurisdiction.path if profile else "",
        "action": action,
        "request_id": ctx.request_id if ctx else "",
        "client_ip": ctx.client_ip if ctx else None,
    }
    rows = [
        AuditEntry(
            **shared,
            object_type=e.get("object_type") or "",
            object_id=str(e.get("object_id") if e.get("object_id") is not None else ""),
            scope_path=e.get("scope_path", ""),
            person_id=e.get("person_id"),
            changes=e.get("changes") or {},
            reason=e.get("reason", ""),
        )
        for e in entries
    ]
    AuditEntry.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def audit_record_for(
    actor: Actor, action: str, obj: Any, changes: dict[str, Any], reason: str = ""
) -> AuditEntry:
    """``audit_record`` for a record that carries ``scope_path`` and ``person_id``
    (cases, contacts, follow-ups...): where it lives and whom it concerns come
    from the record itself."""
    return audit_record(
        actor=actor,
        action=action,
        obj=obj,
        scope_path=obj.scope_path,
        person_id=obj.person_id,
        changes=changes,
        reason=reason,
    )
