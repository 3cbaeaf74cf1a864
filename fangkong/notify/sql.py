"""Bulk writes for large batches: one prepared statement run for many rows.

Django's ``bulk_create``/``bulk_update`` compile every value of every row (and
``bulk_update`` a CASE per row), which costs about a millisecond per message;
``executemany`` over a prepared statement costs a few microseconds. Values still
go through each field's ``get_db_prep_save``, so types match the ORM's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import connection, models

# Field types whose database value is the Python value itself when that value is
# a plain str/int/bool/None (the exact types: subclasses may prepare values).
_PLAIN_FIELDS = {
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.BooleanField,
    models.AutoField,
    models.BigAutoField,
}
_PLAIN_VALUES = (str, int, bool, type(None))


def _converter(field: Any) -> Callable[[Any], Any]:
    """``field.get_db_prep_save`` for one column, without its cost where it is the
    identity, and memoised for repeated values (a batch's timestamp, ids, codes)."""
    target = field.target_field if field.is_relation else field
    plain = type(target) in _PLAIN_FIELDS
    memo: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        if plain and type(value) in _PLAIN_VALUES:
            return value
        try:
            return memo[value]
        except KeyError:
            prepared = memo[value] = field.get_db_prep_save(value, connection)
            return prepared
        except TypeError:  # unhashable (a dict for a JSON field)
            return field.get_db_prep_save(value, connection)

    return convert


def _fields(model: type[models.Model], names: Sequence[str]) -> list[Any]:
    by_name = {f.name: f for f in model._meta.concrete_fields}
    return [by_name[n] for n in names]


def insert_many(model: type[models.Model], rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT ``rows`` (dicts of field name → value, same keys in every row)."""
    if not rows:
        return
    names = list(rows[0])
    fields = _fields(model, names)
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    converters = [(f.name, _converter(f)) for f in fields]
    params = [[convert(row[name]) for name, convert in converters] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def update_many(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    where: Mapping[str, Any] | None = None,
) -> None:
    """UPDATE each row by its ``id`` (other keys are the new values), only where the
    extra ``where`` conditions (field → value) still hold."""
    if not rows:
        return
    names = [n for n in rows[0] if n != "id"]
    fields = _fields(model, names)
    conditions = dict(where or {})
    cond_fields = _fields(model, list(conditions))
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(f.column)} = %s" for f in fields)
    tests = " AND ".join([f"{qn('id')} = %s", *(f"{qn(f.column)} = %s" for f in cond_fields)])
    sql = f"UPDATE {qn(model._meta.db_table)} SET {assignments} WHERE {tests}"  # noqa: S608
    fixed = [f.get_db_prep_save(conditions[f.name], connection) for f in cond_fields]
    params = [
        [*(f.get_db_prep_save(row[f.name], connection) for f in fields), row["id"], *fixed]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
