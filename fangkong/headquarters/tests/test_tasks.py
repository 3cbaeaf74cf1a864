"""Tasks: assignment rules (responsible officer, then the district's officer with
the right, else the unit's queue), scope, completion rights, and the escalation
chain with frozen time."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from fangkong.conftest import make_staff
from fangkong.core.errors import NotFound, PermissionDenied, ValidationFailed
from fangkong.core.models import AuditEntry
from fangkong.headquarters import selectors, services
from fangkong.headquarters.models import EscalationStep, Task

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _task(actor, unit, **kw):
    kw.setdefault("title", "核查坞城社区隔离点")
    kw.setdefault("deadline", NOW + dt.timedelta(hours=24))
    with time_machine.travel(NOW, tick=False):
        return services.task_create(actor=actor, unit_id=unit.pk, **kw)


def test_the_responsible_officer_gets_the_unit_task_first(city, commander, grid_worker):
    services.responsible_set(actor=commander, unit_id=city.xd_grid.pk, user_id=grid_worker.pk)
    task = _task(commander, city.xd_grid)
    assert (task.assignee, task.assigned_how) == (grid_worker, Task.Assigned.RESPONSIBLE)
    assert AuditEntry.objects.filter(action="task.create", object_id=str(task.pk)).exists()


def test_without_responsible_the_district_officer_with_fewest_tasks_gets_it(
    city, commander, xiaodian_officer
):
    other = make_staff("xiaodian2", city.xiaodian, "district_officer")
    first = _task(commander, city.xd_grid)
    second = _task(commander, city.xd_grid)
    assert first.assigned_how == Task.Assigned.DISTRICT
    assert {first.assignee, second.assignee} == {xiaodian_officer, other}


def test_a_responsible_without_the_right_is_passed_over(city, commander, xiaodian_officer):
    sampler = make_staff("sampler", city.xd_grid, "sampler", "grid_worker")
    services.responsible_set(actor=commander, unit_id=city.xd_grid.pk, user_id=sampler.pk)
    sampler.staff.roles.set([])  # the right withdrawn later
    sampler = type(sampler).objects.get(pk=sampler.pk)
    task = _task(commander, city.xd_grid)
    assert task.assignee == xiaodian_officer


def test_nobody_with_the_right_leaves_the_task_in_the_unit_queue(city, commander, grid_worker):
    task = _task(commander, city.yz_grid)
    assert (task.assignee, task.assigned_how) == (None, Task.Assigned.NONE)
    yz_worker = make_staff("yzworker", city.yz_grid, "grid_worker")
    assert [t.pk for t in selectors.inbox_for(yz_worker).unit_queue] == [task.pk]


def test_bad_input_names_each_field(city, commander):
    with pytest.raises(ValidationFailed) as err:
        _task(commander, city.xd_grid, title=" ", priority="asap", deadline=NOW - dt.timedelta(1))
    assert set(err.value.fields) == {"title", "priority", "deadline"}


def test_a_unit_outside_the_area_does_not_exist(city, xiaodian_officer):
    with pytest.raises(NotFound):
        _task(xiaodian_officer, city.yz_grid)


def test_assignee_outside_the_area_is_refused(city, xiaodian_officer, yingze_officer):
    with pytest.raises(NotFound):
        _task(xiaodian_officer, city.xd_grid, assignee_id=yingze_officer.pk)


def test_only_who_holds_the_task_or_gives_tasks_closes_it(city, commander, grid_worker):
    task = _task(commander, city.xd_grid, assignee_id=grid_worker.pk)
    stranger = make_staff("gw2", city.xd_grid, "grid_worker")
    with pytest.raises(PermissionDenied):
        services.task_complete(actor=stranger, task_id=task.pk)
    done = services.task_complete(actor=grid_worker, task_id=task.pk, note="已整改")
    assert done.state == Task.State.DONE
    with pytest.raises(ValidationFailed):
        services.task_complete(actor=grid_worker, task_id=task.pk)


def test_escalation_climbs_the_chain_with_time_and_never_twice(city, commander, grid_worker):
    task = _task(commander, city.xd_grid, priority="high", assignee_id=grid_worker.pk)
    deadline = task.deadline
    with time_machine.travel(deadline + dt.timedelta(hours=11), tick=False):
        assert services.tasks_escalate() == 0
    with time_machine.travel(deadline + dt.timedelta(hours=12), tick=False):
        assert services.tasks_escalate() == 1
        assert services.tasks_escalate() == 0  # idempotent
    task.refresh_from_db()
    assert (task.escalation_step, task.escalated_to) == (1, city.xiaodian)
    xiaodian = make_staff("xd", city.xiaodian, "district_officer")
    assert [t.pk for t in selectors.inbox_for(xiaodian).escalated] == [task.pk]
    with time_machine.travel(deadline + dt.timedelta(hours=30), tick=False):
        assert services.tasks_escalate() == 1
    task.refresh_from_db()
    assert (task.escalation_step, task.escalated_to) == (2, city.city)
    assert [t.pk for t in selectors.inbox_for(commander).escalated] == [task.pk]
    assert AuditEntry.objects.filter(action="task.escalate", object_id=str(task.pk)).count() == 2


def test_a_late_run_jumps_straight_to_the_step_reached(city, commander):
    task = _task(commander, city.xd_grid, priority="urgent")
    with time_machine.travel(task.deadline + dt.timedelta(hours=5), tick=False):
        assert services.tasks_escalate() == 1
    task.refresh_from_db()
    assert (task.escalation_step, task.escalated_to) == (2, city.city)


def test_tasks_keep_the_chain_in_force_when_they_were_given(city, commander):
    task = _task(commander, city.xd_grid, priority="low")
    # A stricter chain from tomorrow does not apply to this task.
    EscalationStep.objects.create(
        priority="low",
        step=1,
        hours_overdue=1,
        to_level="city",
        effective_from=NOW.date() + dt.timedelta(days=1),
    )
    with time_machine.travel(task.deadline + dt.timedelta(hours=2), tick=False):
        assert services.tasks_escalate() == 0
    newer = _task(commander, city.xd_grid, priority="low")
    newer.rules_date = NOW.date() + dt.timedelta(days=1)
    newer.save(update_fields=["rules_date"])
    with time_machine.travel(newer.deadline + dt.timedelta(hours=2), tick=False):
        assert services.tasks_escalate() == 1
    newer.refresh_from_db()
    assert newer.escalated_to == city.city


def test_done_tasks_do_not_escalate(city, commander, grid_worker):
    task = _task(commander, city.xd_grid, priority="urgent", assignee_id=grid_worker.pk)
    services.task_complete(actor=grid_worker, task_id=task.pk)
    with time_machine.travel(timezone.now() + dt.timedelta(days=9), tick=False):
        assert services.tasks_escalate() == 0
