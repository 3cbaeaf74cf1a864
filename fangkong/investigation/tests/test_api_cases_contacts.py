"""API: contacts, follow-ups and follow-up teams."""

import datetime as dt
from typing import Any

import pytest

from fangkong.conftest import client_for, make_person
from fangkong.investigation.models import Case, Contact, FollowUp, FollowUpTeam
from fangkong.investigation.services.followup import followup_generate_daily, followup_team_create
from fangkong.investigation.tests.casekit import days_ago, new_case, new_contact

J = "application/json"


@pytest.fixture
def case(city: Any, investigator: Any) -> Case:
    return new_case(investigator, make_person(city.xd_building), onset=days_ago(3))


@pytest.fixture
def contact(city: Any, investigator: Any, case: Case) -> Contact:
    return new_contact(investigator, make_person(city.xd_building2, name="李四"), case=case)


def _payload(case: Case, person_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "source_case_id": case.pk,
        "person_id": person_id,
        "exposure_type": "household",
        "first_exposure": days_ago(3).isoformat(),
        "last_exposure": days_ago(2).isoformat(),
        **extra,
    }


# --- contacts --------------------------------------------------------------------


def test_it_creates_a_contact(city: Any, investigator: Any, case: Case) -> None:
    person = make_person(city.xd_building2)
    r = client_for(investigator).post(
        "/api/v1/contacts", _payload(case, person.pk, relation="spouse"), content_type=J
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["category"], body["status"], body["relation"]) == ("close", "monitoring", "spouse")
    assert body["monitoring_end"] == (days_ago(2) + dt.timedelta(days=8)).isoformat()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"exposure_type": "telepathy"}, "exposure_type"),
        ({"last_exposure": days_ago(-1).isoformat()}, "last_exposure"),
        ({"first_exposure": days_ago(1).isoformat()}, "last_exposure"),
        ({"category": "secondary"}, "category"),
        ({"source_case_id": None}, "source_case_id"),
        ({"person_id": "abc"}, "person_id"),
    ],
)
def test_contact_create_refuses_bad_input(
    city: Any, investigator: Any, case: Case, change: dict[str, Any], field: str
) -> None:
    person = make_person(city.xd_building2)
    r = client_for(investigator).post(
        "/api/v1/contacts", {**_payload(case, person.pk), **change}, content_type=J
    )
    assert r.status_code == 400, r.content
    assert field in r.json()["error"]["fields"]
    assert not Contact.objects.exists()


def test_contact_create_refuses_a_self_link(investigator: Any, case: Case) -> None:
    r = client_for(investigator).post(
        "/api/v1/contacts", _payload(case, case.person_id), content_type=J
    )
    assert r.status_code == 400
    assert "person_id" in r.json()["error"]["fields"]


def test_contact_create_from_another_districts_case_is_404(
    city: Any, yingze_officer: Any, case: Case
) -> None:
    person = make_person(city.yz_building)
    r = client_for(yingze_officer).post(
        "/api/v1/contacts", _payload(case, person.pk), content_type=J
    )
    assert r.status_code == 404
    assert not Contact.objects.exists()


def test_it_lists_contacts_by_status_category_and_district(
    city: Any, commander: Any, contact: Contact
) -> None:
    c = client_for(commander)
    r = c.get(
        f"/api/v1/contacts?status=monitoring&category=close&jurisdiction_id={city.xiaodian.pk}"
    )
    assert [x["id"] for x in r.json()["items"]] == [contact.pk]
    assert r.json()["items"][0]["person_name"] == "李四"
    r = c.get(f"/api/v1/contacts?status=monitoring&jurisdiction_id={city.yingze.pk}")
    assert r.json()["items"] == []
    assert c.get(f"/api/v1/contacts/{contact.pk}").json()["rules_version"] == 1


def test_contact_list_refuses_bad_filters(investigator: Any) -> None:
    r = client_for(investigator).get("/api/v1/contacts?status=sleeping")
    assert r.status_code == 400
    assert "status" in r.json()["error"]["fields"]


def test_contacts_of_another_district_are_404(
    city: Any, yingze_officer: Any, contact: Contact
) -> None:
    c = client_for(yingze_officer)
    assert c.get(f"/api/v1/contacts/{contact.pk}").status_code == 404
    assert c.get(f"/api/v1/contacts?jurisdiction_id={city.xiaodian.pk}").status_code == 404
    assert c.get("/api/v1/contacts").json()["items"] == []


def test_it_closes_a_contact_and_promotes_one_to_a_case(
    city: Any, investigator: Any, case: Case, contact: Contact
) -> None:
    c = client_for(investigator)
    other = new_contact(investigator, make_person(city.xd_building2), case=case)
    r = c.post(f"/api/v1/contacts/{other.pk}/status", {"status": "lost"}, content_type=J)
    assert r.json()["status"] == "lost"
    r = c.post(
        f"/api/v1/contacts/{contact.pk}/case",
        {"classification": "confirmed", "report_date": days_ago(0).isoformat()},
        content_type=J,
    )
    assert r.status_code == 201, r.content
    assert r.json()["source_contact_id"] == contact.pk
    assert c.get(f"/api/v1/contacts/{contact.pk}").json()["status"] == "became_case"


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("status", {"status": "sleeping"}, "status"),
        ("status", {"status": "became_case"}, "status"),
        ("case", {"classification": "confirmed", "report_date": "tomorrow"}, "report_date"),
        ("case", {"classification": "excluded", "report_date": "2022-10-01"}, "classification"),
    ],
)
def test_contact_transitions_refuse_bad_input(
    investigator: Any, contact: Contact, path: str, payload: dict[str, Any], field: str
) -> None:
    r = client_for(investigator).post(
        f"/api/v1/contacts/{contact.pk}/{path}", payload, content_type=J
    )
    assert r.status_code == 400, r.content
    assert field in r.json()["error"]["fields"]
    contact.refresh_from_db()
    assert contact.status == "monitoring"
    assert Case.objects.count() == 1


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("status", {"status": "lost"}),
        ("case", {"classification": "confirmed", "report_date": "2022-10-01"}),
    ],
)
def test_contact_transitions_in_another_district_are_404(
    yingze_officer: Any, contact: Contact, path: str, payload: dict[str, Any]
) -> None:
    r = client_for(yingze_officer).post(
        f"/api/v1/contacts/{contact.pk}/{path}", payload, content_type=J
    )
    assert r.status_code == 404
    contact.refresh_from_db()
    assert contact.status == "monitoring"


