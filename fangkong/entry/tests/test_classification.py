"""The classification engine through registration: every category, the rule and
list versions stored, unknown and incomplete itineraries held, never green."""

from __future__ import annotations

from typing import Any

from fangkong.entry import services
from fangkong.entry.explain import findings_text, measures_sentence
from fangkong.entry.models import Arrival, PlaceReview, RuleSet
from fangkong.entry.tests import kit


def _arrive(officer: Any, station: Any, itinerary: list[dict[str, str]], **kw: Any) -> Arrival:
    return kit.register(officer, station, kit.traveller(origin="上海", itinerary=itinerary, **kw))


def test_a_high_risk_district_by_code_means_centralised_quarantine(officer, station, shanghai):
    a = _arrive(officer, station, kit.stay("上海市徐汇区", "310104"))
    assert a.category == "centralised_quarantine"
    assert a.measures["quarantine_days"] == 7 and a.measures["transfer"] is True
    assert a.rule_set_id == RuleSet.objects.get(version=1).pk
    assert a.list_versions == {"31": shanghai.version}
    assert "version 1" in findings_text(a)[0] and "high-risk area" in findings_text(a)[0]


def test_a_street_inside_a_medium_risk_district_means_home_quarantine(officer, station, shanghai):
    a = _arrive(officer, station, kit.stay("张江镇", "310115001"))
    assert a.category == "home_quarantine"
    assert "home quarantine for 7 days" in measures_sentence(a)


def test_a_listed_place_named_only_is_found_by_name(officer, station, shanghai):
    a = _arrive(officer, station, kit.stay("上海市闵行区七宝镇明珠小区3号楼"))
    assert a.category == "centralised_quarantine"
    assert a.findings[0]["how"] == "name"


def test_elsewhere_in_an_affected_city_means_health_monitoring(officer, station, shanghai):
    a = _arrive(officer, station, kit.stay("上海市黄浦区"))
    assert a.category == "health_monitoring"
    assert len(a.measures["tests"]) == 2
    assert a.findings[0]["how"] == "city"


def test_an_unlisted_city_means_an_arrival_test_only(officer, station, shanghai):
    a = _arrive(officer, station, kit.stay("北京市海淀区"))
    assert a.category == "arrival_test"
    assert a.tests.count() == 1
    assert findings_text(a) == ["No place of the itinerary is on a risk-area list in force."]


def test_the_most_severe_place_of_the_itinerary_decides(officer, station, shanghai):
    trip = kit.stay("北京市海淀区", days=8, until=5) + kit.stay("上海市徐汇区", days=5, until=0)
    a = _arrive(officer, station, trip)
    assert a.category == "centralised_quarantine"


def test_an_itinerary_missing_days_is_held_for_review_never_green(officer, station, shanghai):
    a = _arrive(officer, station, kit.stay("北京市海淀区", days=3))
    assert a.category == "hold_review"
    assert any(f["how"] == "gap" for f in a.findings)
    assert a.tests.count() == 1  # the arrival test


def test_no_itinerary_at_all_is_held(officer, station, shanghai):
    a = _arrive(officer, station, [])
    assert a.category == "hold_review"


def test_a_place_found_nowhere_waits_for_review_and_is_held(officer, station, shanghai, commander):
    a = _arrive(officer, station, kit.stay("火星基地"))
    assert a.category == "hold_review"
    review = PlaceReview.objects.get(arrival=a)
    assert review.place == "火星基地"
    services.place_review_resolve(actor=commander, review_id=review.pk, code="310104")
    a.refresh_from_db()
    assert a.category == "centralised_quarantine"


def test_a_driver_in_transit_is_his_own_class_unless_from_a_high_or_medium_area(
    officer, station, shanghai
):
    kw = {"plate": "沪A12345", "cargo": "蔬菜", "traveller_class": "transit_driver"}
    a = _arrive(officer, station, kit.stay("上海市黄浦区"), **kw)
    assert a.category == "transit"
    b = _arrive(officer, station, kit.stay("上海市徐汇区"), **kw)
    assert b.category == "centralised_quarantine"


def test_a_new_list_version_reclassifies_recent_arrivals(officer, station, shanghai, commander):
    a = _arrive(officer, station, kit.stay("上海市黄浦区", "310101"))
    assert a.category == "health_monitoring"
    v2 = kit.published_list(commander, csv="admin_code,level\n310101,high\n")
    a.refresh_from_db()
    shanghai.refresh_from_db()
    assert shanghai.state == "withdrawn" and v2.version == 2
    assert a.category == "centralised_quarantine"
    assert a.list_versions == {"31": 2}


def test_a_withdrawn_list_no_longer_counts(officer, station, shanghai, commander):
    a = _arrive(officer, station, kit.stay("上海市徐汇区", "310104"))
    services.risk_list_withdraw(actor=commander, list_id=shanghai.pk)
    a.refresh_from_db()
    assert a.category == "arrival_test"
