"""Task forces, the duty roster (who is on duty now), handover notes, and frontline
staff care: the overwork list under the rotation rule (data), rotation plans that
hand shifts to the person standing in, recognitions. Time frozen."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from fangkong.conftest import make_staff
from fangkong.core.errors import NotFound, PermissionDenied, ValidationFailed
from fangkong.headquarters import services
from fangkong.headquarters.models import DutyShift, RotationRule
from fangkong.headquarters.selectors import ops

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # 09:00 in Taiyuan


def _shift(actor, area, user, start, hours=12, **kw):
    return services.shift_add(
        actor=actor,
        area_id=area.pk,
        user_id=user.pk,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=hours),
        **kw,
    )


def test_a_task_force_has_a_leader_and_members(city, commander, xiaodian_officer, grid_worker):
    tf = services.taskforce_create(
        actor=commander,
        name="流调溯源专班",
        kind="investigation",
        area_id=city.xiaodian.pk,
        leader_id=xiaodian_officer.pk,
        member_ids=[grid_worker.pk, grid_worker.pk],
    )
    assert [m.user for m in tf.members.all()] == [grid_worker]
    with pytest.raises(ValidationFailed):
        services.taskforce_member_add(actor=commander, task_force_id=tf.pk, user_id=grid_worker.pk)
    assert ops.access_taskforce_by_id(grid_worker, tf.pk) == tf


def test_a_task_force_of_another_district_is_a_404(city, yingze_officer, xiaodian_officer):
    with pytest.raises(NotFound):
        services.taskforce_create(
            actor=yingze_officer,
            name="x",
            kind="zones",
            area_id=city.xiaodian.pk,
            leader_id=xiaodian_officer.pk,
        )


def test_who_is_on_duty_now_per_area(
    city, commander, xiaodian_officer, yingze_officer, grid_worker
):
    with time_machine.travel(NOW, tick=False):
        _shift(commander, city.city, commander, NOW - dt.timedelta(hours=1), role="leader")
        _shift(commander, city.xiaodian, xiaodian_officer, NOW - dt.timedelta(hours=2))
        _shift(commander, city.yingze, yingze_officer, NOW + dt.timedelta(hours=2))
        everyone = ops.on_duty_now(commander)
        district = ops.on_duty_now(xiaodian_officer)
    assert [(g.area, [s.user for s in g.shifts]) for g in everyone] == [
        (city.city, [commander]),
        (city.xiaodian, [xiaodian_officer]),
    ]
    # A district sees its own roster and the city's (whom to call), not another district's.
    assert [g.area for g in district] == [city.city, city.xiaodian]


def test_one_person_cannot_hold_two_shifts_at_once(city, commander, xiaodian_officer):
    _shift(commander, city.xiaodian, xiaodian_officer, NOW)
    with pytest.raises(ValidationFailed) as err:
        _shift(commander, city.city, xiaodian_officer, NOW + dt.timedelta(hours=6))
    assert "starts_at" in err.value.fields
    with pytest.raises(ValidationFailed) as err:
        _shift(commander, city.city, xiaodian_officer, NOW + dt.timedelta(days=2), hours=30)
    assert "ends_at" in err.value.fields


def test_the_shift_on_duty_writes_the_handover_and_the_next_receives_it(
    city, commander, xiaodian_officer
):
    night = make_staff("night", city.xiaodian, "district_officer")
    grid = make_staff("inv", city.xiaodian, "investigator")
    with time_machine.travel(NOW, tick=False):
        _shift(commander, city.xiaodian, xiaodian_officer, NOW - dt.timedelta(hours=11))
        _shift(commander, city.xiaodian, night, NOW + dt.timedelta(hours=1))
        with pytest.raises(PermissionDenied):
            services.handover_write(actor=grid, area_id=city.xiaodian.pk, text="x")
        note = services.handover_write(
            actor=xiaodian_officer,
            area_id=city.xiaodian.pk,
            text="坞城社区3号楼待转运2人",
            open_items="120急救车已联系",
        )
        with pytest.raises(PermissionDenied):
            services.handover_receive(actor=xiaodian_officer, handover_id=note.pk)
        services.handover_receive(actor=night, handover_id=note.pk)
    note.refresh_from_db()
    assert note.received_by == night and note.shift is not None


def test_overwork_follows_the_rotation_rule(city, commander, xiaodian_officer, grid_worker):
    rule = RotationRule.objects.get()
    rule.max_consecutive_days = 5
    rule.save()
    with time_machine.travel(NOW, tick=False):
        for d in range(7):  # seven days in a row, 12 hours each
            _shift(
                commander, city.xiaodian, xiaodian_officer, NOW - dt.timedelta(days=6 - d, hours=1)
            )
        # Two shifts with four hours of rest between them.
        _shift(
            commander, city.xd_grid.parent.parent, grid_worker, NOW - dt.timedelta(days=1), hours=8
        )
        _shift(
            commander,
            city.xd_grid.parent.parent,
            grid_worker,
            NOW - dt.timedelta(hours=12),
            hours=6,
        )
        rows = {o.user: o for o in ops.overwork_for(commander)}
    assert rows[xiaodian_officer].consecutive_days == 7
    assert rows[xiaodian_officer].too_many_days and rows[xiaodian_officer].week_hours == 73
    assert rows[grid_worker].short_rests == 1 and not rows[grid_worker].too_many_days


def test_a_rotation_hands_the_shifts_to_who_stands_in(city, commander, xiaodian_officer):
    stand_in = make_staff("standin", city.xiaodian, "district_officer")
    with time_machine.travel(NOW, tick=False):
        first = _shift(commander, city.xiaodian, xiaodian_officer, NOW + dt.timedelta(days=1))
        second = _shift(commander, city.xiaodian, xiaodian_officer, NOW + dt.timedelta(days=2))
        plan = services.rotation_plan_create(
            actor=commander,
            user_id=xiaodian_officer.pk,
            replacement_id=stand_in.pk,
            rest_from=NOW.date() + dt.timedelta(days=1),
            rest_until=NOW.date() + dt.timedelta(days=3),
            reason="连续在岗21天",
        )
    assert set(
        DutyShift.objects.filter(pk__in=[first.pk, second.pk]).values_list("user", flat=True)
    ) == {stand_in.pk}
    assert plan.area == city.xiaodian
    with pytest.raises(ValidationFailed):
        services.rotation_plan_create(
            actor=commander,
            user_id=stand_in.pk,
            replacement_id=stand_in.pk,
            rest_from=NOW.date(),
            rest_until=NOW.date() - dt.timedelta(days=1),
        )


def test_a_recognition_is_recorded_and_scoped(city, commander, grid_worker, yingze_officer):
    rec = services.recognition_record(
        actor=commander, user_id=grid_worker.pk, kind="commendation", citation="连续奋战30天"
    )
    assert list(ops.recognitions_for(grid_worker)) == [rec]
    assert list(ops.recognitions_for(yingze_officer)) == []
    with pytest.raises(PermissionDenied):
        services.recognition_record(
            actor=grid_worker, user_id=grid_worker.pk, kind="award", citation="x"
        )
