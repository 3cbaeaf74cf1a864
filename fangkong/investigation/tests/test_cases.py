import threading
from typing import Any

import pytest
from django.db import connection

from fangkong.conftest import make_person, make_staff
from fangkong.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from fangkong.core.models import AuditEntry
from fangkong.investigation.models import Case, CaseNumberSequence
from fangkong.investigation.services.cases import (
    case_assign,
    case_classify,
    case_numbers_allocate,
    case_release,
    case_set_investigation_status,
    case_set_outcome,
)
from fangkong.investigation.tests.casekit import days_ago, new_case


def test_it_numbers_cases_per_city_and_year(city: Any, investigator: Any) -> None:
    a = new_case(investigator, make_person(city.xd_building))
    b = new_case(investigator, make_person(city.xd_building2))
    year = days_ago(1).year
    assert a.number == f"140100-{year}-00001"
    assert b.number == f"140100-{year}-00002"
    assert a.rules.version == 1


def test_a_person_without_home_gets_the_actors_city(city: Any, investigator: Any) -> None:
    traveller = make_person(None)
    traveller.scope_path = city.xiaodian.path
    traveller.save()
    case = new_case(investigator, traveller)
    assert case.number.startswith("140100-")


def test_it_counts_each_year_separately(db: Any) -> None:
    assert case_numbers_allocate("140100", 2022) == ["140100-2022-00001"]
    assert case_numbers_allocate("140100", 2023, 2) == ["140100-2023-00001", "140100-2023-00002"]
    assert case_numbers_allocate("140200", 2022) == ["140200-2022-00001"]
    assert case_numbers_allocate("140100", 2022) == ["140100-2022-00002"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_allocations_never_share_a_number() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks need a server database (SQLite serialises writers)")
    CaseNumberSequence.objects.create(city_code="140100", year=2022)
    got: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            for _i in range(10):
                numbers = case_numbers_allocate("140100", 2022)
                with lock:
                    got.extend(numbers)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 40
    assert len(set(got)) == 40
    assert CaseNumberSequence.objects.get(city_code="140100", year=2022).last == 40


def test_it_refuses_a_classification_the_disease_does_not_have(
    city: Any, investigator: Any
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        new_case(
            investigator,
            make_person(city.xd_building),
            disease="measles",
            classification="asymptomatic",
        )
    assert "classification" in exc.value.fields
    assert not Case.objects.exists()


def test_it_refuses_future_dates_naming_the_field(city: Any, investigator: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        new_case(investigator, make_person(city.xd_building), onset=days_ago(-2))
    assert set(exc.value.fields) == {"onset_date"}


def test_an_asymptomatic_case_needs_its_first_positive_sample(city: Any, investigator: Any) -> None:
    from fangkong.investigation.services.cases import case_create

    with pytest.raises(ValidationFailed) as exc:
        case_create(
            actor=investigator,
            person_id=make_person(city.xd_building).pk,
            disease_code="covid19",
            classification="asymptomatic",
            report_date=days_ago(1),
            found_by="screening",
        )
    assert "first_positive_date" in exc.value.fields


def test_it_refuses_a_second_open_case_for_the_same_person(city: Any, investigator: Any) -> None:
    person = make_person(city.xd_building)
    new_case(investigator, person)
    with pytest.raises(Conflict):
        new_case(investigator, person)


def test_a_person_of_another_district_does_not_exist(city: Any, investigator: Any) -> None:
    with pytest.raises(NotFound):
        new_case(investigator, make_person(city.yz_building))


def test_a_grid_worker_cannot_create_cases(city: Any, grid_worker: Any) -> None:
    with pytest.raises(PermissionDenied):
        new_case(grid_worker, make_person(city.xd_building))


def test_classification_transitions_are_audited_with_before_and_after(
    city: Any, investigator: Any
) -> None:
    case = new_case(investigator, make_person(city.xd_building), classification="suspected")
    case_classify(actor=investigator, case_id=case.pk, classification="confirmed")
    entry = AuditEntry.objects.filter(action="case.classify", object_id=str(case.pk)).get()
    assert entry.changes == {"classification": ["suspected", "confirmed"]}


def test_excluded_cases_keep_their_history(city: Any, investigator: Any) -> None:
    case = new_case(investigator, make_person(city.xd_building), classification="suspected")
    with pytest.raises(ValidationFailed) as exc:
        case_classify(actor=investigator, case_id=case.pk, classification="excluded")
    assert "reason" in exc.value.fields
    case_classify(
        actor=investigator, case_id=case.pk, classification="excluded", reason="PCR negative twice"
    )
    case.refresh_from_db()
    assert case.classification == "excluded"
    assert (
        AuditEntry.objects.filter(object_id=str(case.pk), action__startswith="case.").count() == 2
    )
    with pytest.raises(ValidationFailed):
        case_classify(actor=investigator, case_id=case.pk, classification="confirmed")


def test_a_confirmed_case_cannot_go_back_to_suspected(city: Any, investigator: Any) -> None:
    case = new_case(investigator, make_person(city.xd_building))
    with pytest.raises(ValidationFailed) as exc:
        case_classify(actor=investigator, case_id=case.pk, classification="suspected")
    assert "classification" in exc.value.fields


def test_outcome_needs_a_date_not_before_the_report(city: Any, investigator: Any) -> None:
    case = new_case(investigator, make_person(city.xd_building))
    with pytest.raises(ValidationFailed) as exc:
        case_set_outcome(actor=investigator, case_id=case.pk, outcome="recovered")
    assert "outcome_date" in exc.value.fields
    with pytest.raises(ValidationFailed):
        case_set_outcome(
            actor=investigator, case_id=case.pk, outcome="recovered", outcome_date=days_ago(5)
        )
    case_set_outcome(
        actor=investigator, case_id=case.pk, outcome="recovered", outcome_date=days_ago(0)
    )
    case.refresh_from_db()
    assert case.outcome == "recovered"


def test_it_assigns_only_investigators_who_can_see_the_case(
    city: Any, investigator: Any, commander: Any
) -> None:
    case = new_case(investigator, make_person(city.xd_building))
    other = make_staff("yz_investigator", city.yingze, "investigator")
    gw = make_staff("gw2", city.xd_grid, "grid_worker")
    for user in (other, gw):
        with pytest.raises(ValidationFailed) as exc:
            case_assign(actor=commander, case_id=case.pk, investigator_id=user.pk)
        assert "investigator_id" in exc.value.fields
    case_assign(actor=commander, case_id=case.pk, investigator_id=investigator.pk)
    case_set_investigation_status(actor=investigator, case_id=case.pk, status="in_progress")
    case.refresh_from_db()
    assert case.investigator == investigator
    assert case.investigation_status == "in_progress"


def test_only_infected_cases_are_released(city: Any, investigator: Any) -> None:
    case = new_case(investigator, make_person(city.xd_building), classification="suspected")
    with pytest.raises(ValidationFailed):
        case_release(actor=investigator, case_id=case.pk, released_at=days_ago(0))
    case_classify(actor=investigator, case_id=case.pk, classification="confirmed")
    case_release(actor=investigator, case_id=case.pk, released_at=days_ago(0))
    with pytest.raises(Conflict):
        case_release(actor=investigator, case_id=case.pk, released_at=days_ago(0))
