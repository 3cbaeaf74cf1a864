"""One definition of the sampling scan's rules (issue 17): ``sampling.scan_rule`` is
the Python form (the live scan's general path and the offline batch use it);
``sampling.SCAN_ONE`` is the SQL form kept for the scan's one statement on
PostgreSQL. Both run here on the same generated scans: the statement records a
scan exactly when the rule says "record it" (for a person not merged, in the
scanner's area), with the same warning, count and written link; everything else
it leaves to the general path."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.conftest import make_person, make_staff
from fangkong.core.errors import ApplicationError, Conflict, ValidationFailed
from fangkong.core.models import Person
from fangkong.core.signing import person_token
from fangkong.screening.models import Round, Tube, TubeMember
from fangkong.screening.services import rounds as round_services
from fangkong.screening.services import sampling
from fangkong.screening.tests.kit import Kit, build

pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 12, 5, 8, 0, tzinfo=dt.UTC)

scans = st.fixed_dictionaries(
    {
        "state": st.sampled_from([s.value for s in Tube.State]),
        "capacity": st.integers(1, 5),
        "others": st.integers(0, 5),  # other people in the tube (up to its capacity)
        "in_tube": st.sampled_from([None, "same time", "other time"]),
        "elsewhere_in_round": st.booleans(),  # sampled into another tube of the round
        "other_round": st.booleans(),  # sampled in another round
        "merged": st.booleans(),
        "scanner": st.sampled_from(["xiaodian", "yingze"]),  # the tube is in 小店区
    }
)


@pytest.fixture
def kit(city: Any) -> Kit:
    return build(city)


def _world(kit: Kit, other_round: Round, case: dict[str, Any]) -> tuple[Any, Person]:
    """The tube T1 and the person's earlier samples as the case says; the scanner."""
    city = kit.city
    person = make_person(city.xd_building, name="王五")
    scanner = (
        kit.sampler
        if case["scanner"] == "xiaodian"
        else make_staff("yz_sampler", city.yingze, "sampler")
    )
    place = {"site": kit.site, "scope_path": kit.site.scope_path, "opened_at": AT}
    in_tube = case["in_tube"] is not None
    others = min(case["others"], case["capacity"] - (1 if in_tube else 0))
    tube = Tube.objects.create(
        barcode="T1",
        round=kit.round,
        capacity=case["capacity"],
        member_count=max(others, 0) + (1 if in_tube else 0),
        state=case["state"],
        **place,
    )
    for i in range(max(others, 0)):
        other = make_person(city.xd_building, name=f"居民{i}")
        TubeMember.objects.create(tube=tube, round=kit.round, person=other, sampled_at=AT)
    first = True  # the person's first link of the round is not a repeat
    if case["elsewhere_in_round"]:
        t2 = Tube.objects.create(barcode="T2", round=kit.round, capacity=5, member_count=1, **place)
        TubeMember.objects.create(
            tube=t2, round=kit.round, person=person, sampled_at=AT - dt.timedelta(hours=1)
        )
        first = False
    if in_tube:
        when = AT if case["in_tube"] == "same time" else AT - dt.timedelta(minutes=5)
        TubeMember.objects.create(
            tube=tube, round=kit.round, person=person, sampled_at=when, repeat=not first
        )
    if case["other_round"]:
        t3 = Tube.objects.create(
            barcode="T3", round=other_round, capacity=5, member_count=1, **place
        )
        TubeMember.objects.create(
            tube=t3, round=other_round, person=person, sampled_at=AT - dt.timedelta(days=1)
        )
    if case["merged"]:
        into = make_person(city.xd_building, name="王五")
        Person.objects.filter(pk=person.pk).update(merged_into=into)
    return scanner, person


def _effects(person: Person) -> tuple[Any, ...]:
    tube = Tube.objects.get(barcode="T1")
    links = sorted(
        TubeMember.objects.filter(tube=tube).values_list(
            "person_id", "round_id", "person_scope_path", "sampled_at", "sampled_by_id", "repeat"
        )
    )
    return tube.member_count, tuple(links)


def _sql(scanner: Any, person: Person) -> tuple[Any, Any]:
    with transaction.atomic():
        out = sampling._scan_postgresql(scanner, "T1", person.pk, AT)
        effects = _effects(person)
        transaction.set_rollback(True)
    return out, effects


def _python(scanner: Any, person: Person) -> tuple[Any, Any]:
    with transaction.atomic(), mock.patch.object(sampling, "_scan_postgresql", return_value=None):
        try:
            out: Any = sampling.tube_scan(
                actor=scanner, barcode="T1", person_token=person_token(person.pk), scanned_at=AT
            )
        except ApplicationError as exc:
            out = exc
        effects = _effects(person)
        transaction.set_rollback(True)
    return out, effects


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL form is PostgreSQL's")
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=scans)
def test_the_sql_form_of_the_scan_rules_gives_the_pythons_answers(
    kit: Kit, case: dict[str, Any]
) -> None:
    other_round = Round.objects.filter(name="第0轮").first() or round_services.round_create(
        actor=kit.manager,
        name="第0轮",
        area_ids=[kit.city.xiaodian.pk],
        starts_at=timezone.now() - dt.timedelta(days=2),
        ends_at=timezone.now() + dt.timedelta(days=1),
        pooling_ratio=10,
        lab_ids=[kit.lab.pk],
    )
    with transaction.atomic():
        scanner, person = _world(kit, other_round, case)
        sql, sql_effects = _sql(scanner, person)
        python, python_effects = _python(scanner, person)
        transaction.set_rollback(True)
    recorded = isinstance(python, sampling.ScanOutcome) and python.added
    if case["merged"]:
        # The general path follows the merge to the person kept; the statement leaves it.
        assert sql is None, case
        return
    assert (sql is not None) == recorded, (case, python)
    if sql is not None:
        assert (sql.member_count, sql.capacity, sql.warning, sql.person_name) == (
            python.member_count,
            python.capacity,
            python.warning,
            python.person_name,
        ), case
        assert sql_effects == python_effects, case


def test_the_rule_refuses_a_closed_tube_before_a_person_twice_and_a_full_tube() -> None:
    at = AT
    assert sampling.scan_rule(state="closed", count=5, capacity=5, in_tube_at=at, at=at)
    with pytest.raises(ValidationFailed) as closed:
        sampling.scan_rule(state="closed", count=5, capacity=5, in_tube_at=None, at=at)
    assert closed.value.code == "tube_closed"
    with pytest.raises(Conflict) as twice:
        sampling.scan_rule(
            state="open", count=5, capacity=5, in_tube_at=at - dt.timedelta(1), at=at
        )
    assert twice.value.code == "person_twice"
    with pytest.raises(ValidationFailed) as full:
        sampling.scan_rule(state="open", count=5, capacity=5, in_tube_at=None, at=at, field="tube")
    assert full.value.code == "tube_full" and "tube" in full.value.fields
    assert not sampling.scan_rule(state="open", count=4, capacity=5, in_tube_at=None, at=at)
