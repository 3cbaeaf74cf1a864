"""What a result sets in motion: pooled-positive reasons, retest and resample
tasks, building flags, suspected cases, negative-test facts, and the escalation
of people not retested in time."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import NotFound, ValidationFailed
from fangkong.core.events import publish
from fangkong.core.models import Person
from fangkong.core.types import Actor
from fangkong.screening.models import (
    BuildingFlag,
    EscalationStep,
    Round,
    Task,
    Team,
    Tube,
    TubeMember,
)
from fangkong.screening.selectors import access_round_by_id
from fangkong.screening.sql import db_time, select_in
from fangkong.status.selectors.shared import clearable_people

SOURCE = "screening.tube"


class TeamFinder:
    """The team covering an address: the active team whose area is the deepest
    ancestor of the person's home; door-to-door teams for the limited-mobility."""

    def __init__(self) -> None:
        self.teams = list(
            Team.objects.filter(active=True).values_list("pk", "scope_path", "door_to_door")
        )

    def find(self, scope_path: str, *, door_to_door: bool) -> int | None:
        best: tuple[int, int] | None = None
        for pk, path, d2d in self.teams:
            if not scope_path.startswith(path):
                continue
            score = len(path) * 2 + (1 if d2d == door_to_door else 0)
            if door_to_door and not d2d:
                score -= 1000
            if best is None or score > best[0]:
                best = (score, pk)
        if best is None and door_to_door:
            return self.find(scope_path, door_to_door=False)
        return best[1] if best else None


def _first_deadline_hours() -> int:
    step = EscalationStep.objects.order_by("order").first()
    return step.after_hours if step else 12


def _members(
    tube_ids: list[int],
) -> dict[int, list[tuple[int, str, int | None, bool, dt.datetime]]]:
    out: dict[int, list[tuple[int, str, int | None, bool, dt.datetime]]] = defaultdict(list)
    for k in range(0, len(tube_ids), 2000):
        rows = TubeMember.objects.filter(tube_id__in=tube_ids[k : k + 2000]).values_list(
            "tube_id",
            "person_id",
            "person__scope_path",
            "person__home_id",
            "person__limited_mobility",
            "sampled_at",
        )
        for tid, pid, path, home, lm, at in rows:
            out[tid].append((pid, path, home, lm, at))
    return out


def results_apply_consequences(*, actor: Actor, tubes: Sequence[Any]) -> dict[str, int]:
    """Run the consequences of newly applied results (inside the caller's transaction).

    ``tubes``: ``Tube`` instances; for negative results anything with ``pk`` and
    ``result`` will do (the import path passes light rows for those)."""
    by_result: dict[str, list[Any]] = defaultdict(list)
    for t in tubes:
        by_result[t.result].append(t)
    counts = {"reasons": 0, "tasks": 0, "cases": 0, "ended": 0}
    if by_result.get(Tube.Result.NEGATIVE):
        counts["ended"] += _negatives(by_result[Tube.Result.NEGATIVE])
    if by_result.get(Tube.Result.POSITIVE):
        r = positives_handle(actor=actor, tubes=by_result[Tube.Result.POSITIVE])
        for k, v in r.items():
            counts[k] = counts.get(k, 0) + v
    if by_result.get(Tube.Result.INVALID):
        counts["tasks"] += _resample(by_result[Tube.Result.INVALID])
    return counts


FEW_CLEARABLE = 5000  # up to this many people with clearable reasons, fetch only theirs


