from typing import Any

import pytest

from fangkong.conftest import make_person, make_staff
from fangkong.core.errors import NotFound, ValidationFailed
from fangkong.investigation.models import Case, Contact, FollowUp
from fangkong.investigation.selectors.followup import followup_list_for
from fangkong.investigation.services.followup import (
    followup_generate_daily,
    followup_record,
    followup_team_create,
    followup_team_update,
)
from fangkong.investigation.tests.casekit import days_ago, new_case, new_contact


@pytest.fixture
def case(city: Any, investigator: Any) -> Any:
    return new_case(investigator, make_person(city.xd_building))


def _contacts(investigator: Any, case: Any, home: Any, n: int) -> list[Contact]:
    return [new_contact(investigator, make_person(home), case=case) for _i in range(n)]


def test_it_gives_each_contact_one_follow_up_a_day_idempotently(
    city: Any, investigator: Any, xiaodian_officer: Any, case: Any
) -> None:
    followup_team_create(actor=xiaodian_officer, name="坞城随访组", jurisdiction_id=city.xd_grid.pk)
    _contacts(investigator, case, city.xd_building2, 3)
    assert followup_generate_daily() == 3
    assert followup_generate_daily() == 0
    assert FollowUp.objects.filter(date=days_ago(0)).count() == 3
    assert followup_generate_daily(days_ago(-1)) == 3


def test_it_assigns_the_team_of_the_deepest_node_and_balances_load(
    city: Any, investigator: Any, xiaodian_officer: Any, case: Any
) -> None:
    district = followup_team_create(
        actor=xiaodian_officer, name="区随访组", jurisdiction_id=city.xiaodian.pk
    )
    a = followup_team_create(actor=xiaodian_officer, name="A组", jurisdiction_id=city.xd_grid.pk)
    b = followup_team_create(actor=xiaodian_officer, name="B组", jurisdiction_id=city.xd_grid.pk)
    _contacts(investigator, case, city.xd_building2, 5)
    followup_generate_daily()
    counts = {t: FollowUp.objects.filter(team=t).count() for t in (district, a, b)}
    assert counts[district] == 0
    assert sorted([counts[a], counts[b]]) == [2, 3]


def test_inactive_teams_get_nothing(
    city: Any, investigator: Any, xiaodian_officer: Any, case: Any
) -> None:
    district = followup_team_create(
        actor=xiaodian_officer, name="区随访组", jurisdiction_id=city.xiaodian.pk
    )
    grid = followup_team_create(actor=xiaodian_officer, name="A组", jurisdiction_id=city.xd_grid.pk)
    followup_team_update(actor=xiaodian_officer, team_id=grid.pk, active=False)
    _contacts(investigator, case, city.xd_building2, 2)
    followup_generate_daily()
    assert FollowUp.objects.filter(team=district).count() == 2


def test_it_completes_contacts_whose_monitoring_has_ended(
    city: Any, investigator: Any, case: Any
) -> None:
    ended = new_contact(
        investigator,
        make_person(city.xd_building2),
        case=case,
        first=days_ago(20),
        last=days_ago(10),
    )
    running = new_contact(investigator, make_person(city.xd_building2), case=case)
    assert followup_generate_daily() == 1
    ended.refresh_from_db()
    running.refresh_from_db()
    assert ended.status == "completed"
    assert running.status == "monitoring"


def test_seen_with_symptoms_opens_a_suspected_case(
    city: Any, investigator: Any, grid_worker: Any, xiaodian_officer: Any, case: Any
) -> None:
    team = followup_team_create(
        actor=xiaodian_officer,
        name="坞城随访组",
        jurisdiction_id=city.xd_grid.pk,
        member_ids=[grid_worker.pk],
    )
    contact = new_contact(investigator, make_person(city.xd_building2), case=case)
    followup_generate_daily()
    fu = followup_list_for(grid_worker, mine=True).get()
    assert fu.team == team
    with pytest.raises(ValidationFailed) as exc:
        followup_record(actor=grid_worker, followup_id=fu.pk, status="seen_with_symptoms")
    assert "symptoms" in exc.value.fields
    fu = followup_record(
        actor=grid_worker,
        followup_id=fu.pk,
        status="seen_with_symptoms",
        symptoms=["fever", "cough"],
        temperature="38.2",
    )
    opened = fu.opened_case  # type: ignore[attr-defined]
    assert opened.classification == "suspected"
    assert opened.found_by == "contact_monitoring"
    assert opened.source_contact_id == contact.pk
    source_cluster = Case.objects.get(pk=case.pk).cluster_id
    assert source_cluster is not None
    assert opened.cluster_id == source_cluster
    contact.refresh_from_db()
    assert contact.status == "monitoring"


def test_it_refuses_an_implausible_temperature(
    city: Any, investigator: Any, grid_worker: Any, case: Any
) -> None:
    new_contact(investigator, make_person(city.xd_building2), case=case)
    followup_generate_daily()
    fu = FollowUp.objects.get()
    with pytest.raises(ValidationFailed) as exc:
        followup_record(actor=grid_worker, followup_id=fu.pk, status="seen_well", temperature="55")
    assert "temperature" in exc.value.fields
    followup_record(actor=grid_worker, followup_id=fu.pk, status="seen_well", temperature="36.6")
    fu.refresh_from_db()
    assert str(fu.temperature) == "36.6"


def test_a_follow_up_of_another_district_does_not_exist(
    city: Any, investigator: Any, case: Any
) -> None:
    new_contact(investigator, make_person(city.xd_building2), case=case)
    followup_generate_daily()
    fu = FollowUp.objects.get()
    other = make_staff("yz_gw", city.yz_grid, "grid_worker")
    with pytest.raises(NotFound):
        followup_record(actor=other, followup_id=fu.pk, status="seen_well")
