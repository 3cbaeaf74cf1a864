import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.conftest import make_person, make_staff
from fangkong.core.models import Person
from fangkong.screening.models import Exclusion, Tube, TubeMember
from fangkong.screening.selectors.coverage import coverage, untested_rows
from fangkong.screening.services import rounds as round_services
from fangkong.screening.tests.kit import build


@pytest.fixture
def kit(city: Any) -> Any:
    return build(city)


# Each person: (building index 0..2, tubes: list of result codes or None = not sampled, excluded)
person_st = st.tuples(
    st.integers(0, 2),
    st.lists(st.sampled_from(["", "negative", "positive", "invalid"]), max_size=2),
    st.sampled_from([None, "away", "hospital"]),
)


# Small areas count first links per tube, large ones in one join on PostgreSQL (in two
# steps with the round's tube results read whole on SQLite): all are checked.
@pytest.mark.parametrize("two_step_limit", [0, 10**9], ids=["large area", "small area"])
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(population=st.lists(person_st, max_size=14))
def test_coverage_matches_a_brute_force_count(
    kit: Any, monkeypatch: Any, two_step_limit: int, population: list[Any]
) -> None:
    from fangkong.screening.selectors import coverage as coverage_module

    monkeypatch.setattr(coverage_module, "TWO_STEP_LIMIT", two_step_limit)
    monkeypatch.setattr(coverage_module, "TUBES_BY_ID", two_step_limit)
    TubeMember.objects.all().delete()
    Tube.objects.all().delete()
    Exclusion.objects.all().delete()
    Person.objects.all().delete()
    buildings = [kit.city.xd_building, kit.city.xd_building2, kit.city.yz_building]
    now = timezone.now()
    truth: dict[str, dict[str, int]] = {}
    for n, (b, tubes, excluded) in enumerate(population):
        p = make_person(buildings[b], name=f"P{n}")
        grid = buildings[b].path[:24]
        t = truth.setdefault(
            grid,
            {
                "target": 0,
                "sampled": 0,
                "negative": 0,
                "positive": 0,
                "excluded": 0,
                "with_result": 0,
            },
        )
        t["target"] += 1
        if excluded:
            Exclusion.objects.create(
                round=kit.round, person=p, reason=excluded, person_scope_path=p.scope_path
            )
            t["excluded"] += 1
        for k, result in enumerate(tubes):
            tube = Tube.objects.create(
                barcode=f"H{n}-{k}", round=kit.round, capacity=10, result=result, member_count=1
            )
            TubeMember.objects.create(
                tube=tube,
                round=kit.round,
                person=p,
                person_scope_path=p.scope_path,
                sampled_at=now,
                repeat=k > 0,
            )
        results = set(tubes)
        if tubes:
            t["sampled"] += 1
        t["negative"] += "negative" in results
        t["positive"] += "positive" in results
        t["with_result"] += bool(results & {"negative", "positive"})
    rows = {r.path: r for r in coverage(kit.manager, kit.round, level="grid")}
    for grid, t in truth.items():
        row = rows[grid]
        assert (
            row.target,
            row.sampled,
            row.negative,
            row.positive,
            row.excluded,
            row.with_result,
        ) == (
            t["target"],
            t["sampled"],
            t["negative"],
            t["positive"],
            t["excluded"],
            t["with_result"],
        )
        expected = max(t["target"] - t["excluded"], 0)
        assert row.coverage == (
            round(min(100.0, 100.0 * t["sampled"] / expected), 1)
            if expected
            else (100.0 if t["sampled"] else 0.0)
        )
    district = {r.path: r for r in coverage(kit.manager, kit.round, level="district")}
    assert sum(r.target for r in district.values()) == len(population)


def test_a_district_officer_sees_only_their_district(kit: Any) -> None:
    make_person(kit.city.xd_building)
    make_person(kit.city.yz_building)
    officer = make_staff("xd", kit.city.xiaodian, "district_officer")
    rows = coverage(officer, kit.round, level="district")
    assert [r.path for r in rows] == [kit.city.xiaodian.path]
    assert rows[0].target == 1