def _negatives(tubes: Sequence[Any]) -> int:
    """Negative-test facts, one entry per sampling minute (bulk-safe for a whole
    round), all in one status call; each entry carries the latest sampling time
    of its minute (a tube's sampling time: its earliest member's). Only the members
    who have a reason that negative tests can end, and their tubes, are read
    (usually few)."""
    ids = [t.pk for t in tubes]
    if not ids:
        return 0
    # Who could these results clear? Tests sampled by now: a superset of those taken
    # by the tubes' sampling times, and usually nobody (then nothing more is read).
    wanted = clearable_people(sampled_by=timezone.now(), limit=FEW_CLEARABLE)
    if wanted is not None and not wanted:
        return 0  # nobody these results could clear
    members_sql = "SELECT tube_id, person_id FROM screening_tubemember WHERE "
    params: list[int] = []
    if wanted is not None:
        members_sql += f"person_id IN ({', '.join(['%s'] * len(wanted))}) AND "
        params = sorted(wanted)
    people: dict[int, list[int]] = defaultdict(list)
    for tid, pid in select_in(members_sql + "tube_id {in}", ids, params):
        people[tid].append(pid)
    if wanted is not None:
        ids = [tid for tid in ids if tid in people]
    first = {
        tid: db_time(when)
        for tid, when in select_in(
            "SELECT tube_id, MIN(sampled_at) FROM screening_tubemember WHERE tube_id {in} "
            "GROUP BY tube_id",
            ids,
        )
    }
    groups: dict[dt.datetime, tuple[list[int], list[int], list[dt.datetime]]] = {}
    for tid in ids:
        at = first.get(tid)
        if at is None:
            continue
        pids, tids, times = groups.setdefault(at.replace(second=0, microsecond=0), ([], [], []))
        pids.extend(people.get(tid, ()))
        tids.append(tid)
        times.append(at)
    entries: list[tuple[list[int], str, int | None]] = [
        (pids, max(times).isoformat(), tids[0] if len(tids) == 1 else None)
        for pids, tids, times in groups.values()
        if pids
    ]
    if entries:
        # status ends the reasons these tests clear (docs/events.md)
        publish("screening.negative_results", entries=[list(e) for e in entries])
    return sum(len(pids) for pids, _at, _tube in entries)


def positives_handle(*, actor: Actor, tubes: list[Tube]) -> dict[str, int]:
    """Positive pools: every member a pooled-positive reason at once, a high-priority
    single-tube retest task each (door-to-door for the limited-mobility), their
    buildings flagged. Positive single tubes: a suspected case each."""
    members = _members([t.pk for t in tubes])
    finder = TeamFinder()
    due = timezone.now() + dt.timedelta(hours=_first_deadline_hours())
    tasks: list[Task] = []
    flags: list[BuildingFlag] = []
    reasons = cases = 0
    singles: list[tuple[Tube, int, dt.datetime]] = []
    grants: list[tuple[int, list[int]]] = []
    open_retests = set(
        Task.objects.filter(
            kind=Task.Kind.RETEST,
            state=Task.State.OPEN,
            source_tube_id__in=[t.pk for t in tubes],
        ).values_list("person_id", "source_tube_id")
    )
    for t in tubes:
        rows = members.get(t.pk, [])
        if len(rows) == 1 and (t.capacity == 1 or t.member_count == 1):
            singles.append((t, rows[0][0], rows[0][4]))
            continue
        grants.append((t.pk, [r[0] for r in rows]))
        homes = set()
        for pid, path, home, limited, _at in rows:
            if (pid, t.pk) in open_retests:
                continue
            tasks.append(
                Task(
                    kind=Task.Kind.RETEST,
                    round_id=t.round_id,
                    person_id=pid,
                    source_tube_id=t.pk,
                    team_id=finder.find(path, door_to_door=limited),
                    priority=Task.Priority.HIGH,
                    due_at=due,
                    scope_path=path,
                )
            )
            if home:
                homes.add((home, path[: len(path)]))
        flags.extend(
            BuildingFlag(round_id=t.round_id, building_id=h, tube_id=t.pk, scope_path=p)
            for h, p in homes
        )
    # Every pool's members their pooled-positive reason (status, docs/events.md).
    grants = [(tube_id, ids) for tube_id, ids in grants if ids]
    if grants:
        publish("screening.pools_positive", grants=grants, actor=actor)
        reasons += sum(len(ids) for _tube, ids in grants)
    Task.objects.bulk_create(tasks, batch_size=1000)
    BuildingFlag.objects.bulk_create(flags, batch_size=1000, ignore_conflicts=True)
    for t, pid, at in singles:
        cases += _suspected_case(actor, t, pid, at)
    if tubes:
        audit_record(
            actor=actor,
            action="screening.positive.followup",
            object_type="screening.tube",
            object_id=tubes[0].pk,
            scope_path=tubes[0].scope_path,
            changes={
                "tubes": [None, [t.pk for t in tubes[:1000]]],
                "retest_tasks": [None, len(tasks)],
                "buildings": [None, len(flags)],
            },
        )
    return {"reasons": reasons, "tasks": len(tasks), "cases": cases}


def _suspected_case(actor: Actor, tube: Tube, person_id: int, sampled_at: dt.datetime) -> int:
    """A positive single tube: investigation opens a suspected case (once)."""
    rnd = Round.objects.get(pk=tube.round_id)
    publish(
        "screening.single_tube_positive",
        tube_id=tube.pk,
        barcode=tube.barcode,
        person_id=person_id,
        disease_code=rnd.disease_code,
        sampled_at=sampled_at.isoformat(),
        lab_name=tube.lab.name if tube.lab_id and tube.lab else "",
        actor=actor,
    )
    return 1


