"""Point-to-point transfers: hand-over scanned once at the named destination,
overdue ones escalated, quarantine told through ``transfer.handed_over``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from fangkong.conftest import make_staff
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.entry import selectors, services
from fangkong.entry.models import Arrival, HomeHandoff, Transfer
from fangkong.entry.tests import kit
from fangkong.quarantine.models import Stay
from fangkong.quarantine.tests.kit import active_site


@pytest.fixture
def site(city, commander):
    manager = make_staff("qmanager", city.xiaodian, "quarantine_manager")
    return active_site(manager, commander, city.xiaodian, rooms=4)


@pytest.fixture
def site_manager(site):
    from django.contrib.auth.models import User

    return User.objects.get(username="qmanager")


def _high(officer: Any, station: Any, n: int = 2) -> list[Arrival]:
    return [
        kit.register(
            officer,
            station,
            kit.traveller(name=f"旅客{i}", origin="上海", itinerary=kit.stay("徐汇区")),
        )
        for i in range(n)
    ]


def _transfer(officer, station, arrivals, site, **kw) -> Transfer:
    data = services.TransferData(
        checkpoint_id=station.pk,
        arrival_ids=[a.pk for a in arrivals],
        vehicle_plate="晋A12345",
        driver_name="赵师傅",
        escort_name="钱医生",
        destination_kind="quarantine_site",
        destination_id=site.pk,
        destination_name="",
        **kw,
    )
    return services.transfer_create(actor=officer, data=data)


def test_a_transfer_handed_over_at_its_site_opens_a_stay_per_person(
    officer, station, shanghai, site, site_manager
):
    arrivals = _high(officer, station)
    t = _transfer(officer, station, arrivals, site)
    assert t.destination_name == site.name
    services.transfer_depart(actor=officer, transfer_id=t.pk)
    services.transfer_hand_over(actor=site_manager, transfer_id=t.pk, destination_id=site.pk)
    stays = Stay.objects.filter(transfer_id=t.pk)
    assert stays.count() == 2
    assert {s.category.code for s in stays} == {"risk_area_arrival"}
    assert {s.arrival_id for s in stays} == {a.pk for a in arrivals}
    assert set(Arrival.objects.values_list("state", flat=True)) == {"handed_over"}


def test_a_transfer_confirmed_twice_is_refused_and_admits_nobody_again(
    officer, station, shanghai, site, site_manager
):
    t = _transfer(officer, station, _high(officer, station, 1), site)
    services.transfer_depart(actor=officer, transfer_id=t.pk)
    services.transfer_hand_over(actor=site_manager, transfer_id=t.pk, destination_id=site.pk)
    with pytest.raises(Conflict) as exc:
        services.transfer_hand_over(actor=site_manager, transfer_id=t.pk, destination_id=site.pk)
    assert exc.value.code == "already_handed_over"
    assert Stay.objects.filter(transfer_id=t.pk).count() == 1


def test_a_transfer_confirmed_by_the_wrong_site_is_refused(
    officer, station, shanghai, site, site_manager, city, commander
):
    other = active_site(site_manager, commander, city.xiaodian, rooms=2, name="锦江之星")
    t = _transfer(officer, station, _high(officer, station, 1), site)
    services.transfer_depart(actor=officer, transfer_id=t.pk)
    with pytest.raises(Conflict) as exc:
        services.transfer_hand_over(actor=site_manager, transfer_id=t.pk, destination_id=other.pk)
    assert exc.value.code == "wrong_destination"
    t.refresh_from_db()
    assert t.state == "departed" and not Stay.objects.filter(transfer_id=t.pk).exists()


def test_a_hand_over_before_departure_is_refused(officer, station, shanghai, site, site_manager):
    t = _transfer(officer, station, _high(officer, station, 1), site)
    with pytest.raises(Conflict):
        services.transfer_hand_over(actor=site_manager, transfer_id=t.pk, destination_id=site.pk)


def test_a_person_cannot_board_two_transfers(officer, station, shanghai, site):
    arrivals = _high(officer, station, 1)
    _transfer(officer, station, arrivals, site)
    with pytest.raises(Conflict):
        _transfer(officer, station, arrivals, site)


def test_bad_transfer_details_are_refused(officer, station, shanghai, site):
    arrivals = _high(officer, station, 1)
    with pytest.raises(ValidationFailed) as exc:
        _transfer(officer, station, arrivals, site, window_minutes=1)
    assert "window_minutes" in exc.value.fields
    data = services.TransferData(
        checkpoint_id=station.pk,
        arrival_ids=[arrivals[0].pk],
        vehicle_plate="12345",
        driver_name="",
        destination_kind="quarantine_site",
        destination_id=999999,
        destination_name="",
    )
    with pytest.raises(ValidationFailed) as exc:
        services.transfer_create(actor=officer, data=data)
    assert {"vehicle_plate", "driver_name", "destination_id"} <= set(exc.value.fields)


def test_a_transfer_past_its_window_is_escalated_once(officer, station, shanghai, site):
    t = _transfer(officer, station, _high(officer, station, 1), site, window_minutes=60)
    services.transfer_depart(actor=officer, transfer_id=t.pk)
    later = timezone.now() + dt.timedelta(minutes=61)
    assert services.transfers_escalate(now=timezone.now()) == 0
    assert services.transfers_escalate(now=later) == 1
    assert services.transfers_escalate(now=later) == 0
    t.refresh_from_db()
    assert t.escalated_at is not None


def test_another_districts_officer_sees_no_transfer(officer, yz_officer, station, shanghai, site):
    t = _transfer(officer, station, _high(officer, station, 1), site)
    with pytest.raises(NotFound):
        selectors.access_transfer_by_id(yz_officer, t.pk)
    with pytest.raises(NotFound):
        services.transfer_depart(actor=yz_officer, transfer_id=t.pk)


def test_the_grid_worker_takes_over_a_home_quarantine_once(
    officer, station, shanghai, city, grid_worker
):
    a = kit.register(
        officer,
        station,
        kit.traveller(origin="上海", itinerary=kit.stay("浦东新区"), home_id=city.xd_building.pk),
    )
    handoff = selectors.handoff_list_for(grid_worker).get()
    assert handoff.arrival_id == a.pk
    services.handoff_accept(actor=grid_worker, handoff_id=handoff.pk)
    assert HomeHandoff.objects.get().state == "accepted"
    with pytest.raises(Conflict):
        services.handoff_accept(actor=grid_worker, handoff_id=handoff.pk)


def test_a_route_deviation_is_recorded_on_a_transfer_on_the_way(
    officer, yz_officer, station, shanghai, site
):
    from fangkong.conftest import client_for

    t = _transfer(officer, station, _high(officer, station, 1), site)
    c = client_for(officer)
    url = f"/api/v1/entry/transfers/{t.pk}/deviations"
    early = c.post(url, {"note": "停车"}, content_type="application/json")
    assert early.status_code == 409  # not on the way yet
    services.transfer_depart(actor=officer, transfer_id=t.pk)
    blank = c.post(url, {"note": "  "}, content_type="application/json")
    assert blank.status_code == 400 and "note" in blank.json()["error"]["fields"]
    r = c.post(url, {"note": "在服务区停车10分钟"}, content_type="application/json")
    assert r.status_code == 200, r.content
    assert [d["note"] for d in r.json()["deviations"]] == ["在服务区停车10分钟"]
    other = client_for(yz_officer).post(url, {"note": "x"}, content_type="application/json")
    assert other.status_code == 404
    t.refresh_from_db()
    assert len(t.deviations) == 1
