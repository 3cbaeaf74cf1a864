"""The dashboard's cached case cells equal brute-force counts over the same cases,
whatever the order of facts (created, classified, excluded), repeated deliveries
and a rebuild."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.conftest import make_person
from fangkong.core.errors import ValidationFailed
from fangkong.headquarters.models import CaseDayFigure
from fangkong.headquarters.selectors.dashboard import case_series
from fangkong.headquarters.services.aggregates import (
    DISTRICT_PATH,
    case_figures_rebuild,
    on_case_fact,
)
from fangkong.investigation.models import Case
from fangkong.investigation.services.cases import case_classify
from fangkong.investigation.tests.casekit import new_case

pytestmark = pytest.mark.django_db

STEP = st.tuples(
    st.sampled_from(["xd", "yz"]),
    st.integers(min_value=0, max_value=4),  # days ago
    st.sampled_from(["confirmed", "asymptomatic", "suspected"]),
    # A later classification (asymptomatic → confirmed publishes case.reclassified).
    st.sampled_from([None, "confirmed", "excluded"]),
    st.booleans(),  # the fact delivered a second time
)


def _brute() -> dict[tuple[str, dt.date, str], int]:
    out: dict[tuple[str, dt.date, str], int] = {}
    for c in Case.objects.filter(
        classification__in=["confirmed", "asymptomatic"], report_date__isnull=False
    ):
        assert c.report_date is not None
        key = (c.scope_path[:DISTRICT_PATH], c.report_date, c.classification)
        out[key] = out.get(key, 0) + 1
    return out


def _cached() -> dict[tuple[str, dt.date, str], int]:
    return {
        (f.area_path, f.day, f.classification): f.n for f in CaseDayFigure.objects.filter(n__gt=0)
    }


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(STEP, min_size=1, max_size=6))
def test_cached_cells_equal_brute_force_counts(city, commander, steps):
    sid = transaction.savepoint()
    try:
        today = timezone.localdate()
        for where, ago, cls, later, again in steps:
            home = city.xd_building if where == "xd" else city.yz_building
            day = today - dt.timedelta(days=ago)
            case = new_case(
                commander,
                make_person(home),
                classification=cls,
                reported=day,
                positive=day,
                onset=day,
            )
            if again:
                on_case_fact(case_id=case.pk)
            if later and later != cls:
                with contextlib.suppress(ValidationFailed):  # a transition the rules refuse
                    case_classify(
                        actor=commander, case_id=case.pk, classification=later, reason="复核"
                    )
        assert _cached() == _brute()
        series = case_series(city.city.path, today)
        assert sum(sum(s) for s in series["series"].values()) == sum(
            n for (a, d, c), n in _brute().items() if d > today - dt.timedelta(days=14)
        )
        case_figures_rebuild(today=today)
        assert _cached() == _brute()
    finally:
        transaction.savepoint_rollback(sid)


def test_an_asymptomatic_case_confirmed_later_moves_its_cell_at_once(city, commander):
    today = timezone.localdate()
    case = new_case(
        commander,
        make_person(city.xd_building),
        classification="asymptomatic",
        reported=today,
        positive=today,
        onset=today,
    )
    area = case.scope_path[:DISTRICT_PATH]

    def cell(cls: str) -> int:
        row = CaseDayFigure.objects.filter(area_path=area, day=today, classification=cls).first()
        return row.n if row else 0

    assert (cell("asymptomatic"), cell("confirmed")) == (1, 0)
    case_classify(actor=commander, case_id=case.pk, classification="confirmed", reason="复核")
    assert (cell("asymptomatic"), cell("confirmed")) == (0, 1)
    series = case_series(city.city.path, today)
    assert series["series"]["confirmed"][-1] == 1
    assert series["series"]["asymptomatic"][-1] == 0
