"""The dashboard's figures from entry, supplies and screening: arrivals of the day
and transfers on their way, days of supply by district, coverage of an open round
by district with its SLA board; each links to its list, a district sees its own."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from fangkong.conftest import client_for, make_person, make_staff, raw_codes
from fangkong.entry import services as entry_services
from fangkong.entry.tests import kit as entry_kit
from fangkong.quarantine.tests.kit import active_site
from fangkong.screening.selectors import shared as screening
from fangkong.screening.tests import kit as screening_kit
from fangkong.supplies import services as supplies_services
from fangkong.supplies.models import Item
from fangkong.supplies.tests.kit import move

pytestmark = pytest.mark.django_db


def test_arrivals_of_the_day_and_transfers_on_their_way(city, commander, yingze_officer):
    officer = make_staff("cpofficer", city.xiaodian, "checkpoint_officer")
    station = entry_kit.checkpoint(commander, city.xiaodian)
    entry_kit.published_list(commander)
    arrivals = [
        entry_kit.register(
            officer,
            station,
            entry_kit.traveller(name=f"旅客{i}", origin="上海", itinerary=entry_kit.stay("徐汇区")),
        )
        for i in range(2)
    ]
    manager = make_staff("qmanager", city.xiaodian, "quarantine_manager")
    site = active_site(manager, commander, city.xiaodian, rooms=4)
    entry_services.transfer_create(
        actor=officer,
        data=entry_services.TransferData(
            checkpoint_id=station.pk,
            arrival_ids=[arrivals[0].pk],
            vehicle_plate="晋A12345",
            driver_name="赵师傅",
            escort_name="",
            destination_kind="quarantine_site",
            destination_id=site.pk,
            destination_name="",
        ),
    )
    page = client_for(commander).get("/hq/dashboard/", HTTP_ACCEPT_LANGUAGE="en")
    figures = page.context["arrivals"]
    assert figures.arrived == 2
    assert figures.categories == [("Centralised quarantine", 2)]
    assert (figures.transfers_open, figures.waiting_transfer) == (1, 1)
    text = page.content.decode()
    assert "Centralised quarantine" in text and 'href="/entry/transfers/"' in text
    assert not raw_codes(text)
    zh = client_for(commander).get("/hq/dashboard/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "今日入境" in zh.content.decode()
    other = client_for(yingze_officer).get("/hq/dashboard/").context["arrivals"]
    assert (other.arrived, other.transfers_open) == (0, 0)


def test_days_of_supply_by_district_show_the_item_that_runs_out_first(
    city, commander, yingze_officer
):
    officer = make_staff("xdsupplies", city.xiaodian, "supplies_officer")
    store = supplies_services.warehouse_create(
        actor=officer, name="小店区粮食储备库", jurisdiction_id=city.xiaodian.pk
    )
    grain = Item.objects.get(code="grain")
    for _i in range(5):
        make_person(city.xd_building)
    for item in Item.objects.filter(active=True):
        move(officer, "receipt", store, item, 100_000)
    move(officer, "issue", store, grain, 100_000 - 4)  # 5 people x 0.4 kg: 2 days
    page = client_for(commander).get("/hq/dashboard/", HTTP_ACCEPT_LANGUAGE="en")
    rows = {r.name: r for r in page.context["supplies"]}
    xd = rows[city.xiaodian.name]
    assert (xd.level, xd.lowest_days, xd.items_alert) == ("alert", Decimal("2.0"), 1)
    assert xd.lowest_item == grain.name
    assert 'href="/supplies/"' in page.content.decode()
    own = client_for(yingze_officer).get("/hq/dashboard/").context["supplies"]
    assert [r.name for r in own] == [city.yingze.name]


def test_an_open_round_shows_coverage_by_district_and_its_sla_board(
    city, commander, xiaodian_officer
):
    k = screening_kit.build(city)
    screening_kit.people(city, 3)
    make_person(city.yz_building)
    [board] = screening.open_round_boards(city.city.path, timezone.now())
    assert board.round_id == k.round.pk
    assert {d.name: d.expected for d in board.districts} == {
        city.xiaodian.name: 3,
        city.yingze.name: 1,
    }
    assert (board.expected, board.sampled, board.coverage, board.overdue) == (4, 0, 0.0, 0)
    assert board.rules  # the turnaround rules in words
    page = client_for(commander).get("/hq/dashboard/", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert f'href="/screening/rounds/{k.round.pk}/"' in text
    assert "Turnaround (SLA board)" in text and not raw_codes(text)
    [own] = client_for(xiaodian_officer).get("/hq/dashboard/").context["rounds"]
    assert [d.name for d in own.districts] == [city.xiaodian.name]
