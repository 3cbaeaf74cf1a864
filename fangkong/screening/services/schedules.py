"""Standing schedules for key groups: next due date per person, reminders, and an
"overdue screening" status reason for people who stay overdue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core.audit import audit_record
from fangkong.core.events import publish
from fangkong.core.models import Person
from fangkong.core.types import Actor
from fangkong.screening.models import Schedule, ScheduleState
from fangkong.screening.sql import db_time, select_in

SOURCE = "screening.schedule"


def _schedules_by_group() -> dict[int, Schedule]:
    return {s.key_group_id: s for s in Schedule.objects.filter(active=True)}


def schedules_record_sampled(*, tube_ids: Iterable[int], actor: Actor = None) -> int:
    """People of scheduled key groups sampled in these tubes: move their next due
    date on and end any overdue reason. Returns states touched."""
    by_group = _schedules_by_group()
    if not by_group:
        return 0
    ids = list(tube_ids)
    groups = sorted(by_group)
    links_table = Person.key_groups.through._meta.db_table
    # One narrow read for all the tubes: the scheduled people among their members.
    rows = select_in(
        "SELECT m.person_id, m.sampled_at, k.keygroup_id "  # noqa: S608
        f"FROM screening_tubemember m JOIN {links_table} k ON k.person_id = m.person_id "
        f"WHERE k.keygroup_id IN ({', '.join(['%s'] * len(groups))}) AND m.tube_id {{in}}",
        ids,
        groups,
    )
    if not rows:
        return 0
    members: dict[int, dt.datetime] = {}
    links: set[tuple[int, int]] = set()
    for pid, when, gid in rows:
        at = db_time(when)
        if pid not in members or at > members[pid]:
            members[pid] = at  # sampled in two of these tubes: the later counts
        links.add((pid, gid))
    return _advance([(pid, by_group[gid]) for pid, gid in sorted(links)], members, actor)


def _advance(
    pairs: list[tuple[int, Schedule]], sampled: dict[int, dt.datetime], actor: Actor
) -> int:
    states = {
        (s.schedule_id, s.person_id): s
        for s in ScheduleState.objects.filter(
            person_id__in={p for p, _s in pairs}, schedule_id__in={s.pk for _p, s in pairs}
        )
    }
    paths = dict(
        Person.objects.filter(pk__in={p for p, _s in pairs}).values_list("pk", "scope_path")
    )
    new: list[ScheduleState] = []
    changed: list[ScheduleState] = []
    cleared: dict[int, list[int]] = {}
    for pid, sched in pairs:
        at = sampled[pid]
        due = at + dt.timedelta(days=sched.interval_days)
        state = states.get((sched.pk, pid))
        if state is None:
            new.append(
                ScheduleState(
                    schedule=sched,
                    person_id=pid,
                    last_sampled_at=at,
                    next_due=due,
                    scope_path=paths.get(pid, ""),
                )
            )
            continue
        if state.last_sampled_at and state.last_sampled_at >= at:
            continue
        if state.overdue_since:
            cleared.setdefault(sched.pk, []).append(pid)
        state.last_sampled_at, state.next_due = at, due
        state.reminded_at = state.overdue_since = None
        changed.append(state)
    ScheduleState.objects.bulk_create(new, batch_size=1000)
    ScheduleState.objects.bulk_update(
        changed, ["last_sampled_at", "next_due", "reminded_at", "overdue_since"], batch_size=1000
    )
    for sched_id, pids in cleared.items():
        # status ends their overdue-screening reasons (docs/events.md)
        publish("screening.schedule_retested", schedule_id=sched_id, person_ids=pids, actor=actor)
    return len(new) + len(changed)


def schedules_enrol(*, now: dt.datetime | None = None) -> int:
    """Give every member of a scheduled key group a state (due now if never sampled)."""
    now = now or timezone.now()
    created = 0
    for group_id, sched in _schedules_by_group().items():
        known = ScheduleState.objects.filter(schedule=sched).values("person_id")
        people = (
            Person.objects.active()
            .filter(key_groups__id=group_id)
            .exclude(pk__in=known)
            .values_list("pk", "scope_path")
        )
        rows = [
            ScheduleState(schedule=sched, person_id=pk, next_due=now, scope_path=path)
            for pk, path in people
        ]
        ScheduleState.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        created += len(rows)
    return created


def schedules_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Periodic: remind people whose next test is overdue; after the grace time,
    give them an "overdue screening" status reason (idempotent per schedule)."""
    from fangkong.notify.services import notify_system

    now = now or timezone.now()
    schedules_enrol(now=now)
    reminded = granted = 0
    with transaction.atomic():
        due = list(
            ScheduleState.objects.select_related("person", "schedule__key_group")
            .filter(next_due__lte=now, reminded_at__isnull=True, schedule__active=True)
            .order_by("pk")[:50000]
        )
        for state in due:
            notify_system(
                person=state.person,
                purpose="screening",
                template_code="registry_notice",
                context={
                    "text": _("your regular test (%(group)s) is due; please visit a sampling site.")
                    % {"group": state.schedule.key_group.name}
                },
                dedup_key=f"schedule-{state.schedule_id}-{state.next_due:%Y%m%d%H}",
            )
            state.reminded_at = now
        ScheduleState.objects.bulk_update(due, ["reminded_at"], batch_size=1000)
        reminded = len(due)
        for sched in Schedule.objects.filter(active=True):
            grace = dt.timedelta(hours=sched.remind_hours_before_overdue)
            overdue = list(
                ScheduleState.objects.filter(
                    schedule=sched,
                    next_due__lt=now,
                    reminded_at__lt=now - grace,
                    overdue_since__isnull=True,
                ).values_list("pk", "person_id")
            )
            if not overdue:
                continue
            # status gives them the overdue-screening reason (docs/events.md)
            publish(
                "screening.schedule_overdue",
                schedule_id=sched.pk,
                person_ids=[p for _s, p in overdue],
            )
            granted += len(overdue)
            ScheduleState.objects.filter(pk__in=[s for s, _p in overdue]).update(
                overdue_since=now, updated_at=now
            )
            audit_record(
                actor=None,
                action="screening.schedule.overdue",
                obj=sched,
                changes={"people": [None, len(overdue)]},
            )
    return {"reminded": reminded, "granted": granted}
