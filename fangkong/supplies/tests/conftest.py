"""Actors and set-up of the supplies tests (on top of ``fangkong/conftest.py``).

- ``officer``     supplies officer of Xiaodian
- ``yz_officer``  supplies officer of Yingze (the other district)
- ``commander``   (shared) city commander of Taiyuan (sees, does not record)
"""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.conftest import City, make_staff
from fangkong.supplies import services
from fangkong.supplies.models import Item


@pytest.fixture
def officer(city: City) -> Any:
    return make_staff("xdsupplies", city.xiaodian, "supplies_officer")


@pytest.fixture
def yz_officer(city: City) -> Any:
    return make_staff("yzsupplies", city.yingze, "supplies_officer")


@pytest.fixture
def city_officer(city: City) -> Any:
    return make_staff("citysupplies", city.city, "supplies_officer")


@pytest.fixture
def grain(db: Any) -> Item:
    return Item.objects.get(code="grain")


@pytest.fixture
def store(city: City, officer: Any) -> Any:
    """A warehouse in Xiaodian."""
    return services.warehouse_create(
        actor=officer, name="小店区粮食储备库", jurisdiction_id=city.xiaodian.pk
    )


@pytest.fixture
def store2(city: City, officer: Any) -> Any:
    """A second warehouse in Xiaodian (a grid's)."""
    return services.warehouse_create(
        actor=officer, name="坞城社区仓", jurisdiction_id=city.xd_grid.pk
    )


@pytest.fixture
def market(city: City, officer: Any) -> Any:
    return services.market_create(
        actor=officer, name="小店农贸市场", jurisdiction_id=city.xiaodian.pk
    )


@pytest.fixture
def sealed(city: City, xiaodian_officer: Any, commander: Any) -> Any:
    """A sealed (high-risk) zone in force over 坞城 building 1, with four residents."""
    from fangkong.conftest import make_person
    from fangkong.zones.tests.zonekit import declare

    for i in range(4):
        make_person(city.xd_building, name=f"居民{i}", phone=f"1390000{i:04d}")
    return declare(xiaodian_officer, commander, [city.xd_building])


@pytest.fixture
def team_member(city: City) -> Any:
    """A member of the zone's four-ones team (receives deliveries at the zone)."""
    return make_staff("teammember", city.xd_grid, "zone_team_member")
