"""API: diseases, cases, trajectory stops."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from fangkong.conftest import client_for, make_person
from fangkong.core.models import AuditEntry
from fangkong.investigation.models import Case, TrajectoryStop, Venue
from fangkong.investigation.tests.casekit import days_ago, new_case

J = "application/json"


@pytest.fixture
def case(city: Any, investigator: Any) -> Case:
    return new_case(investigator, make_person(city.xd_building), classification="suspected")


def _iso(d: dt.date) -> str:
    return d.isoformat()


def test_it_lists_diseases_and_rule_versions(investigator: Any) -> None:
    c = client_for(investigator)
    codes = [d["code"] for d in c.get("/api/v1/diseases").json()]
    assert codes == ["covid19", "measles"]
    rules = c.get("/api/v1/diseases/covid19/rules").json()
    assert rules[0]["close_contact_monitoring_days"] == 8
    assert c.get("/api/v1/diseases/nope/rules").status_code == 404


# --- create ----------------------------------------------------------------------


def test_it_creates_a_case(city: Any, investigator: Any) -> None:
    person = make_person(city.xd_building)
    r = client_for(investigator).post(
        "/api/v1/cases",
        {
            "person_id": person.pk,
            "classification": "confirmed",
            "report_date": _iso(days_ago(0)),
            "onset_date": _iso(days_ago(1)),
            "found_by": "fever_clinic",
            "treatment_facility": "designated_hospital",
        },
        content_type=J,
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["number"] == f"140100-{days_ago(0).year}-00001"
    assert body["rules_version"] == 1
    assert body["person_name"] == person.name


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"classification": "cured"}, "classification"),
        ({"report_date": "yesterday"}, "report_date"),
        ({"onset_date": _iso(days_ago(-3))}, "onset_date"),
        ({"disease_code": "ebola-x"}, "disease_code"),
        ({"classification": "excluded"}, "classification"),
    ],
)
def test_case_create_refuses_bad_input_naming_the_field(
    city: Any, investigator: Any, change: dict[str, Any], field: str
) -> None:
    payload = {
        "person_id": make_person(city.xd_building).pk,
        "classification": "confirmed",
        "report_date": _iso(days_ago(0)),
        "found_by": "screening",
        **change,
    }
    r = client_for(investigator).post("/api/v1/cases", payload, content_type=J)
    assert r.status_code == 400
    assert field in r.json()["error"]["fields"]
    assert not Case.objects.exists()


def test_case_create_for_a_person_of_another_district_is_404(city: Any, investigator: Any) -> None:
    payload = {
        "person_id": make_person(city.yz_building).pk,
        "classification": "confirmed",
        "report_date": _iso(days_ago(0)),
        "found_by": "screening",
    }
    r = client_for(investigator).post("/api/v1/cases", payload, content_type=J)
    assert r.status_code == 404
    assert not Case.objects.exists()


# --- list and detail -------------------------------------------------------------


def test_it_lists_and_filters_cases(
    city: Any, investigator: Any, commander: Any, yingze_officer: Any, case: Case
) -> None:
    other = new_case(commander, make_person(city.yz_building))
    c = client_for(commander)
    assert {x["id"] for x in c.get("/api/v1/cases").json()["items"]} == {case.pk, other.pk}
    r = c.get(f"/api/v1/cases?jurisdiction_id={city.xiaodian.pk}&classification=suspected")
    assert [x["id"] for x in r.json()["items"]] == [case.pk]
    mine = client_for(investigator).get("/api/v1/cases").json()
    assert [x["id"] for x in mine["items"]] == [case.pk]
    assert client_for(yingze_officer).get(f"/api/v1/cases/{other.pk}").status_code == 200


def test_case_list_refuses_bad_filters(investigator: Any) -> None:
    r = client_for(investigator).get("/api/v1/cases?classification=cured")
    assert r.status_code == 400
    assert "classification" in r.json()["error"]["fields"]


def test_case_list_and_detail_of_another_district_are_404(
    city: Any, yingze_officer: Any, case: Case
) -> None:
    c = client_for(yingze_officer)
    assert c.get(f"/api/v1/cases?jurisdiction_id={city.xiaodian.pk}").status_code == 404
    assert c.get(f"/api/v1/cases/{case.pk}").status_code == 404
    assert c.get("/api/v1/cases").json()["items"] == []


# --- transitions -----------------------------------------------------------------


def test_it_classifies_a_case(investigator: Any, case: Case) -> None:
    c = client_for(investigator)
    r = c.post(f"/api/v1/cases/{case.pk}/classify", {"classification": "confirmed"}, content_type=J)
    assert r.status_code == 200
    assert r.json()["classification"] == "confirmed"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"classification": "cured"}, "classification"),
        ({"classification": "excluded"}, "reason"),
        ({"classification": "suspected"}, "classification"),
    ],
)
def test_classify_refuses_bad_input(
    investigator: Any, case: Case, payload: dict[str, Any], field: str
) -> None:
    r = client_for(investigator).post(f"/api/v1/cases/{case.pk}/classify", payload, content_type=J)
    assert r.status_code == 400
    assert field in r.json()["error"]["fields"]
    case.refresh_from_db()
    assert case.classification == "suspected"


def test_outcome_assign_status_and_release(investigator: Any, commander: Any, case: Case) -> None:
    c = client_for(investigator)
    c.post(f"/api/v1/cases/{case.pk}/classify", {"classification": "confirmed"}, content_type=J)
    r = c.post(
        f"/api/v1/cases/{case.pk}/outcome",
        {"outcome": "recovered", "outcome_date": _iso(days_ago(0))},
        content_type=J,
    )
    assert r.json()["outcome"] == "recovered"
    r = client_for(commander).post(
        f"/api/v1/cases/{case.pk}/assign", {"investigator_id": investigator.pk}, content_type=J
    )
    assert r.json()["investigator_id"] == investigator.pk
    r = c.post(
        f"/api/v1/cases/{case.pk}/investigation-status", {"status": "completed"}, content_type=J
    )
    assert r.json()["investigation_status"] == "completed"
    r = c.post(
        f"/api/v1/cases/{case.pk}/release", {"released_at": _iso(days_ago(0))}, content_type=J
    )
    assert r.json()["released_at"] == _iso(days_ago(0))


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("outcome", {"outcome": "recovered"}, "outcome_date"),
        ("outcome", {"outcome": "cured", "outcome_date": "2022-01-01"}, "outcome"),
        ("assign", {"investigator_id": 999999}, "investigator_id"),
        ("assign", {}, "investigator_id"),
        ("investigation-status", {"status": "done"}, "status"),
        ("release", {"released_at": "soon"}, "released_at"),
        ("release", {"released_at": "2022-01-01"}, "released_at"),
    ],
)
def test_case_transitions_refuse_bad_input(
    investigator: Any, case: Case, path: str, payload: dict[str, Any], field: str
) -> None:
    before = AuditEntry.objects.count()
    r = client_for(investigator).post(f"/api/v1/cases/{case.pk}/{path}", payload, content_type=J)
    assert r.status_code == 400, r.content
    assert field in r.json()["error"]["fields"]
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("classify", {"classification": "confirmed"}),
        ("outcome", {"outcome": "recovered", "outcome_date": "2022-01-01"}),
        ("assign", {"investigator_id": None}),
        ("investigation-status", {"status": "completed"}),
        ("release", {"released_at": "2022-01-01"}),
    ],
)
def test_case_transitions_in_another_district_are_404(
    yingze_officer: Any, case: Case, path: str, payload: dict[str, Any]
) -> None:
    r = client_for(yingze_officer).post(f"/api/v1/cases/{case.pk}/{path}", payload, content_type=J)
    assert r.status_code == 404
    case.refresh_from_db()
    assert case.classification == "suspected"


# --- trajectory stops ------------------------------------------------------------


def test_it_adds_and_lists_stops(city: Any, investigator: Any, case: Case) -> None:
    venue = Venue.objects.create(
        name="面馆",
        category="restaurant",
        building=city.xd_building,
        scope_path=city.xd_building.path,
    )
    now = timezone.now()
    c = client_for(investigator)
    r = c.post(
        f"/api/v1/cases/{case.pk}/stops",
        {
            "kind": "venue",
            "venue_id": venue.pk,
            "start": (now - dt.timedelta(hours=3)).isoformat(),
            "end": (now - dt.timedelta(hours=2)).isoformat(),
        },
        content_type=J,
    )
    assert r.status_code == 201, r.content
    assert r.json()["venue_name"] == "面馆"
    assert [s["id"] for s in c.get(f"/api/v1/cases/{case.pk}/stops").json()] == [r.json()["id"]]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "venue"}, "venue_id"),
        ({"kind": "boat"}, "kind"),
        ({"kind": "address", "address": "x", "end_shift": -2}, "end"),
        ({"kind": "address", "address": "x", "end_shift": 5}, "end"),
        ({"kind": "transport", "transport_mode": "rocket"}, "transport_mode"),
    ],
)
def test_stop_add_refuses_bad_input(
    investigator: Any, case: Case, payload: dict[str, Any], field: str
) -> None:
    now = timezone.now()
    shift = payload.pop("end_shift", -1)
    body = {
        "start": (now - dt.timedelta(hours=1.5)).isoformat(),
        "end": (now + dt.timedelta(hours=shift)).isoformat(),
        **payload,
    }
    r = client_for(investigator).post(f"/api/v1/cases/{case.pk}/stops", body, content_type=J)
    assert r.status_code == 400
    assert field in r.json()["error"]["fields"]
    assert not TrajectoryStop.objects.exists()


def test_stops_of_another_districts_case_are_404(yingze_officer: Any, case: Case) -> None:
    c = client_for(yingze_officer)
    now = timezone.now()
    assert c.get(f"/api/v1/cases/{case.pk}/stops").status_code == 404
    r = c.post(
        f"/api/v1/cases/{case.pk}/stops",
        {
            "kind": "address",
            "address": "x",
            "start": (now - dt.timedelta(hours=2)).isoformat(),
            "end": (now - dt.timedelta(hours=1)).isoformat(),
        },
        content_type=J,
    )
    assert r.status_code == 404
    assert not TrajectoryStop.objects.exists()


def test_a_grid_worker_may_not_see_cases(grid_worker: Any, case: Case) -> None:
    assert client_for(grid_worker).get(f"/api/v1/cases/{case.pk}").status_code == 403