def _resample(tubes: list[Tube]) -> int:
    members = _members([t.pk for t in tubes])
    finder = TeamFinder()
    tasks = [
        Task(
            kind=Task.Kind.RESAMPLE,
            round_id=t.round_id,
            person_id=pid,
            source_tube_id=t.pk,
            team_id=finder.find(path, door_to_door=limited),
            priority=Task.Priority.NORMAL,
            scope_path=path,
        )
        for t in tubes
        for pid, path, _home, limited, _at in members.get(t.pk, [])
    ]
    Task.objects.bulk_create(tasks, batch_size=1000, ignore_conflicts=True)
    return len(tasks)


def door_to_door_tasks_create(*, actor: Actor, round_id: int, person_ids: list[int]) -> int:
    """Door-to-door sampling tasks for limited-mobility people not yet sampled."""

    permissions.require(actor, "screening.manage")
    rnd = access_round_by_id(actor, round_id, capability="screening.manage")
    prefix = permissions.scope_path(actor) or ""
    people = list(
        Person.objects.active()
        .under(prefix)
        .filter(pk__in=person_ids)
        .values_list("pk", "scope_path", "limited_mobility")
    )
    if len(people) != len(set(person_ids)):
        raise NotFound(fields={"person_ids": _("No such person.")})
    finder = TeamFinder()
    existing = set(
        Task.objects.filter(
            round=rnd, kind=Task.Kind.DOOR_TO_DOOR, state=Task.State.OPEN, person_id__in=person_ids
        ).values_list("person_id", flat=True)
    )
    tasks = [
        Task(
            kind=Task.Kind.DOOR_TO_DOOR,
            round=rnd,
            person_id=pid,
            team_id=finder.find(path, door_to_door=True),
            scope_path=path,
        )
        for pid, path, _lm in people
        if pid not in existing
    ]
    with transaction.atomic():
        Task.objects.bulk_create(tasks)
        if tasks:
            audit_record(
                actor=actor,
                action="screening.task.door_to_door",
                obj=rnd,
                scope_path=prefix,
                changes={"tasks": [None, len(tasks)]},
            )
    return len(tasks)


def task_set_state(*, actor: Actor, task_id: int, state: str, reason: str = "") -> Task:
    permissions.require(actor, "screening.retest")
    if state not in (Task.State.DONE, Task.State.CANCELLED):
        raise ValidationFailed(fields={"state": _("A task is marked done or cancelled.")})
    with transaction.atomic():
        task = Task.objects.select_for_update().filter(pk=task_id).first()
        if task is None or not permissions.in_scope(actor, task.scope_path):
            raise NotFound()
        before = task.state
        task.state = state
        task.done_at = timezone.now()
        task.save(update_fields=["state", "done_at", "updated_at"])
        audit_record(
            actor=actor,
            action="screening.task.state",
            obj=task,
            scope_path=task.scope_path,
            person_id=task.person_id,
            changes={"state": [before, state]},
            reason=reason,
        )
    return task


def retests_escalate(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Periodic: retest tasks still open past each escalation step's hours move up
    one step: SMS to the person, then the grid worker's list, then the CDC's."""
    from fangkong.notify.services import notify_system

    now = now or timezone.now()
    out: dict[str, int] = {}
    with transaction.atomic():
        for step in EscalationStep.objects.order_by("order"):
            cutoff = now - dt.timedelta(hours=step.after_hours)
            tasks = list(
                Task.objects.select_related("person")
                .filter(
                    kind=Task.Kind.RETEST,
                    state=Task.State.OPEN,
                    escalation_level__lt=step.order,
                    created_at__lte=cutoff,
                )
                .order_by("pk")[:20000]
            )
            if not tasks:
                continue
            if step.action == EscalationStep.Action.SMS:
                for task in tasks:
                    notify_system(
                        person=task.person,
                        purpose="screening",
                        template_code="registry_notice",
                        context={
                            "text": _(
                                "your single-tube retest is overdue; please go to a sampling "
                                "site today or wait for the door-to-door team."
                            )
                        },
                        dedup_key=f"retest-{task.pk}",
                    )
            Task.objects.filter(pk__in=[t.pk for t in tasks]).update(
                escalation_level=step.order, escalated_at=now, updated_at=now
            )
            audit_record(
                actor=None,
                action="screening.task.escalate",
                obj=step,
                changes={"action": [None, step.action], "tasks": [None, len(tasks)]},
            )
            out[step.action] = len(tasks)
    return out
