"""Status data lookups: levels, kinds, rules in force, the policy (small, cached per process
for a short while; edits show within a minute)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any, TypeVar

from fangkong.status.models import ReasonKind, StatusLevel, StatusPolicy, StatusRule

_TTL = 60.0
_memo: dict[str, tuple[float, Any]] = {}


T = TypeVar("T")


def _cached(key: str, build: Callable[[], T]) -> T:
    hit = _memo.get(key)
    now = time.monotonic()
    if hit is not None and now - hit[0] < _TTL:
        value: T = hit[1]
        return value
    value = build()
    _memo[key] = (now, value)
    return value


def clear_cache() -> None:
    _memo.clear()


def levels() -> dict[str, StatusLevel]:
    """Levels by code (ordered by severity)."""
    return _cached(
        "levels", lambda: {lv.code: lv for lv in StatusLevel.objects.order_by("severity")}
    )


def lowest_level() -> StatusLevel:
    found = list(levels().values())
    if not found:  # never without the shipped defaults; keep the check API alive anyway
        return StatusLevel(
            code="green", name_zh="绿码", name_en="Green", colour="#16a34a", severity=0
        )
    return found[0]


def severity_of(code: str) -> int:
    lv = levels().get(code)
    return lv.severity if lv is not None else 0


def kinds() -> dict[str, ReasonKind]:
    return _cached("kinds", lambda: {k.code: k for k in ReasonKind.objects.all()})


def policy() -> StatusPolicy:
    def build() -> StatusPolicy:
        row = StatusPolicy.objects.order_by("pk").first()
        return row if row is not None else StatusPolicy()

    return _cached("policy", build)


def rule_in_force(kind: str, disease_id: int | None, on: dt.date) -> StatusRule | None:
    """The disease's own version in force on ``on``, else the disease-independent one."""
    rules: list[StatusRule] = _cached("rules", lambda: list(StatusRule.objects.all()))
    best: StatusRule | None = None
    for want in [disease_id, None] if disease_id is not None else [None]:
        for r in rules:
            if r.kind != kind or r.disease_id != want or r.effective_from > on:
                continue
            if best is None or (r.effective_from, r.version) > (best.effective_from, best.version):
                best = r
        if best is not None:
            return best
    return best
