"""Shared set-up for screening tests: a round over both districts, a lab, a site,
a sampler and a lab technician."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from fangkong.conftest import City, make_person, make_staff
from fangkong.core.models import Person
from fangkong.screening.models import Lab, Round, Site, Team
from fangkong.screening.services import rounds as round_services


@dataclass
class Kit:
    city: City
    manager: Any
    sampler: Any
    labtech: Any
    round: Round
    lab: Lab
    site: Site
    team: Team
    d2d_team: Team


def build(city: City, *, ratio: int = 10) -> Kit:
    manager = make_staff("manager", city.city, "city_commander")
    sampler = make_staff("sampler", city.xiaodian, "sampler")
    labtech = make_staff("labtech", city.city, "lab_technician")
    lab = round_services.lab_create(
        actor=manager,
        name="迪安检验",
        code="dian",
        capacity_per_day=100,
        jurisdiction_id=city.city.pk,
    )
    lab.staff.add(labtech)
    now = timezone.now()
    rnd = round_services.round_create(
        actor=manager,
        name="第1轮",
        area_ids=[city.xiaodian.pk, city.yingze.pk],
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=23),
        pooling_ratio=ratio,
        lab_ids=[lab.pk],
    )
    site = round_services.site_create(
        actor=manager,
        name="坞城采样点",
        jurisdiction_id=city.xd_grid.pk,
        lat=37.8,
        lon=112.5,
        opens_at=dt.time(0, 0),
        closes_at=dt.time(23, 59),
        lanes=4,
    )
    team = round_services.team_create(actor=manager, name="坞城采样队", area_id=city.xd_grid.pk)
    d2d = round_services.team_create(
        actor=manager, name="坞城上门队", area_id=city.xd_grid.pk, door_to_door=True
    )
    return Kit(city, manager, sampler, labtech, rnd, lab, site, team, d2d)


def people(city: City, n: int, **kw: Any) -> list[Person]:
    return [make_person(city.xd_building, name=f"居民{i}", **kw) for i in range(n)]
