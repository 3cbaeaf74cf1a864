"""Days of supply per district: stock ÷ (residents × need per person and day),
against the thresholds of the rule in force (data)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fangkong.conftest import make_person
from fangkong.supplies import selectors
from fangkong.supplies.models import ItemNeed, SupplyRule
from fangkong.supplies.tests.kit import move

pytestmark = pytest.mark.django_db


def test_days_of_supply_divide_stock_by_residents_times_need(city, officer, store, grain):
    for _i in range(5):
        make_person(city.xd_building)
    make_person(city.yz_building)
    move(officer, "receipt", store, grain, 20)  # 5 people x 0.4 kg = 2 kg a day
    [xiaodian] = selectors.days_of_supply_for(officer)
    assert xiaodian.district == city.xiaodian
    assert xiaodian.population == 5
    row = next(i for i in xiaodian.items if i.item == grain)
    assert (row.stock, row.daily_need, row.days) == (20, Decimal("2.0000"), Decimal("10.0"))
    assert row.level == "warn"  # under 14 days, not under 7
    move(officer, "issue", store, grain, 8)
    row = next(i for i in selectors.days_of_supply_for(officer)[0].items if i.item == grain)
    assert (row.days, row.level) == (Decimal("6.0"), "alert")
    alerts = selectors.supply_alerts_for(officer)
    assert any(a["item"] == grain and a["district"] == city.xiaodian for a in alerts)


def test_thresholds_and_needs_are_data(city, officer, store, grain):
    make_person(city.xd_building)
    move(officer, "receipt", store, grain, 4)  # 10 days at 0.4
    SupplyRule.objects.update(warn_days=Decimal("5"), alert_days=Decimal("3"))
    row = next(i for i in selectors.days_of_supply_for(officer)[0].items if i.item == grain)
    assert row.level == "ok"
    ItemNeed.objects.filter(item=grain).update(per_person_daily=Decimal("2"))
    row = next(i for i in selectors.days_of_supply_for(officer)[0].items if i.item == grain)
    assert (row.days, row.level) == (Decimal("2.0"), "alert")


def test_the_city_sees_every_district_and_a_district_only_its_own(
    city, officer, city_officer, yz_officer
):
    assert [r.district for r in selectors.days_of_supply_for(city_officer)] == [
        city.xiaodian,
        city.yingze,
    ]
    assert [r.district for r in selectors.days_of_supply_for(yz_officer)] == [city.yingze]
