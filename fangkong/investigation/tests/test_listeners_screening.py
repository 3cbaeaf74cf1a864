"""screening.single_tube_positive: investigation opens a suspected case once; a
second delivery reuses it; any other failure is recorded on the fact, not hidden."""

from __future__ import annotations

from typing import Any

from fangkong.conftest import make_person
from fangkong.core import events
from fangkong.core.models import Fact
from fangkong.investigation.models import Case


def _positive(person_id: int, disease_code: str = "covid19") -> int:
    return events.publish(
        "screening.single_tube_positive",
        tube_id=1,
        barcode="BT00000001",
        person_id=person_id,
        disease_code=disease_code,
        sampled_at="2026-12-03T09:30:00+08:00",
        lab_name="太原市第一检测实验室",
        actor=None,
    )


def test_a_positive_single_tube_opens_one_suspected_case(city: Any) -> None:
    person = make_person(city.xd_building)
    _positive(person.pk)
    _positive(person.pk)  # the same result reported again
    case = Case.objects.get(person=person)
    assert (case.classification, case.found_by) == ("suspected", "screening")
    assert case.external_ref == "tube:BT00000001"
    assert str(case.first_positive_date) == "2026-12-03"
    assert case.reporting_unit == "太原市第一检测实验室"
    assert not Fact.objects.exclude(last_error="").exists()


def test_an_unknown_disease_is_recorded_on_the_fact_and_opens_nothing(city: Any) -> None:
    person = make_person(city.xd_building)
    fact_id = _positive(person.pk, disease_code="no-such-disease")
    fact = Fact.objects.get(pk=fact_id)
    assert fact.delivered_at is None and fact.attempts == 1
    assert "on_single_tube_positive" in fact.last_error
    assert not Case.objects.filter(person=person).exists()