# --- follow-ups ------------------------------------------------------------------


@pytest.fixture
def team(city: Any, xiaodian_officer: Any, grid_worker: Any) -> FollowUpTeam:
    return followup_team_create(
        actor=xiaodian_officer,
        name="坞城随访组",
        jurisdiction_id=city.xd_grid.pk,
        member_ids=[grid_worker.pk],
    )


def test_a_grid_worker_sees_and_records_todays_follow_ups(
    grid_worker: Any, team: FollowUpTeam, contact: Contact
) -> None:
    followup_generate_daily()
    c = client_for(grid_worker)
    items = c.get("/api/v1/followups?mine=true").json()["items"]
    assert [(i["contact_id"], i["team_name"]) for i in items] == [(contact.pk, "坞城随访组")]
    r = c.post(
        f"/api/v1/followups/{items[0]['id']}",
        {"status": "seen_with_symptoms", "symptoms": ["fever"], "temperature": "38.4"},
        content_type=J,
    )
    assert r.status_code == 200, r.content
    assert r.json()["temperature"] == 38.4
    opened = Case.objects.get(pk=r.json()["opened_case_id"])
    assert opened.classification == "suspected"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "asleep"}, "status"),
        ({"status": "seen_with_symptoms"}, "symptoms"),
        ({"status": "seen_well", "temperature": "48.0"}, "temperature"),
        ({"status": "seen_well", "temperature": "hot"}, "temperature"),
    ],
)
def test_follow_up_record_refuses_bad_input(
    grid_worker: Any, team: FollowUpTeam, contact: Contact, payload: dict[str, Any], field: str
) -> None:
    followup_generate_daily()
    fu = FollowUp.objects.get()
    r = client_for(grid_worker).post(f"/api/v1/followups/{fu.pk}", payload, content_type=J)
    assert r.status_code == 400, r.content
    assert field in r.json()["error"]["fields"]
    fu.refresh_from_db()
    assert fu.status == "not_attempted"


def test_follow_up_list_refuses_bad_filters(grid_worker: Any) -> None:
    r = client_for(grid_worker).get("/api/v1/followups?day=someday")
    assert r.status_code == 400
    assert "day" in r.json()["error"]["fields"]


def test_follow_ups_of_another_district_are_404(
    yingze_officer: Any, team: FollowUpTeam, contact: Contact
) -> None:
    followup_generate_daily()
    fu = FollowUp.objects.get()
    c = client_for(yingze_officer)
    assert c.get("/api/v1/followups").json()["items"] == []
    r = c.post(f"/api/v1/followups/{fu.pk}", {"status": "seen_well"}, content_type=J)
    assert r.status_code == 404


def test_it_creates_lists_and_updates_teams(
    city: Any, xiaodian_officer: Any, grid_worker: Any
) -> None:
    c = client_for(xiaodian_officer)
    r = c.post(
        "/api/v1/followup-teams",
        {"name": "A组", "jurisdiction_id": city.xd_grid.pk, "member_ids": [grid_worker.pk]},
        content_type=J,
    )
    assert r.status_code == 201, r.content
    team_id = r.json()["id"]
    assert [t["id"] for t in c.get("/api/v1/followup-teams").json()] == [team_id]
    r = c.patch(f"/api/v1/followup-teams/{team_id}", {"active": False}, content_type=J)
    assert r.json()["active"] is False


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "", "jurisdiction_id": 0}, "name"),
        ({"name": "A"}, "jurisdiction_id"),
    ],
)
def test_team_create_refuses_bad_input(
    xiaodian_officer: Any, payload: dict[str, Any], field: str
) -> None:
    r = client_for(xiaodian_officer).post("/api/v1/followup-teams", payload, content_type=J)
    assert r.status_code == 400
    assert field in r.json()["error"]["fields"]
    assert not FollowUpTeam.objects.exists()


def test_team_members_must_be_staff_of_the_area(
    city: Any, yingze_officer: Any, xiaodian_officer: Any
) -> None:
    r = client_for(yingze_officer).post(
        "/api/v1/followup-teams",
        {"name": "B", "jurisdiction_id": city.yz_grid.pk, "member_ids": [xiaodian_officer.pk]},
        content_type=J,
    )
    assert r.status_code == 400
    assert "member_ids" in r.json()["error"]["fields"]


def test_teams_of_another_district_are_404(
    city: Any, yingze_officer: Any, team: FollowUpTeam
) -> None:
    c = client_for(yingze_officer)
    r = c.post(
        "/api/v1/followup-teams", {"name": "X", "jurisdiction_id": city.xd_grid.pk}, content_type=J
    )
    assert r.status_code == 404
    assert (
        c.patch(f"/api/v1/followup-teams/{team.pk}", {"active": False}, content_type=J).status_code
        == 404
    )
    assert c.get("/api/v1/followup-teams").json() == []
    team.refresh_from_db()
    assert team.active
