"""What screening promises to other apps (the only screening module they import).

Unscoped by design: the callers scope the people they ask about.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypedDict

from django.db.models import Count, Q, QuerySet

from fangkong.core.models import Jurisdiction, path_upper_bound
from fangkong.screening import selectors as _selectors
from fangkong.screening.models import Round, Task, Tube, TubeMember
from fangkong.screening.selectors import coverage as _coverage
from fangkong.screening.services.arrivals import ArrivalTube, arrival_tube_refusal

__all__ = ["ArrivalTube", "arrival_tube_refusal"]  # re-exported: entry checks a tube with it


class LatestResult(TypedDict):
    result: str  # the tube's result code ("negative", "positive" ...)
    sampled_at: dt.datetime


def latest_result_by_person(person_ids: Iterable[int]) -> dict[int, LatestResult]:
    """Each person's latest reported screening result (people never sampled, or
    whose tubes have no result yet, are absent)."""
    ids = sorted(set(person_ids))
    out: dict[int, LatestResult] = {}
    for k in range(0, len(ids), 5000):
        rows = (
            TubeMember.objects.filter(person_id__in=ids[k : k + 5000])
            .exclude(tube__result="")
            .values_list("person_id", "sampled_at", "tube__result")
            .order_by("person_id", "sampled_at")
        )
        for pid, at, result in rows:
            out[pid] = {"result": result, "sampled_at": at}  # later rows win
    return out


@dataclass(frozen=True)
class Sample:
    """One sample of a person (any round: mass screening, arrival tests, retests)."""

    barcode: str
    sampled_at: dt.datetime
    result: str  # the tube's result code, "" until the lab reports
    result_label: str  # in the active language, "" until the lab reports
    reported_at: dt.datetime | None


def samples_of(person_ids: Iterable[int], *, since: dt.datetime) -> dict[int, list[Sample]]:
    """Each person's samples taken since ``since``, oldest first (people without one
    are absent): entry's test series counts a test done by any sample on or after
    its day, and shows the results."""
    ids = sorted(set(person_ids))
    out: dict[int, list[Sample]] = {}
    labels = dict(Tube.Result.choices)
    for k in range(0, len(ids), 5000):
        rows = (
            TubeMember.objects.filter(person_id__in=ids[k : k + 5000], sampled_at__gte=since)
            .values_list(
                "person_id", "sampled_at", "tube__barcode", "tube__result", "tube__reported_at"
            )
            .order_by("person_id", "sampled_at", "tube_id")
        )
        for pid, at, barcode, result, reported_at in rows:
            out.setdefault(pid, []).append(
                Sample(barcode, at, result, str(labels.get(result, "")), reported_at)
            )
    return out


def public_sites(
    *, now: dt.datetime | None = None, district_id: int | None = None
) -> list[dict[str, Any]]:
    """Active sampling sites with their opening hours and whether open now
    (places only: the portal's list and map)."""
    return list(_selectors.public_sites(now=now, district_id=district_id))


def sites_open_count(*, now: dt.datetime | None = None) -> int:
    """How many sampling sites are open now."""
    return int(_selectors.sites_open_count(now=now))


def latest_results_for_person(person_id: int, limit: int = 5) -> list[dict[str, Any]]:
    """A person's latest results (for the resident's own page)."""
    return list(_selectors.latest_results_for_person(person_id, limit))


# --- For the command dashboard (headquarters): places and counts, no people ------

DISTRICT_PATH = 12  # province, city, district: three segments of the tree's path


def _open_retests(prefix: str) -> QuerySet[Task]:
    qs = Task.objects.filter(state=Task.State.OPEN, kind=Task.Kind.RETEST)
    if prefix:
        qs = qs.filter(scope_path__gte=prefix, scope_path__lt=path_upper_bound(prefix))
    return qs


@dataclass(frozen=True)
class RetestFigures:
    """Single-tube retests of an area: open, past their due time, and the positive
    pools whose members still wait for one."""

    open: int
    overdue: int
    pools_waiting: int


def retest_figures(prefix: str, now: dt.datetime) -> RetestFigures:
    row = _open_retests(prefix).aggregate(
        n=Count("id"),
        late=Count("id", filter=Q(due_at__lt=now)),
        pools=Count("source_tube", distinct=True),
    )
    return RetestFigures(int(row["n"]), int(row["late"]), int(row["pools"]))


def overdue_retests_by_district(prefix: str, now: dt.datetime) -> dict[str, int]:
    """``{district path: n}`` of retests past their due time under ``prefix``."""
    out: dict[str, int] = {}
    rows = (
        _open_retests(prefix)
        .filter(due_at__lt=now)
        .order_by()
        .values_list("scope_path")
        .annotate(n=Count("id"))
    )
    for path, n in rows:
        key = path[:DISTRICT_PATH]
        out[key] = out.get(key, 0) + int(n)
    return out


@dataclass(frozen=True)
class RetestRow:
    """One overdue retest as a place and a time: the round, the building, how late."""

    task_id: int
    round_name: str
    place: str
    district_path: str
    due_at: dt.datetime | None
    team: str


def overdue_retests(prefix: str, now: dt.datetime, *, limit: int = 500) -> list[RetestRow]:
    rows = list(
        _open_retests(prefix)
        .filter(due_at__lt=now)
        .select_related("round", "team")
        .order_by("due_at", "pk")[:limit]
    )
    names = {
        j.path: j.name
        for j in Jurisdiction.objects.filter(path__in={t.scope_path for t in rows}).only(
            "path", "name_zh", "name_en"
        )
    }
    return [
        RetestRow(
            task_id=t.pk,
            round_name=t.round.name,
            place=names.get(t.scope_path, ""),
            district_path=t.scope_path[:DISTRICT_PATH],
            due_at=t.due_at,
            team=t.team.name if t.team is not None else "",
        )
        for t in rows
    ]


@dataclass(frozen=True)
class DistrictCoverage:
    """Coverage of one district in a round: people expected, sampled, percentage."""

    id: int
    name: str
    expected: int
    sampled: int
    coverage: float


@dataclass(frozen=True)
class RoundBoard:
    """An open round seen from an area: coverage by district and its SLA board
    (tubes past each turnaround rule, labs flagged)."""

    round_id: int
    round_name: str
    districts: list[DistrictCoverage]
    expected: int
    sampled: int
    awaiting_receipt: int
    awaiting_result: int
    end_to_end: int
    boxes_overdue: int
    labs_flagged: int
    rules: list[str]

    @property
    def coverage(self) -> float:
        if self.expected == 0:
            return 100.0 if self.sampled else 0.0
        return round(min(100.0, 100.0 * self.sampled / self.expected), 1)

    @property
    def overdue(self) -> int:
        return self.awaiting_receipt + self.awaiting_result + self.end_to_end


def open_round_boards(prefix: str, now: dt.datetime, *, limit: int = 3) -> list[RoundBoard]:
    """The latest open rounds touching ``prefix`` (the caller scoped it), each with its
    coverage by district and SLA figures under ``prefix``."""
    boards: list[RoundBoard] = []
    # Arrival-test rounds have no coverage to chase (their target is who was sampled).
    rounds = (
        Round.objects.filter(state=Round.State.OPEN)
        .exclude(target=Round.Target.ARRIVALS)
        .prefetch_related("areas")
    )
    for rnd in rounds.order_by("-starts_at", "-id")[:50]:
        roots = _coverage.roots_within(rnd, [prefix] if prefix else [])
        if not roots:
            continue
        rows = _coverage.coverage_of_roots(rnd, roots, level="district")
        sla = _coverage.sla_board_under(rnd, prefix, now=now)
        labs = sla["labs"]
        unassigned = sla.get("unassigned") or {}

        def total(key: str, labs: list[dict[str, Any]] = labs, extra: Any = unassigned) -> int:
            return sum(int(lab[key]) for lab in labs) + int(extra.get(key, 0))

        boards.append(
            RoundBoard(
                round_id=rnd.pk,
                round_name=rnd.name,
                districts=[
                    DistrictCoverage(r.node_id, r.name, r.expected, r.sampled, r.coverage)
                    for r in rows
                ],
                expected=sum(r.expected for r in rows),
                sampled=sum(r.sampled for r in rows),
                awaiting_receipt=total("awaiting_receipt"),
                awaiting_result=total("awaiting_result"),
                end_to_end=total("end_to_end"),
                boxes_overdue=int(sla["boxes_overdue"]),
                labs_flagged=sum(1 for lab in labs if lab["flagged"]),
                rules=[str(r["text"]) for r in sla["rules"]],
            )
        )
        if len(boards) >= limit:
            break
    return boards


def overdue_retest(prefix: str, task_id: int, now: dt.datetime) -> RetestRow | None:
    """One retest under ``prefix`` still open past its due time (a failure the command
    centre may hold someone accountable for), or None."""
    t = (
        _open_retests(prefix)
        .filter(pk=task_id, due_at__lt=now)
        .select_related("round", "team")
        .first()
    )
    if t is None:
        return None
    place = Jurisdiction.objects.filter(path=t.scope_path).first()
    return RetestRow(
        task_id=t.pk,
        round_name=t.round.name,
        place=place.name if place is not None else "",
        district_path=t.scope_path[:DISTRICT_PATH],
        due_at=t.due_at,
        team=t.team.name if t.team is not None else "",
    )
