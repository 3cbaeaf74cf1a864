"""Coverage of a round (应检尽检), the untested list, the SLA board and lab flags.

Coverage is set-based: one grouped query per measure over range scans on the
tree path (``Person.scope_path`` for the target, ``TubeMember.person_scope_path``
for the sampled), grouped by the path prefix of the requested level. People's
paths are their home building's path, so every level's nodes are prefixes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.crypto import decrypt
from fangkong.core.errors import NotFound, ValidationFailed
from fangkong.core.models import Jurisdiction, Person, path_upper_bound
from fangkong.screening.models import (
    Box,
    Exclusion,
    Lab,
    ResultReport,
    Round,
    SlaRule,
    Tube,
    TubeMember,
)
from fangkong.screening.sql import select_in

LEVELS = ("district", "subdistrict", "community", "grid")


@dataclass
class CoverageRow:
    node_id: int
    path: str
    name: str
    level: str
    target: int = 0
    excluded: int = 0
    exclusions: dict[str, int] = field(default_factory=dict)
    sampled: int = 0
    with_result: int = 0
    negative: int = 0
    positive: int = 0

    @property
    def expected(self) -> int:
        return max(self.target - self.excluded, 0)

    @property
    def coverage(self) -> float:
        """Sampled people as a percentage of the target less the excluded."""
        if self.expected == 0:
            return 100.0 if self.sampled else 0.0
        return round(min(100.0, 100.0 * self.sampled / self.expected), 1)

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "expected": self.expected, "coverage": self.coverage}


def _range(column: str, prefix: str) -> Q:
    return Q(**{f"{column}__gte": prefix, f"{column}__lt": path_upper_bound(prefix)})


def round_roots(user: Any, rnd: Round, under: Jurisdiction | None = None) -> list[str]:
    """The paths to count under: each round area cut down to the user's subtree
    (and to ``under``)."""
    prefix = permissions.scope_path(user)
    if prefix is None:
        return []
    return roots_within(rnd, [p for p in (prefix, under.path if under else None) if p])


def roots_within(rnd: Round, limits: list[str]) -> list[str]:
    """Each round area cut down to every path of ``limits`` (none: the areas)."""
    roots = []
    for area in rnd.areas.all():
        root: str | None = area.path
        for lim in limits:
            if root is None:
                break
            if lim.startswith(root):
                root = lim
            elif not root.startswith(lim):
                root = None
        if root is not None:
            roots.append(root)
    roots = sorted(set(roots))
    return [r for r in roots if not any(r != o and r.startswith(o) for o in roots)]


def _target(rnd: Round, *, include_merged: bool = False) -> QuerySet[Person]:
    qs = Person.objects.all() if include_merged else Person.objects.active()
    if rnd.target == Round.Target.KEY_GROUPS:
        members = Person.key_groups.through.objects.filter(keygroup__in=rnd.key_groups.all())
        qs = qs.filter(pk__in=members.values("person_id"))
    elif rnd.target == Round.Target.ARRIVALS:
        # The arrivals sampled at checkpoints are the target: nobody is untested.
        first = TubeMember.objects.filter(round=rnd, repeat=False)
        qs = qs.filter(pk__in=first.values("person_id"))
    return qs


def coverage(
    user: Any, rnd: Round, *, level: str = "grid", under: Jurisdiction | None = None
) -> list[CoverageRow]:
    permissions.require(user, "screening.view")
    if level not in LEVELS:
        raise ValidationFailed(fields={"level": _level_msg()})
    return coverage_of_roots(rnd, round_roots(user, rnd, under), level=level)


def coverage_of_roots(rnd: Round, roots: list[str], *, level: str) -> list[CoverageRow]:
    """Coverage rows at ``level`` under the given roots (no permission check: the
    caller scoped the roots)."""
    if not roots:
        return []
    node_q = Q()
    for r in roots:
        node_q |= _range("path", r)
    nodes = {
        n.path: n
        for n in Jurisdiction.objects.filter(node_q, level=level).only(
            "pk", "path", "name_zh", "name_en", "level"
        )
    }
    # Ancestors of a root at the level (counting one community inside a grid view...).
    for r in roots:
        for n in Jurisdiction.objects.filter(
            level=level, path__in=[r[:i] for i in range(4, len(r) + 1, 4)]
        ):
            nodes[n.path] = n
    if not nodes:
        return []
    rows = {p: CoverageRow(n.pk, p, n.name, n.level) for p, n in nodes.items()}
    lengths = sorted({len(p) for p in nodes})
    key_groups = list(rnd.key_groups.all()) if rnd.target == Round.Target.KEY_GROUPS else None
    for length in lengths:
        for root in roots:
            before = sum(r.target for r in rows.values())
            _count_target(rows, rnd, root, length)
            expected = sum(r.target for r in rows.values()) - before
            _count_sampled(rows, rnd, root, length, key_groups, expected=expected)
            _count_excluded(rows, rnd, root, length)
    return sorted(rows.values(), key=lambda r: r.path)


def _level_msg() -> str:
    from django.utils.translation import gettext as _

    return _("The level is district, subdistrict, community or grid.")


def _count_target(rows: dict[str, CoverageRow], rnd: Round, root: str, length: int) -> None:
    """Everyone in the range, less the (few) merged-away duplicates: one range
    scan on the path index (a "not merged" condition would tempt SQLite into
    the merged_into index, i.e. the whole table)."""
    everyone = _target(rnd, include_merged=True).filter(_range("scope_path", root))
    for qs, sign in (
        (everyone, 1),
        (everyone.filter(merged_into__isnull=False), -1),
    ):
        grouped = (
            qs.annotate(k=Substr("scope_path", 1, length))
            .values("k")
            # COUNT(*), not of the key: PostgreSQL then counts from the path-only
            # index (core_person_scope_count), a tenth of the (path, id) one.
            .annotate(n=Count("*"))
            .order_by()
        )
        for r in grouped:
            row = rows.get(r["k"])
            if row is not None:
                row.target += sign * r["n"]


# Up to this many people in the area, the first links are counted per tube (from
# the index alone) and the tubes' results read by id (a few thousand lookups); above
# it, PostgreSQL answers one join with a hash of all tubes, faster for a city. SQLite
# has no hash join (one tube lookup per link: 20 s for 5,000,000), so it always
# takes two steps.
TWO_STEP_LIMIT = 200_000
# Above this many tubes, their results are read for the whole round, not by id.
TUBES_BY_ID = 50_000
# By id: the tubes that are not negative (index screening_tube_not_negative, a few
# once the lab has reported); the others are negative.
SMALL_AREA_RESULTS = "SELECT id, result FROM screening_tube WHERE id {in} AND result <> 'negative'"


def _count_first_links_by_tube(
    rows: dict[str, CoverageRow], rnd: Round, first: QuerySet[TubeMember], length: int
) -> None:
    grouped = (
        first.annotate(k=Substr("person_scope_path", 1, length))
        .values_list("k", "tube_id")
        # COUNT(*): the key is not in the index; counting it would read every row.
        .annotate(n=Count("*"))
        .order_by()
    )
    # Up to a million (area, tube) groups for a city: read on the cursor, without
    # the ORM's per-row converters (plain text and integers here).
    sql, params = grouped.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        groups = cursor.fetchall()
    tube_ids = {g[1] for g in groups}
    if len(tube_ids) > TUBES_BY_ID:
        results = dict(
            Tube.objects.filter(round=rnd)
            .exclude(result="")
            .values_list("pk", "result")
            .order_by()
            .iterator(chunk_size=20_000)
        )
        unlisted = ""
    else:
        # The tubes that are not negative, from their partial index; the others are.
        results = dict(select_in(SMALL_AREA_RESULTS, sorted(tube_ids)))
        unlisted = Tube.Result.NEGATIVE
    neg, pos = Tube.Result.NEGATIVE, Tube.Result.POSITIVE
    for k, tube_id, n in groups:
        row = rows.get(k)
        if row is None:
            continue
        result = results.get(tube_id, unlisted)
        row.sampled += n
        if result == neg:
            row.negative += n
            row.with_result += n
        elif result == pos:
            row.positive += n
            row.with_result += n


def _count_sampled(
    rows: dict[str, CoverageRow],
    rnd: Round,
    root: str,
    length: int,
    key_groups: list[Any] | None,
    *,
    expected: int,
) -> None:
    """Sampled people and their results per area without COUNT(DISTINCT): each
    person's first link of the round counts (``repeat`` is false); people sampled
    more than once (few: retests, resamples) are then corrected exactly from all
    their links. ``expected``: the people of the area (how to count)."""
    qs = TubeMember.objects.filter(_range("person_scope_path", root), round=rnd)
    if key_groups is not None:
        members = Person.key_groups.through.objects.filter(keygroup__in=key_groups)
        qs = qs.filter(person_id__in=members.values("person_id"))
    neg, pos = Tube.Result.NEGATIVE, Tube.Result.POSITIVE
    first = qs.filter(repeat=False)
    if expected <= TWO_STEP_LIMIT or connection.vendor != "postgresql":
        _count_first_links_by_tube(rows, rnd, first, length)
    else:
        agg = (
            first.annotate(k=Substr("person_scope_path", 1, length))
            .values("k")
            .annotate(
                sampled=Count("pk"),
                with_result=Count("pk", filter=Q(tube__result__in=[neg, pos])),
                negative=Count("pk", filter=Q(tube__result=neg)),
                positive=Count("pk", filter=Q(tube__result=pos)),
            )
            .order_by()
        )
        for r in agg:
            row = rows.get(r["k"])
            if row is not None:
                row.sampled += r["sampled"]
                row.with_result += r["with_result"]
                row.negative += r["negative"]
                row.positive += r["positive"]
    # The people sampled again (few; the partial index), then all their links.
    again = sorted(set(qs.filter(repeat=True).values_list("person_id", flat=True)))
    links = select_in(
        "SELECT m.person_id, m.person_scope_path, m.repeat, t.result"
        " FROM screening_tubemember m JOIN screening_tube t ON t.id = m.tube_id"
        " WHERE m.round_id = %s AND m.person_id {in}",
        again,
        [rnd.pk],
    )
    seen: dict[int, dict[str, Any]] = {}
    upper = path_upper_bound(root)
    for pid, path, repeat, result in links:
        if not (root <= path < upper):
            continue
        p = seen.setdefault(pid, {"path": path, "first": set(), "any": set()})
        p["any"].add(result)
        if not repeat:
            p["first"].add(result)
    for p in seen.values():
        row = rows.get(p["path"][:length])
        if row is None:
            continue
        for measure, wanted in (
            ("negative", {neg}),
            ("positive", {pos}),
            ("with_result", {neg, pos}),
        ):
            setattr(
                row,
                measure,
                getattr(row, measure) + bool(p["any"] & wanted) - bool(p["first"] & wanted),
            )
        if not p["first"]:  # every link flagged repeat (a race): count the person once
            row.sampled += 1


def _count_excluded(rows: dict[str, CoverageRow], rnd: Round, root: str, length: int) -> None:
    qs = (
        Exclusion.objects.filter(_range("person_scope_path", root), round=rnd)
        .annotate(k=Substr("person_scope_path", 1, length))
        .values("k", "reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for r in qs:
        row = rows.get(r["k"])
        if row is not None:
            row.excluded += r["n"]
            row.exclusions[r["reason"]] = row.exclusions.get(r["reason"], 0) + r["n"]


def coverage_total(rows: list[CoverageRow]) -> dict[str, Any]:
    total = CoverageRow(0, "", "", "")
    for r in rows:
        total.target += r.target
        total.excluded += r.excluded
        total.sampled += r.sampled
        total.with_result += r.with_result
        total.negative += r.negative
        total.positive += r.positive
    return total.as_dict()


# --- The untested -------------------------------------------------------------------


def untested_for(user: Any, rnd: Round, grid: Jurisdiction) -> QuerySet[Person]:
    """People of the round's target in this node not sampled and not excluded."""
    permissions.require(user, "screening.view")
    if not permissions.in_scope(user, grid.path):
        raise NotFound()
    roots = round_roots(user, rnd, grid)
    if not roots:
        return Person.objects.none()
    q = Q()
    for r in roots:
        q |= _range("scope_path", r)
    sampled = TubeMember.objects.filter(round=rnd, person_id=OuterRef("pk"))
    excluded = Exclusion.objects.filter(round=rnd, person_id=OuterRef("pk"))
    return (
        _target(rnd)
        .filter(q)
        .filter(~Exists(sampled), ~Exists(excluded))
        .select_related("home")
        .order_by("scope_path", "home_unit", "pk")
    )


