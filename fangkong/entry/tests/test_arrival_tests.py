"""The arrival test (落地检) is a screening tube: taken at the checkpoint, filed in the
district's arrival-test round, tested by a lab, its result back on the arrival;
the later tests of the series are taken at any sampling site."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from fangkong.conftest import make_staff
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.models import AuditEntry, Fact
from fangkong.core.signing import person_token
from fangkong.entry import services
from fangkong.entry.models import ArrivalTest, Rule
from fangkong.entry.series import series_of
from fangkong.entry.tests import kit
from fangkong.investigation.models import Case
from fangkong.screening.models import CustodyEvent, Round, Tube, TubeMember
from fangkong.screening.selectors import coverage
from fangkong.screening.selectors.shared import open_round_boards
from fangkong.screening.services import custody, results, rounds, sampling
from fangkong.screening.tests.kit import build


def _high(officer: Any, station: Any, name: str = "王五") -> Any:
    """An arrival from a high-risk area (the rule: single tube, 5 tests in 7 days)."""
    return kit.register(
        officer, station, kit.traveller(name, origin="上海", itinerary=kit.stay("上海市徐汇区"))
    )


def _plain(officer: Any, station: Any, name: str = "赵六") -> Any:
    """An arrival from nowhere listed (the rule: one pooled arrival test)."""
    return kit.register(
        officer, station, kit.traveller(name, origin="北京", itinerary=kit.stay("北京市"))
    )


def _lab(city: Any) -> tuple[Any, Any]:
    screening = build(city)
    return screening, screening.lab


def test_a_single_tube_arrival_test_is_a_closed_screening_tube_of_the_districts_round(
    officer, station, shanghai, city
):
    a = _high(officer, station)
    assert a.category == "centralised_quarantine"
    services.arrival_test_sample(actor=officer, arrival_id=a.pk, barcode="LD0001")
    tube = Tube.objects.select_related("round").get(barcode="LD0001")
    assert tube.round.target == Round.Target.ARRIVALS
    assert tube.round.scope_path == city.xiaodian.path
    assert list(tube.round.areas.all()) == [city.xiaodian]
    # A single tube: one person, closed at once, collected at the checkpoint.
    assert (tube.capacity, tube.member_count, tube.state) == (1, 1, "closed")
    assert TubeMember.objects.get(tube=tube).person_id == a.person_id
    collected = CustodyEvent.objects.get(tube=tube, stage="collected")
    assert collected.place == station.name and collected.user_id == officer.pk
    assert AuditEntry.objects.filter(action="screening.arrival_sample", object_id=tube.pk).exists()


def test_pooled_arrival_tests_share_a_tube_until_the_rule_s_pool_is_full(
    officer, station, shanghai
):
    # The rule's pool size (data) is copied onto each arrival's tests.
    Rule.objects.filter(condition="none").update(pool_size=2)
    first, second, third = (_plain(officer, station, n) for n in ("甲", "乙", "丙"))
    for a in (first, second):
        services.arrival_test_sample(actor=officer, arrival_id=a.pk, barcode="POOL1")
    tube = Tube.objects.get(barcode="POOL1")
    assert (tube.capacity, tube.member_count, tube.state) == (2, 2, "closed")
    with pytest.raises(Conflict) as exc:
        services.arrival_test_sample(actor=officer, arrival_id=third.pk, barcode="POOL1")
    assert exc.value.code == "tube_closed" and "barcode" in exc.value.fields
    # Nothing written for the refused one: its test is still due.
    assert ArrivalTest.objects.get(arrival=third).state == "due"


def test_one_round_per_district_and_a_single_test_refuses_a_used_tube(officer, station, shanghai):
    a, b = _plain(officer, station, "甲"), _high(officer, station, "乙")
    services.arrival_test_sample(actor=officer, arrival_id=a.pk, barcode="POOL2")
    facts = Fact.objects.count()
    with pytest.raises(Conflict) as exc:
        services.arrival_test_sample(actor=officer, arrival_id=b.pk, barcode="POOL2")
    assert exc.value.code == "single_tube"
    assert Fact.objects.count() == facts
    services.arrival_test_sample(actor=officer, arrival_id=b.pk, barcode="SOLO2")
    assert Round.objects.filter(target=Round.Target.ARRIVALS).count() == 1


def test_a_tube_of_another_screening_round_is_refused_with_nothing_written(
    officer, station, shanghai, city
):
    screening = build(city)
    sampling.tube_open(
        actor=screening.sampler, round_id=screening.round.pk, barcode="MASS1", capacity=5
    )
    a = _plain(officer, station)
    with pytest.raises(Conflict) as exc:
        services.arrival_test_sample(actor=officer, arrival_id=a.pk, barcode="MASS1")
    assert exc.value.code == "barcode_used"
    assert ArrivalTest.objects.get(arrival=a).state == "due"
    assert not TubeMember.objects.filter(person_id=a.person_id).exists()


def test_the_same_sample_delivered_twice_files_it_once(officer, station, shanghai):
    from fangkong.screening.listeners import on_arrival_sampled

    a = _high(officer, station)
    services.arrival_test_sample(actor=officer, arrival_id=a.pk, barcode="TWICE")
    fact = Fact.objects.get(name="arrival.sampled")
    on_arrival_sampled(**{**fact.payload, "actor": None})
    tube = Tube.objects.get(barcode="TWICE")
    assert (tube.member_count, TubeMember.objects.filter(tube=tube).count()) == (1, 1)


def test_a_positive_arrival_test_comes_back_to_the_arrival_and_opens_a_suspected_case(
    officer, station, shanghai, city
):
    screening, lab = _lab(city)
    a = _high(officer, station)
    services.arrival_test_sample(actor=officer, arrival_id=a.pk, barcode="LD0009")
    tube = Tube.objects.get(barcode="LD0009")
    custody.box_pack(
        actor=screening.sampler, round_id=tube.round_id, barcode="BOX9", tube_barcodes=["LD0009"]
    )
    custody.box_hand_over(actor=screening.sampler, barcode="BOX9", place="太原南站")
    custody.box_receive(actor=screening.labtech, lab_id=lab.pk, barcode="BOX9")
    results.results_import(
        actor=screening.labtech,
        lab_id=lab.pk,
        rows=[{"tube": "LD0009", "result": "positive", "ct_values": {"N": 28}}],
    )
    first = series_of([a])[a.pk][0]
    assert (first.done, first.barcode, first.result, first.positive) == (
        True,
        "LD0009",
        "positive",
        True,
    )
    # The single-tube positive follows screening's path: a suspected case is opened.
    assert Case.objects.filter(person_id=a.person_id, external_ref="tube:LD0009").exists()


def test_later_tests_are_done_by_a_sample_at_any_site_on_or_after_their_day(
    officer, station, shanghai, city
):
    screening = build(city)
    a = _high(officer, station)
    services.arrival_test_sample(actor=officer, arrival_id=a.pk, barcode="LD0100")
    tests = series_of([a])[a.pk]
    assert [t.done for t in tests] == [True] + [False] * (len(tests) - 1)
    # Sampled in the city's mass screening the next day: the second test is done.
    second_day = tests[1].due_on
    at = timezone.make_aware(dt.datetime.combine(second_day, dt.time(9, 30)))
    sampling.tube_open(
        actor=screening.sampler, round_id=screening.round.pk, barcode="MASS7", capacity=5
    )
    sampling.tube_scan(
        actor=screening.sampler,
        barcode="MASS7",
        person_token=person_token(a.person_id),
        scanned_at=at,
    )
    later = series_of([a], today=second_day)[a.pk]
    assert [t.done for t in later[:3]] == [True, True, False]
    assert later[1].barcode == "MASS7" and later[1].sampled_on == second_day
    assert later[2].overdue is False
    # Seen from the day after the third test's day, it is overdue.
    after = series_of([a], today=later[2].due_on + dt.timedelta(days=1))[a.pk]
    assert after[2].overdue and not after[2].done


def test_a_sample_before_a_test_s_day_does_not_count_for_it(officer, station, shanghai, city):
    screening = build(city)
    a = _high(officer, station)
    services.arrival_test_sample(actor=officer, arrival_id=a.pk, barcode="LD0200")
    sampling.tube_open(
        actor=screening.sampler, round_id=screening.round.pk, barcode="MASS8", capacity=5
    )
    sampling.tube_scan(
        actor=screening.sampler, barcode="MASS8", person_token=person_token(a.person_id)
    )
    tests = series_of([a])[a.pk]
    # Sampled today again: the arrival test took today's checkpoint tube; the second
    # test (due tomorrow or later) is not done by today's sample.
    assert tests[1].due_on > timezone.localdate()
    assert not tests[1].done


def test_arrival_test_rounds_have_no_untested_and_are_not_made_by_hand(
    officer, station, shanghai, city
):
    a = _high(officer, station)
    services.arrival_test_sample(actor=officer, arrival_id=a.pk, barcode="LD0300")
    rnd = Round.objects.get(target=Round.Target.ARRIVALS)
    manager = make_staff("scrmanager", city.city, "city_commander")
    rows = coverage.coverage(manager, rnd, level="district")
    xd = next(r for r in rows if r.node_id == city.xiaodian.pk)
    assert (xd.expected, xd.sampled) == (1, 1)
    assert not coverage.untested_for(manager, rnd, city.xd_grid).exists()
    assert all(b.round_id != rnd.pk for b in open_round_boards("", timezone.now()))
    with pytest.raises(ValidationFailed) as exc:
        rounds.round_create(
            actor=manager,
            name="手工",
            area_ids=[city.xiaodian.pk],
            starts_at=timezone.now(),
            ends_at=timezone.now() + dt.timedelta(days=1),
            pooling_ratio=10,
            target=Round.Target.ARRIVALS,
        )
    assert "target" in exc.value.fields


def test_an_officer_of_another_district_cannot_sample_the_arrival(
    officer, yz_officer, station, shanghai
):
    a = _plain(officer, station)
    with pytest.raises(NotFound):
        services.arrival_test_sample(actor=yz_officer, arrival_id=a.pk, barcode="X1")
    assert not Tube.objects.filter(barcode="X1").exists()


def test_the_arrival_test_round_page_says_what_it_is_and_offers_no_untested_list(
    officer, station, shanghai, city
):
    from fangkong.conftest import client_for

    a = _high(officer, station)
    services.arrival_test_sample(actor=officer, arrival_id=a.pk, barcode="LD0400")
    rnd = Round.objects.get(target=Round.Target.ARRIVALS)
    manager = make_staff("scrmanager", city.city, "city_commander")
    page = client_for(manager).get(f"/screening/rounds/{rnd.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "本轮没有未检人员" in text  # (the staff pages speak Chinese by default)
    assert "/untested/" not in text
