"""Line-list cases imported without their date: flagged, completed through the
service (API), possible sources shown; the chain and cluster figures in the API
scoped to the user's area."""

from typing import Any

import pytest

from fangkong.conftest import client_for
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.models import AuditEntry
from fangkong.investigation.models import Case, Contact
from fangkong.investigation.selectors.shared import case_report_dates_since
from fangkong.investigation.services.cases import case_complete_report_date
from fangkong.investigation.services.linelist import linelist_import
from fangkong.investigation.tests.casekit import days_ago

J = "application/json"
LIST = (
    b"id,confirmed_date,onset_date,infected_by,cluster\n"
    b"A001,2022-10-01,,,Night market\n"
    b"A002,2022-10-03,,A001,\n"
    b"A003,,2022-10-02,A002;A001,\n"  # no confirmation date, two infectors
)


@pytest.fixture
def imported(city: Any, xiaodian_officer: Any) -> Case:
    report = linelist_import(actor=xiaodian_officer, data=LIST, fmt="generic")
    assert (report.cases_imported, report.to_complete) == (3, 1)
    assert [w["kind"] for w in report.warnings] == ["missing_date", "multiple_infectors"]
    assert report.errors == []
    return Case.objects.get(external_ref="A003")


def test_an_undated_row_imports_flagged_and_outside_every_curve(imported: Case) -> None:
    assert imported.needs_completion and imported.report_date is None
    assert imported.number.startswith("140100-2022-")  # numbered in the onset's year
    assert len(case_report_dates_since(days_ago(0).replace(2022, 1, 1))) == 2  # not A003
    # Its two infectors: A002 the source, A001 a possible source.
    assert imported.source_contact is not None
    assert imported.source_contact.source_case.external_ref == "A002"  # type: ignore[union-attr]
    possible = Contact.objects.get(person_id=imported.person_id, possible_source=True)
    assert possible.source_case.external_ref == "A001"  # type: ignore[union-attr]


def test_completing_the_date_clears_the_flag_once_with_an_audit_entry(
    imported: Case, xiaodian_officer: Any
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        case_complete_report_date(
            actor=xiaodian_officer, case_id=imported.pk, report_date=days_ago(-2)
        )
    assert "report_date" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:  # onset 2022-10-02 is after it
        case_complete_report_date(
            actor=xiaodian_officer, case_id=imported.pk, report_date=days_ago(0).replace(2022, 9)
        )
    assert "report_date" in exc.value.fields
    case = case_complete_report_date(
        actor=xiaodian_officer, case_id=imported.pk, report_date=days_ago(0).replace(2022, 10, 4)
    )
    assert (case.needs_completion, str(case.report_date)) == (False, "2022-10-04")
    assert AuditEntry.objects.filter(action="case.complete_date", object_id=str(case.pk)).exists()
    with pytest.raises(Conflict):
        case_complete_report_date(
            actor=xiaodian_officer, case_id=imported.pk, report_date=days_ago(0)
        )


def test_the_api_completes_the_date_refuses_bad_input_and_other_districts(
    imported: Case, xiaodian_officer: Any, yingze_officer: Any
) -> None:
    c = client_for(xiaodian_officer)
    url = f"/api/v1/cases/{imported.pk}/report-date"
    body = c.get(f"/api/v1/cases/{imported.pk}").json()
    assert (body["report_date"], body["needs_completion"]) == (None, True)
    r = c.post(url, {"report_date": "someday"}, content_type=J)
    assert r.status_code == 400 and "report_date" in r.json()["error"]["fields"]
    r = c.post(
        url, {"report_date": "2022-10-04", "first_positive_date": "2022-10-05"}, content_type=J
    )
    assert r.status_code == 400 and "first_positive_date" in r.json()["error"]["fields"]
    assert (
        client_for(yingze_officer)
        .post(url, {"report_date": "2022-10-04"}, content_type=J)
        .status_code
        == 404
    )
    r = c.post(url, {"report_date": "2022-10-04"}, content_type=J)
    assert r.status_code == 200
    assert (r.json()["report_date"], r.json()["needs_completion"]) == ("2022-10-04", False)


def test_chain_and_cluster_figures_are_scoped_to_the_users_area(
    imported: Case, xiaodian_officer: Any, yingze_officer: Any
) -> None:
    mine = client_for(xiaodian_officer).get("/api/v1/clusters/figures").json()
    assert mine == {
        "chains": {"count": 1, "largest": 3},
        "clusters": {"count": 1, "largest": 3, "named": 1},
    }
    theirs = client_for(yingze_officer).get("/api/v1/clusters/figures").json()
    assert theirs == {
        "chains": {"count": 0, "largest": 0},
        "clusters": {"count": 0, "largest": 0, "named": 0},
    }


def test_the_service_refuses_a_case_of_another_district(
    imported: Case, yingze_officer: Any
) -> None:
    with pytest.raises(NotFound):
        case_complete_report_date(
            actor=yingze_officer, case_id=imported.pk, report_date=days_ago(0)
        )
