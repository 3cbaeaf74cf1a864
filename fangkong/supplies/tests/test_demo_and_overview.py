"""The demo gives the supplies officer real work (one district below its
days-of-supply alert line, one price rise alert) and the overview page and the
command centre show it in words."""

from __future__ import annotations

import re

import pytest

from fangkong.conftest import client_for, make_person, make_staff, raw_codes
from fangkong.core.dashboard import attention_items
from fangkong.core.models import Person
from fangkong.supplies import demo, selectors
from fangkong.supplies.models import Delivery, PriceReport, Warehouse
from fangkong.supplies.tests.kit import grocery_request

pytestmark = pytest.mark.django_db


def test_the_demo_puts_one_district_below_the_line_and_one_price_rise(city, commander):
    for i in range(30):
        make_person(city.xd_building if i % 2 else city.yz_building, name=f"居民{i}")
    summary = demo.seed()
    assert "warehouses" in summary
    assert Warehouse.objects.count() == 2
    officer = make_staff("so", city.city, "supplies_officer")
    low = selectors.supply_alerts_for(officer)
    assert {a["district"] for a in low} == {city.xiaodian}
    assert {a["item"].code for a in low} == {"grain", "vegetables"}
    alerts = PriceReport.objects.filter(alert=True)
    assert [(r.market.name, r.item.code) for r in alerts] == [("小店区坞城农贸市场", "vegetables")]
    assert not PriceReport.objects.filter(flagged=True).exists()
    assert "warehouses already there" in demo.seed()

    page = client_for(officer).get("/supplies/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    text = page.content.decode()
    assert "小店区" in text and "迎泽区" in text
    assert "小店区坞城农贸市场" in text
    work = {i["text"]: i["count"] for i in attention_items(officer)}
    assert sorted(work.values()) == [1, 2]


def test_the_overview_reads_as_words_and_is_scoped(city, commander):
    demo.seed()
    yz = make_staff("yzso", city.yingze, "supplies_officer")
    response = client_for(yz).get("/supplies/", HTTP_ACCEPT_LANGUAGE="en")
    text = response.content.decode()
    assert response.status_code == 200
    assert "Yingze" in text and "Xiaodian" not in text
    visible = re.sub(r"<[^>]+>", " ", text.split("<main", 1)[-1])
    assert raw_codes(visible) == []
    assert (
        client_for(make_staff("gw", city.xd_grid, "grid_worker")).get("/supplies/").status_code
        == 403
    )


def test_the_demo_delivers_to_the_sealed_zone_and_has_deliveries_under_way(city, sealed):
    for i in range(30):
        make_person(city.xd_building2 if i % 2 else city.yz_building, name=f"居民{i}")
    grocery_request(Person.objects.filter(scope_path__startswith=city.xd_building.path).first())
    assert "3 deliveries" in demo.seed()
    states = sorted(Delivery.objects.values_list("state", flat=True))
    assert states == ["delivered", "dispatched", "planned"]
    officer = make_staff("so2", city.city, "supplies_officer")
    [zone] = selectors.zone_supply_for(officer)
    assert zone.open_deliveries == 2 and zone.waiting_requests == 0
    assert {i.item.code: i.delivered for i in zone.items}["grain"] > 0
    assert "deliveries already there" in demo.seed()
    page = client_for(officer).get("/supplies/deliveries/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    assert raw_codes(re.sub(r"<[^>]+>", " ", page.content.decode())) == []
