"""Registering arrivals: bad input refused whole, the same trip merged, and what
follows a decision (status reason, SMS, test series, hand-off)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.core.errors import NotFound, PermissionDenied, ValidationFailed
from fangkong.entry import services
from fangkong.entry.models import Arrival, HomeHandoff
from fangkong.entry.tests import kit
from fangkong.notify.models import Message
from fangkong.status.models import Reason


def _today(days: int = 0) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


def test_itinerary_dates_in_the_future_are_refused(officer, station):
    trip = [{"place": "北京市海淀区", "from": _today(-3), "to": _today(2)}]
    with pytest.raises(ValidationFailed) as exc:
        kit.register(officer, station, kit.traveller(origin="北京", itinerary=trip))
    assert "itinerary.0.to" in exc.value.fields
    assert not Arrival.objects.exists()


def test_stops_out_of_order_and_ending_before_they_start_are_refused(officer, station):
    trip = [
        {"place": "北京市海淀区", "from": _today(-3), "to": _today(-1)},
        {"place": "上海市徐汇区", "from": _today(-6), "to": _today(-4)},
        {"place": "天津市", "from": _today(-1), "to": _today(-2)},
    ]
    with pytest.raises(ValidationFailed) as exc:
        kit.register(officer, station, kit.traveller(origin="北京", itinerary=trip))
    assert "itinerary.1.from" in exc.value.fields
    assert "itinerary.2.to" in exc.value.fields


def test_a_code_naming_no_place_is_refused(officer, station):
    trip = [{"place": "某地", "code": "999999", "from": _today(-8), "to": _today()}]
    with pytest.raises(ValidationFailed) as exc:
        kit.register(officer, station, kit.traveller(origin="某地", itinerary=trip))
    assert "999999" in exc.value.fields["itinerary.0.code"]


@pytest.mark.parametrize("plate", ["ABC123", "晋12345", "晋A1234", "晋AI2345"])
def test_a_driver_with_a_plate_in_the_wrong_format_is_refused(officer, station, plate):
    data = kit.traveller(
        origin="北京", traveller_class="truck_driver", plate=plate, cargo="煤", stay_hours=4
    )
    with pytest.raises(ValidationFailed) as exc:
        kit.register(officer, station, data)
    assert "plate" in exc.value.fields


def test_a_truck_driver_keeps_plate_cargo_route_and_stay(officer, station, shanghai):
    data = kit.traveller(
        origin="北京",
        itinerary=kit.stay("北京市海淀区"),
        traveller_class="truck_driver",
        plate="京A·D1234",
        cargo="蔬菜",
        truck_destination="太原市小店区农产品市场",
        stay_hours=6,
    )
    a = kit.register(officer, station, data)
    assert (a.plate, a.transport, a.cargo, a.stay_hours) == ("京AD1234", "truck", "蔬菜", 6)


def test_the_same_trip_registered_twice_is_merged_not_duplicated(officer, station, shanghai):
    data = kit.traveller(origin="北京", itinerary=kit.stay("北京市海淀区"))
    first, merged = services.arrival_register(actor=officer, checkpoint_id=station.pk, data=data)
    again, merged_again = services.arrival_register(
        actor=officer, checkpoint_id=station.pk, data=data
    )
    assert (merged, merged_again) == (False, True)
    assert again.pk == first.pk
    assert Arrival.objects.count() == 1


def test_a_self_report_is_the_trip_registered_on_arrival(officer, station, shanghai, city):
    from fangkong.conftest import make_person

    person = make_person(city.xd_building, name="王五")
    from fangkong.core import crypto

    doc = crypto.decrypt(person.doc_number_encrypted)
    report = services.arrival_self_report(
        person_id=person.pk,
        origin="上海市浦东新区",
        arrival_date=timezone.localdate(),
        destination="坞城社区",
        itinerary=kit.stay("上海市浦东新区"),
    )
    assert report.state == "reported" and report.category == "home_quarantine"
    assert not Reason.objects.filter(person=person).exists()  # not arrived yet
    arrival, merged = services.arrival_register(
        actor=officer,
        checkpoint_id=station.pk,
        data=services.ArrivalData(doc_type="prc_id", doc_number=doc, name="王五", origin=""),
    )
    assert merged and arrival.pk == report.pk
    assert arrival.state == "arrived" and arrival.itinerary == report.itinerary
    assert arrival.category == "home_quarantine"


def test_an_arrival_from_a_listed_area_gets_a_status_reason_sms_and_tests(
    officer, station, shanghai
):
    a = kit.register(
        officer,
        station,
        kit.traveller(origin="上海", phone="13812345678", itinerary=kit.stay("上海市浦东新区")),
    )
    reason = Reason.objects.get(source_type="entry.arrival", source_id=a.pk)
    assert reason.kind == "arrival_risk" and reason.ended_at is None
    assert a.measures_end is not None and a.person_id is not None
    assert timezone.localtime(reason.ends_at).date() == a.measures_end + dt.timedelta(days=1)
    sms = Message.objects.get(person_id=a.person_id, purpose="entry")
    assert "home quarantine for 7 days" in sms.body or "居家隔离" in sms.body
    assert a.tests.count() == 3


def test_a_home_quarantine_is_handed_to_the_home_community(officer, station, shanghai, city):
    a = kit.register(
        officer,
        station,
        kit.traveller(
            origin="上海", itinerary=kit.stay("上海市浦东新区"), home_id=city.xd_building.pk
        ),
    )
    handoff = HomeHandoff.objects.get(arrival=a)
    assert handoff.scope_path == city.xd_building.path and handoff.state == "open"


def test_an_arrival_test_only_grants_no_status_reason(officer, station, shanghai):
    a = kit.register(officer, station, kit.traveller(origin="北京", itinerary=kit.stay("北京市")))
    assert a.category == "arrival_test"
    assert not Reason.objects.filter(source_type="entry.arrival").exists()


def test_reclassified_to_no_risk_the_reason_ends(officer, station, shanghai, commander):
    a = kit.register(officer, station, kit.traveller(origin="上海", itinerary=kit.stay("徐汇区")))
    services.risk_list_withdraw(actor=commander, list_id=shanghai.pk)
    reason = Reason.objects.get(source_type="entry.arrival", source_id=a.pk)
    assert reason.ended_at is not None and reason.ended_how == "revoked"


def test_the_arrival_test_links_the_tube(officer, station, shanghai):
    a = kit.register(officer, station, kit.traveller(origin="北京", itinerary=kit.stay("北京市")))
    test = services.arrival_test_sample(actor=officer, arrival_id=a.pk, barcode="T0001")
    assert (test.number, test.tube_barcode, test.state) == (1, "T0001", "sampled")


def test_an_officer_of_another_district_cannot_use_the_checkpoint(yz_officer, station):
    with pytest.raises(NotFound):
        kit.register(yz_officer, station, kit.traveller(origin="北京"))


def test_a_grid_worker_cannot_register_arrivals(grid_worker, station):
    with pytest.raises(PermissionDenied):
        kit.register(grid_worker, station, kit.traveller(origin="北京"))