UNTESTED_ROWS = 2000  # rows the untested page lists (the export holds more)


def untested_rows(
    user: Any, rnd: Round, grid: Jurisdiction, *, limit: int = UNTESTED_ROWS
) -> list[dict[str, Any]]:
    """Rows for the grid worker: phones masked unless the user may unmask
    (then the showing is audited once for the list)."""
    people = list(untested_for(user, rnd, grid)[:limit])
    unmask = permissions.has_capability(user, "person.unmask")
    if unmask and people:
        audit_record(
            actor=user,
            action="screening.untested.unmask",
            obj=rnd,
            scope_path=grid.path,
            changes={"people": [None, len(people)]},
            reason="untested list",
        )
    return [
        {
            "id": p.pk,
            "name": p.name,
            "doc": p.doc_masked,
            "phone": (
                decrypt(p.phone_encrypted) if unmask and p.phone_encrypted else p.phone_masked
            ),
            "building": p.home.name if p.home else "",
            "unit": p.home_unit,
            "limited_mobility": p.limited_mobility,
        }
        for p in people
    ]


# --- SLA board and lab flags ----------------------------------------------------------


def _sla_hours() -> dict[tuple[str, str], float]:
    return {(r.from_stage, r.to_stage): float(r.hours) for r in SlaRule.objects.filter(active=True)}


