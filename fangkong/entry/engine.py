"""The classification engine: itinerary × risk-area lists × rules → category.

Pure: it reads nothing from the database. ``ListsInForce`` is a snapshot of the
lists in force on a day (built once for a bulk re-classification), ``RuleTable``
one version of the rules. Each finding names the stop, the listed area and the
list version it came from, so the decision can be explained in words.

Never silently green: an itinerary that is empty, leaves days of the asked
period uncovered, or names a place found neither by code nor by name is
``unknown`` (held for review, arrival test).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from fangkong.entry.models import CONDITION_ORDER, Condition
from fangkong.entry.places import code_for_name, squash


@dataclass(frozen=True)
class Stop:
    place: str
    code: str  # normalised; '' when given by name only
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class Area:
    list_id: int
    region_code: str
    region_name: str
    version: int
    code: str  # normalised admin code ('' for an area named only)
    name_key: str  # squashed names
    specific: str  # squashed most specific name
    level: str
    label: str


@dataclass
class ListsInForce:
    """Areas of the lists in force, indexed by code and by city for set look-ups."""

    areas: list[Area] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)  # region code → version
    by_code: dict[str, list[Area]] = field(default_factory=dict)
    cities: dict[str, Area] = field(default_factory=dict)  # 4-digit city → an area of it
    named: list[Area] = field(default_factory=list)

    def add(self, area: Area) -> None:
        self.areas.append(area)
        self.versions[area.region_code] = area.version
        if area.code:
            self.by_code.setdefault(area.code, []).append(area)
            if len(area.code) >= 4:
                self.cities.setdefault(area.code[:4], area)
        else:
            self.named.append(area)


@dataclass(frozen=True)
class RuleRow:
    condition: str
    category: str
    quarantine_days: int
    tests: int
    test_days: int
    single_tube: bool
    transfer: bool
    status_reason: bool
    pool_size: int = 10


@dataclass(frozen=True)
class RuleTable:
    id: int
    version: int
    lookback_days: int
    rows: dict[str, RuleRow]


@dataclass
class Decision:
    condition: str
    category: str
    rule: RuleRow
    findings: list[dict[str, Any]]
    list_versions: dict[str, int]
    measures: dict[str, Any]
    measures_end: dt.date | None
    unmatched: list[tuple[int, str]]  # (stop index, place) for the review queue


def _area_for(stop: Stop, lists: ListsInForce) -> tuple[Area | None, str]:
    """The most severe listed area containing the stop, and how it was found."""
    best: Area | None = None
    if stop.code:
        for n in range(len(stop.code), 1, -1):
            for area in lists.by_code.get(stop.code[:n], ()):
                if best is None or _rank(area.level) < _rank(best.level):
                    best = area
        if best is not None:
            return best, "code"
    text = squash(stop.place)
    for area in lists.named:
        if (
            area.specific
            and area.specific in text
            and (not stop.code or not area.code or stop.code.startswith(area.code[:4]))
        ):
            if best is None or _rank(area.level) < _rank(best.level):
                best = area
    return best, "name" if best is not None else ""


_LEVEL_CONDITION = {"high": "high", "medium": "medium", "low": "affected_city"}


def _rank(level: str) -> int:
    return ["high", "medium", "low"].index(level) if level in ("high", "medium", "low") else 3


def classify(
    *,
    stops: list[Stop],
    arrival_on: dt.date,
    lists: ListsInForce,
    rules: RuleTable,
    transit_only: bool = False,
) -> Decision:
    findings: list[dict[str, Any]] = []
    unmatched: list[tuple[int, str]] = []
    conditions: list[str] = []
    window_start = arrival_on - dt.timedelta(days=rules.lookback_days)
    used: dict[str, int] = {}
    for i, stop in enumerate(stops):
        if stop.end < window_start:
            continue
        code = stop.code or code_for_name(stop.place)
        resolved = Stop(stop.place, code, stop.start, stop.end)
        area, how = _area_for(resolved, lists)
        if area is not None:
            used[area.region_code] = area.version
            conditions.append(_LEVEL_CONDITION[area.level])
            findings.append(
                {
                    "stop": i,
                    "place": stop.place,
                    "how": how,
                    "level": area.level,
                    "area": area.label,
                    "list": area.list_id,
                    "region": area.region_name,
                    "version": area.version,
                }
            )
        elif code and code[:4] in lists.cities:
            city = lists.cities[code[:4]]
            used[city.region_code] = city.version
            conditions.append(Condition.AFFECTED_CITY)
            findings.append(
                {
                    "stop": i,
                    "place": stop.place,
                    "how": "city",
                    "level": "low",
                    "area": "",
                    "list": city.list_id,
                    "region": city.region_name,
                    "version": city.version,
                }
            )
        elif not code:
            unmatched.append((i, stop.place))
            conditions.append(Condition.UNKNOWN)
            findings.append({"stop": i, "place": stop.place, "how": "unmatched"})
    if not stops or _gap(stops, window_start, arrival_on):
        conditions.append(Condition.UNKNOWN)
        findings.append({"stop": None, "place": "", "how": "gap", "days": rules.lookback_days})
    condition = min(conditions, key=CONDITION_ORDER.index) if conditions else Condition.NONE
    if transit_only and condition not in (Condition.HIGH, Condition.MEDIUM):
        condition = Condition.TRANSIT
    rule = rules.rows[str(condition)]
    measures, end = _measures(rule, arrival_on)
    return Decision(
        condition=str(condition),
        category=rule.category,
        rule=rule,
        findings=findings,
        list_versions=used,
        measures=measures,
        measures_end=end,
        unmatched=unmatched,
    )


def _gap(stops: list[Stop], start: dt.date, end: dt.date) -> bool:
    """Does the itinerary leave a day of [start, end) uncovered (the arrival day
    itself is the journey)?"""
    day = start
    for stop in sorted(stops, key=lambda s: s.start):
        if stop.start > day:
            return True
        day = max(day, stop.end + dt.timedelta(days=1))
        if day >= end:
            return False
    return day < end


def test_days(rule: RuleRow, arrival_on: dt.date) -> list[dt.date]:
    """The days of the test series: the arrival test, then spread over the period."""
    if rule.tests <= 1:
        return [arrival_on]
    span = max(rule.test_days - 1, rule.tests - 1)
    return [
        arrival_on + dt.timedelta(days=round(i * span / (rule.tests - 1)))
        for i in range(rule.tests)
    ]


def _measures(rule: RuleRow, arrival_on: dt.date) -> tuple[dict[str, Any], dt.date | None]:
    tests = test_days(rule, arrival_on)
    end: dt.date | None = None
    if rule.quarantine_days:
        end = arrival_on + dt.timedelta(days=rule.quarantine_days)
    elif rule.tests > 1:
        end = tests[-1]
    return (
        {
            "quarantine_days": rule.quarantine_days,
            "tests": [d.isoformat() for d in tests],
            "single_tube": rule.single_tube,
            "transfer": rule.transfer,
        },
        end,
    )
