"""Residents of a zone that keeps people at home are due at their door in the next
round (issue 6: "the zone's residents who are due get door-to-door screening")."""

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.conftest import make_person, make_staff
from fangkong.screening.models import Task
from fangkong.screening.services import rounds as round_services
from fangkong.zones.tests.zonekit import declare

pytestmark = pytest.mark.django_db


def _round(manager, areas, **kw):
    now = timezone.now()
    return round_services.round_create(
        actor=manager,
        name=kw.pop("name", "第2轮"),
        area_ids=[a.pk for a in areas],
        starts_at=now,
        ends_at=now + dt.timedelta(hours=24),
        pooling_ratio=10,
        **kw,
    )


def test_a_new_round_gives_sealed_zone_residents_a_door_to_door_task_each(
    city, commander, xiaodian_officer
):
    manager = make_staff("manager", city.city, "city_commander")
    sealed = [make_person(city.xd_building) for _ in range(3)]
    outside = make_person(city.xd_building2)
    declare(xiaodian_officer, commander, [city.xd_building], level="high")

    rnd = _round(manager, [city.xiaodian, city.yingze])
    tasks = Task.objects.filter(round=rnd, kind=Task.Kind.DOOR_TO_DOOR)
    assert sorted(t.person_id for t in tasks) == sorted(p.pk for p in sealed)
    assert outside.pk not in {t.person_id for t in tasks}

    # A round over another district only does not reach them.
    other = _round(manager, [city.yingze], name="迎泽第2轮")
    assert not Task.objects.filter(round=other).exists()


def test_a_medium_zone_keeps_people_in_the_zone_not_at_home_so_no_door_tasks(
    city, commander, xiaodian_officer
):
    manager = make_staff("manager", city.city, "city_commander")
    make_person(city.xd_building)
    declare(xiaodian_officer, commander, [city.xd_building], level="medium")
    rnd = _round(manager, [city.xiaodian])
    assert not Task.objects.filter(round=rnd, kind=Task.Kind.DOOR_TO_DOOR).exists()