def _sla_rule(stage: str, hours: float, text: str) -> dict[str, Any]:
    """A turnaround rule for the SLA board: its stage code and the sentence people read."""
    return {"stage": stage, "hours": hours, "text": text % {"h": f"{hours:g}"}}


def sla_board(user: Any, rnd: Round, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Tubes and boxes overdue at each stage, by lab; lab capacity and its use today;
    flags for labs over capacity or reporting tubes they never received."""
    permissions.require(user, "screening.view")
    return sla_board_under(rnd, permissions.scope_path(user) or "", now=now or timezone.now())


def sla_board_under(rnd: Round, prefix: str, *, now: dt.datetime) -> dict[str, Any]:
    """The SLA board of the round's tubes under ``prefix`` (the caller scoped it)."""
    hours = _sla_hours()
    tubes = Tube.objects.filter(round=rnd)
    if prefix:
        tubes = tubes.filter(_range("scope_path", prefix))
    out: dict[str, Any] = {"rules": [], "labs": [], "boxes_overdue": 0}
    labs: dict[int | None, dict[str, Any]] = defaultdict(
        lambda: {"awaiting_receipt": 0, "awaiting_result": 0, "end_to_end": 0}
    )
    h = hours.get(("collected", "received"))
    if h is not None:
        cut = now - dt.timedelta(hours=h)
        for lab_id, n in (
            tubes.filter(state__in=[Tube.State.CLOSED, Tube.State.HANDED_OVER], closed_at__lt=cut)
            .values("box__lab_id")
            .annotate(n=Count("pk"))
            .values_list("box__lab_id", "n")
            .order_by()
        ):
            labs[lab_id]["awaiting_receipt"] += n
        out["boxes_overdue"] = Box.objects.filter(
            round=rnd, handed_over_at__lt=cut, received_at__isnull=True
        ).count()
        text = _("From sampling to the lab: at most %(h)s hours")
        out["rules"].append(_sla_rule("collected→received", h, text))
    h = hours.get(("received", "reported"))
    if h is not None:
        cut = now - dt.timedelta(hours=h)
        for lab_id, n in (
            tubes.filter(result="", received_at__lt=cut)
            .values("lab_id")
            .annotate(n=Count("pk"))
            .values_list("lab_id", "n")
            .order_by()
        ):
            labs[lab_id]["awaiting_result"] += n
        text = _("From the lab's receipt to the result: at most %(h)s hours")
        out["rules"].append(_sla_rule("received→reported", h, text))
    h = hours.get(("collected", "reported"))
    if h is not None:
        cut = now - dt.timedelta(hours=h)
        for lab_id, n in (
            tubes.filter(result="", closed_at__lt=cut)
            .values("lab_id")
            .annotate(n=Count("pk"))
            .values_list("lab_id", "n")
            .order_by()
        ):
            labs[lab_id]["end_to_end"] += n
        text = _("From sampling to the result: at most %(h)s hours")
        out["rules"].append(_sla_rule("collected→reported", h, text))
    day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    lab_objs = {lab.pk: lab for lab in rnd.labs.all()}
    for some_lab in labs:
        if some_lab is not None and some_lab not in lab_objs:
            lab_objs[some_lab] = Lab.objects.get(pk=some_lab)
    for lab in lab_objs.values():
        received = Tube.objects.filter(lab=lab, received_at__gte=day_start).count()
        reported = Tube.objects.filter(lab=lab, reported_at__gte=day_start).count()
        never = ResultReport.objects.filter(
            lab=lab, status=ResultReport.Status.HELD_NOT_RECEIVED
        ).count()
        used = max(received, reported)
        out["labs"].append(
            {
                "id": lab.pk,
                "name": lab.name,
                "capacity": lab.capacity_per_day,
                "received_today": received,
                "reported_today": reported,
                "use_pct": round(100.0 * used / lab.capacity_per_day, 1),
                "over_capacity": used > lab.capacity_per_day,
                "never_received": never,
                "flagged": used > lab.capacity_per_day or never > 0,
                **labs.get(lab.pk, {"awaiting_receipt": 0, "awaiting_result": 0, "end_to_end": 0}),
            }
        )
    unassigned = labs.get(None)
    if unassigned:
        out["unassigned"] = unassigned
    out["labs"].sort(key=lambda r: (not r["flagged"], r["name"]))
    return out
