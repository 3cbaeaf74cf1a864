"""The schema types of every API: one validation layer for what a client sends.

Every app's ``api.py`` declares its bodies, filters and answers with
``fangkong.core.schema.Schema`` (never ``ninja.Schema``; a test checks it) and
its partial updates with ``Patch``. Whatever the field, an input is refused at
the edge (400, the one error shape, naming the field) rather than reaching the
database:

- **integers** fit a 32-bit column unless the field declares its own bounds
  (``Field(le=...)``, ``Id`` for a 64-bit key); ``true``/``false`` is never a number
  (``{"person_id": true}`` is not person 1);
- **no NaN or infinity** in a number;
- **date-times** with a time zone keep an offset within ±18:00 and are converted
  to UTC (``+25:00`` or an offset that moves the time out of the calendar is
  refused); **times of day** are local: ``08:00:00+08:00`` is refused;
- **``Patch``**: a field that is left out keeps its value; an explicit ``null`` is
  refused unless the field is listed in ``nullable`` (a column that may be empty).

Strings with a NUL character or an unpaired surrogate are refused for every
input before the schema is read (``fangkong.core.apiedge``). Answers (schemas
validated as a response) are not checked again.

Example::

    from fangkong.core.schema import Id, Patch, Schema

    class SiteIn(Schema):
        name: str = Field(max_length=200)
        jurisdiction_id: int            # 1 .. 2**31-1, never true/false
        opens_at: dt.time               # local time of day
        lanes: int = Field(1, ge=1, le=100)

    class SitePatch(Patch):
        nullable = frozenset({"closes_at"})
        name: str | None = Field(None, max_length=200)
        closes_at: dt.time | None = None
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Annotated, Any, ClassVar, Union

import annotated_types
import ninja
from pydantic import ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
MAX_OFFSET = dt.timedelta(hours=18)

# A key of a table that may outgrow 32 bits (a bigint primary key).
Id = Annotated[int, Field(ge=1, le=INT64_MAX)]

_NOT_BOOL = "Give a number, not true or false."
_INT_RANGE = "The number must be between {low} and {high}."


def _leaves(annotation: Any) -> list[Any]:
    """The plain types an annotation allows (Optional, unions, lists, Annotated unwrapped)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _leaves(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType, list, tuple, set, frozenset):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            if arg is not Ellipsis:
                out.extend(_leaves(arg))
        return out
    return [annotation]


def _bounds(metadata: list[Any], annotation: Any) -> tuple[bool, bool]:
    """Whether an upper and a lower bound are declared (field or item metadata)."""
    found = list(metadata)
    for arg in _annotated_parts(annotation):
        found.extend(getattr(arg, "metadata", []) or [])
        if isinstance(arg, annotated_types.BaseMetadata):
            found.append(arg)
    upper = any(isinstance(m, annotated_types.Le | annotated_types.Lt) for m in found)
    lower = any(isinstance(m, annotated_types.Ge | annotated_types.Gt) for m in found)
    return upper, lower


def _annotated_parts(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        base, *extra = typing.get_args(annotation)
        return [*extra, *_annotated_parts(base)]
    if origin in (Union, types.UnionType, list, tuple, set, frozenset):
        return [p for arg in typing.get_args(annotation) for p in _annotated_parts(arg)]
    return []


class _Kind:
    __slots__ = ("ints", "upper", "lower", "datetimes", "times")

    def __init__(self, annotation: Any, metadata: list[Any]) -> None:
        leaves = _leaves(annotation)
        self.ints = int in leaves and bool not in leaves
        self.upper, self.lower = _bounds(metadata, annotation)
        self.datetimes = dt.datetime in leaves
        self.times = dt.time in leaves


# What each field of each schema takes, worked out on first use.
_KINDS: dict[tuple[type, str], _Kind] = {}


def _is_response(info: ValidationInfo) -> bool:
    context = info.context
    return isinstance(context, dict) and "response_status" in context


class Schema(ninja.Schema):
    """Base of every API schema (see the module docstring)."""

    model_config = ConfigDict(allow_inf_nan=False)

    @field_validator("*", mode="wrap")
    @classmethod
    def _edge(cls, value: Any, handler: Any, info: ValidationInfo) -> Any:
        if _is_response(info) or info.field_name is None:
            return handler(value)
        kind = cls._kind(info.field_name)
        if value is None and not cls._null_allowed(info.field_name):
            raise PydanticCustomError(
                "null_not_allowed",
                "This field cannot be null: leave it out to keep its value.",
            )
        if kind.ints and _has_bool(value):
            raise PydanticCustomError("int_not_bool", _NOT_BOOL)
        result = handler(value)
        if kind.ints and not (kind.upper and kind.lower):
            _check_ints(result, kind)
        if kind.datetimes and isinstance(result, dt.datetime):
            result = _utc(result)
        if kind.times and isinstance(result, dt.time) and result.tzinfo is not None:
            raise PydanticCustomError(
                "time_with_offset",
                "A time of day is local: give it without a time zone (for example 08:00).",
            )
        return result

    @classmethod
    def _kind(cls, name: str) -> _Kind:
        kind = _KINDS.get((cls, name))
        if kind is None:
            info = cls.model_fields[name]
            kind = _KINDS[(cls, name)] = _Kind(info.annotation, list(info.metadata))
        return kind

    @classmethod
    def _null_allowed(cls, name: str) -> bool:
        return True


class Patch(Schema):
    """A partial update: fields left out keep their value (``payload.dict(exclude_unset=True)``);
    an explicit ``null`` is refused except for the fields named in ``nullable``."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def _null_allowed(cls, name: str) -> bool:
        return name in cls.nullable


def _has_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, list | tuple):
        return any(isinstance(v, bool) for v in value)
    return False


def _check_ints(value: Any, kind: _Kind) -> None:
    values = value if isinstance(value, list | tuple | set | frozenset) else [value]
    high = INT64_MAX if kind.upper else INT32_MAX
    low = -INT64_MAX if kind.lower else -INT32_MAX
    for v in values:
        if isinstance(v, int) and not low <= v <= high:
            raise PydanticCustomError(
                "int_out_of_range",
                _INT_RANGE,
                {"low": f"{low:,}", "high": f"{high:,}"},
            )


def _utc(value: dt.datetime) -> dt.datetime:
    offset = value.utcoffset()
    if offset is None:
        return value
    if abs(offset) > MAX_OFFSET:
        raise PydanticCustomError(
            "offset_out_of_range", "A time zone offset lies between -18:00 and +18:00."
        )
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise PydanticCustomError("datetime_out_of_range", "The date is out of range.") from None