def test_the_untested_list_masks_phones_and_flags_limited_mobility(kit: Any) -> None:
    make_person(kit.city.xd_building, name="王五", phone="13800138000", limited_mobility=True)
    gw = make_staff("gw", kit.city.xd_grid, "grid_worker")
    rows = untested_rows(gw, kit.round, kit.city.xd_grid)
    assert rows[0]["name"] == "王五" and rows[0]["limited_mobility"]
    assert rows[0]["phone"] != "+8613800138000" and "*" in rows[0]["phone"]


def test_exclusions_are_audited_and_leave_the_untested_list(kit: Any) -> None:
    from fangkong.core.models import AuditEntry

    p = make_person(kit.city.xd_building)
    round_services.exclusion_add(
        actor=kit.manager, round_id=kit.round.pk, person_id=p.pk, reason="hospital", note="住院"
    )
    assert AuditEntry.objects.filter(action="screening.exclusion.add", person_id=p.pk).exists()
    assert untested_rows(kit.manager, kit.round, kit.city.xd_grid) == []


def test_reminders_go_once_per_person_and_round(kit: Any) -> None:
    from fangkong.notify.models import Message
    from fangkong.screening.services.reminders import reminders_send

    for i in range(3):
        make_person(kit.city.xd_building, name=f"R{i}", phone=f"1380013800{i}")
    first = reminders_send(actor=kit.manager, round_id=kit.round.pk, node_id=kit.city.xd_grid.pk)
    assert Message.objects.filter(batch=first).count() == 3
    second = reminders_send(actor=kit.manager, round_id=kit.round.pk, node_id=kit.city.xd_grid.pk)
    assert Message.objects.filter(batch=second).exclude(status="skipped").count() == 0 or (
        Message.objects.filter(purpose="screening_reminder").count() == 3
    )


def test_overdue_schedule_people_get_a_reminder_then_a_status_reason(kit: Any) -> None:
    from fangkong.screening.services.schedules import schedules_sweep
    from fangkong.status.models import Reason

    p = make_person(kit.city.xd_building, key_groups=["cold_chain"], phone="13800138009")
    now = timezone.now()
    first = schedules_sweep(now=now)
    assert first["reminded"] == 1 and first["granted"] == 0
    later = schedules_sweep(now=now + dt.timedelta(hours=13))
    assert later["granted"] == 1
    assert Reason.objects.filter(person=p, kind="overdue_screening").count() == 1
    assert schedules_sweep(now=now + dt.timedelta(hours=14))["granted"] == 0


def test_a_person_sampled_twice_counts_once_with_the_later_result(kit: Any) -> None:
    from fangkong.core.signing import person_token
    from fangkong.screening.services import sampling

    p = make_person(kit.city.xd_building)
    for code in ("A", "B"):
        sampling.tube_open(
            actor=kit.sampler, round_id=kit.round.pk, barcode=code, site_id=kit.site.pk
        )
        sampling.tube_scan(actor=kit.sampler, barcode=code, person_token=person_token(p.pk))
    assert list(TubeMember.objects.order_by("pk").values_list("repeat", flat=True)) == [False, True]
    Tube.objects.filter(barcode="A").update(result="invalid")
    Tube.objects.filter(barcode="B").update(result="negative")
    (row,) = [r for r in coverage(kit.manager, kit.round, level="grid") if r.target]
    assert (row.sampled, row.with_result, row.negative) == (1, 1, 1)


def test_merged_duplicates_are_not_in_the_target(kit: Any) -> None:
    keep = make_person(kit.city.xd_building)
    dup = make_person(kit.city.xd_building)
    Person.objects.filter(pk=dup.pk).update(merged_into=keep)
    rows = [r for r in coverage(kit.manager, kit.round, level="grid") if r.target]
    assert [r.target for r in rows] == [1]
