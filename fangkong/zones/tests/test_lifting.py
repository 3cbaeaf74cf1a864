"""The daily lifting evaluation with frozen time: days without a case, tests, the queue."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from fangkong.core.errors import Conflict, ValidationFailed
from fangkong.investigation.models import Disease
from fangkong.investigation.services.cases import case_create_unchecked
from fangkong.zones import services
from fangkong.zones.jobs import evaluate_zone_lifting
from fangkong.zones.models import LiftRecommendation, Zone
from fangkong.zones.services import lifting
from fangkong.zones.tests.zonekit import active_kinds, declare, residents

TZ = ZoneInfo("Asia/Shanghai")
DAY0 = dt.datetime(2026, 4, 1, 9, 0, tzinfo=TZ)


@pytest.fixture
def results(monkeypatch: Any) -> dict[int, dict[str, Any]]:
    """Latest test results per person, as screening would report them."""
    table: dict[int, dict[str, Any]] = {}
    monkeypatch.setattr(
        lifting, "latest_result_by_person", lambda ids: {i: table[i] for i in ids if i in table}
    )
    return table


def _negative(table: dict[int, dict[str, Any]], people: list[Any], when: dt.datetime) -> None:
    for p in people:
        table[p.pk] = {"result": "negative", "sampled_at": when}


def test_high_is_recommended_down_to_medium_after_seven_days_and_all_negative(
    city, xiaodian_officer, commander, results
):
    people = residents(city, 3)
    with time_machine.travel(DAY0, tick=False):
        zone = declare(xiaodian_officer, commander, [city.xd_building])
    with time_machine.travel(DAY0 + dt.timedelta(days=6), tick=False):
        _negative(results, people, DAY0 + dt.timedelta(days=5))
        assert evaluate_zone_lifting.call_local() == 0
        rec = LiftRecommendation.objects.get(zone=zone)
        assert not rec.met and rec.evidence["days_without_case"] == 6
    with time_machine.travel(DAY0 + dt.timedelta(days=7), tick=False):
        del results[people[0].pk]
        assert evaluate_zone_lifting.call_local() == 0
        rec = LiftRecommendation.objects.get(zone=zone, state="open")
        assert rec.evidence["untested"] == 1 and not rec.met
        _negative(results, people, DAY0 + dt.timedelta(days=7))
        assert evaluate_zone_lifting.call_local() == 1
        rec = LiftRecommendation.objects.get(zone=zone, state="open")
        assert rec.met and rec.to_level is not None and rec.to_level.code == "medium"
        assert rec.evidence["untested"] == 0 and rec.evidence["last_positive"] is None
        zone.refresh_from_db()
        assert zone.level.code == "high"  # never automatic
        services.recommendation_accept(actor=commander, recommendation_id=rec.pk)
        zone.refresh_from_db()
        assert zone.level.code == "medium"
        assert active_kinds(people[0].pk) == {"controlled_zone"}
        with pytest.raises(Conflict):
            services.recommendation_accept(actor=commander, recommendation_id=rec.pk)


def test_a_new_case_among_residents_restarts_the_count(city, xiaodian_officer, commander, results):
    people = residents(city, 2)
    with time_machine.travel(DAY0, tick=False):
        zone = declare(xiaodian_officer, commander, [city.xd_building], level="medium")
    with time_machine.travel(DAY0 + dt.timedelta(days=4), tick=False):
        case_create_unchecked(
            actor=commander,
            person=people[1],
            disease=Disease.objects.get(code="covid19"),
            classification="confirmed",
            report_date=(DAY0 + dt.timedelta(days=4)).date(),
            found_by="screening",
        )
    with time_machine.travel(DAY0 + dt.timedelta(days=8), tick=False):
        evaluate_zone_lifting.call_local()
        rec = LiftRecommendation.objects.get(zone=zone)
        assert rec.evidence["days_without_case"] == 4 and rec.evidence["cases"] == 1
        assert not rec.met
        with pytest.raises(ValidationFailed):
            services.recommendation_accept(actor=commander, recommendation_id=rec.pk)
    with time_machine.travel(DAY0 + dt.timedelta(days=11), tick=False):
        assert evaluate_zone_lifting.call_local() == 1  # medium needs no test results
        rec = LiftRecommendation.objects.get(zone=zone, state="open")
        assert rec.to_level is not None and rec.to_level.code == "low"


def test_low_is_recommended_for_lifting_after_three_days(
    city, xiaodian_officer, commander, results
):
    people = residents(city, 1)
    with time_machine.travel(DAY0, tick=False):
        zone = declare(xiaodian_officer, commander, [city.xd_building], level="low")
    with time_machine.travel(DAY0 + dt.timedelta(days=3), tick=False):
        evaluate_zone_lifting.call_local()
        rec = LiftRecommendation.objects.get(zone=zone)
        assert rec.met and rec.to_level is None
        services.recommendation_dismiss(actor=commander, recommendation_id=rec.pk, note="再观察")
        zone.refresh_from_db()
        assert zone.state == Zone.State.ACTIVE
    with time_machine.travel(DAY0 + dt.timedelta(days=4), tick=False):
        evaluate_zone_lifting.call_local()
        rec = LiftRecommendation.objects.get(zone=zone, state="open")
        services.recommendation_accept(actor=commander, recommendation_id=rec.pk)
        zone.refresh_from_db()
        assert zone.state == Zone.State.LIFTED
        assert active_kinds(people[0].pk) == set()


def test_without_screening_results_the_test_criterion_is_not_met(
    city, xiaodian_officer, commander, monkeypatch
):
    monkeypatch.setattr(lifting, "latest_result_by_person", lambda ids: None)
    residents(city, 1)
    with time_machine.travel(DAY0, tick=False):
        zone = declare(xiaodian_officer, commander, [city.xd_building])
    with time_machine.travel(DAY0 + dt.timedelta(days=10), tick=False):
        assert evaluate_zone_lifting.call_local() == 0
        rec = LiftRecommendation.objects.get(zone=zone)
        assert rec.evidence["results_available"] is False


def test_only_a_commander_acts_on_recommendations(city, xiaodian_officer, commander, results):
    residents(city, 1)
    with time_machine.travel(DAY0, tick=False):
        zone = declare(xiaodian_officer, commander, [city.xd_building], level="low")
    with time_machine.travel(DAY0 + dt.timedelta(days=3), tick=False):
        evaluate_zone_lifting.call_local()
    rec = LiftRecommendation.objects.get(zone=zone)
    from fangkong.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.recommendation_accept(actor=xiaodian_officer, recommendation_id=rec.pk)
