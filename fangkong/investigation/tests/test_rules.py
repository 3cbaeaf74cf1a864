import datetime as dt
from typing import Any

import pytest

from fangkong.core.errors import NotFound, ValidationFailed
from fangkong.investigation.models import DiseaseRules
from fangkong.investigation.services.rules import (
    infectious_period_start,
    monitoring_days,
    rules_in_force,
)


def _new_version(version: int, effective: dt.date, **values: Any) -> DiseaseRules:
    base = rules_in_force("covid19", dt.date(2023, 1, 1))
    return DiseaseRules.objects.create(
        disease=base.disease,
        version=version,
        effective_from=effective,
        classifications=base.classifications,
        **values,
    )


def test_it_picks_the_version_in_force_on_the_date(db: Any) -> None:
    v2 = _new_version(2, dt.date(2022, 12, 7), close_contact_monitoring_days=5)
    assert rules_in_force("covid19", dt.date(2022, 7, 1)).version == 1
    assert rules_in_force("covid19", dt.date(2022, 12, 7)) == v2
    assert rules_in_force("covid19", dt.date(2023, 3, 1)).close_contact_monitoring_days == 5


def test_it_prefers_the_highest_version_on_the_same_day(db: Any) -> None:
    _new_version(2, dt.date(2022, 12, 7))
    v3 = _new_version(3, dt.date(2022, 12, 7))
    assert rules_in_force("covid19", dt.date(2022, 12, 8)) == v3


def test_it_refuses_a_date_before_the_first_version(db: Any) -> None:
    with pytest.raises(NotFound):
        rules_in_force("covid19", dt.date(2020, 1, 1))


def test_it_refuses_an_unknown_disease(db: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        rules_in_force("ebola-x", dt.date(2023, 1, 1))
    assert "disease_code" in exc.value.fields


def test_the_shipped_rules_give_periods_per_category(db: Any) -> None:
    covid = rules_in_force("covid19", dt.date(2023, 1, 1))
    measles = rules_in_force("measles", dt.date(2023, 1, 1))
    assert monitoring_days(covid, "close") == 8
    assert monitoring_days(covid, "secondary") == 7
    assert monitoring_days(measles, "venue_exposed") == 21


def test_infectious_period_starts_before_onset_or_first_positive_sample(db: Any) -> None:
    covid = rules_in_force("covid19", dt.date(2023, 1, 1))
    onset = dt.date(2023, 1, 10)
    sample = dt.date(2023, 1, 12)
    assert infectious_period_start(covid, onset_date=onset, first_positive_date=sample) == (
        dt.date(2023, 1, 8)
    )
    assert infectious_period_start(covid, onset_date=None, first_positive_date=sample) == (
        dt.date(2023, 1, 10)
    )
    assert infectious_period_start(covid, onset_date=None, first_positive_date=None) is None
