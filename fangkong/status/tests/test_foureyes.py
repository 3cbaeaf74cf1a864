"""Four eyes that one person cannot satisfy alone (issue 22): an officer who manages
staff cannot approve his own request through an account he created, nor through one
created by an account he created, nor have an account he created ask for him; the
report counts approvals between linked accounts."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone

from fangkong.conftest import client_for, make_person
from fangkong.core.audit import audit_record
from fangkong.core.tests.foureyes_kit import create_account, managing_staff
from fangkong.status.models import ManualRequest, Reason, StatusPolicy
from fangkong.status.selectors import manual_alerts, person_status

API = "/api/v1/status/manual-requests"


@pytest.fixture
def person(city: Any) -> Any:
    return make_person(city.xd_building, name="王小明")


def post(user: Any, url: str, body: dict[str, Any] | None = None) -> Any:
    return client_for(user).post(url, json.dumps(body or {}), content_type="application/json")


def ask_red(user: Any, person_ids: list[int]) -> Any:
    return post(
        user,
        API,
        {
            "action": "grant",
            "basis": "epidemiological_investigation",
            "text": "Same household as a confirmed case",
            "source_ref": "Case 2022-0117",
            "person_ids": person_ids,
            "level": "red",
            "ends_at": (timezone.now() + dt.timedelta(days=2)).isoformat(),
        },
    )


def test_an_officer_cannot_approve_his_red_through_an_account_he_created(
    city: Any, person: Any, xiaodian_officer: Any
) -> None:
    officer = managing_staff(xiaodian_officer)  # staff.manage and status.approve
    r = ask_red(officer, [person.pk])
    assert r.status_code == 201, r.content
    rid = r.json()["id"]
    own = post(officer, f"{API}/{rid}/approve")
    assert own.status_code == 403 and own.json()["error"]["code"] == "own_request"
    status, second = create_account(
        officer, city.xiaodian, "district_officer", username="xiaodian-2"
    )
    assert status == 201
    r = post(second, f"{API}/{rid}/approve")
    assert r.status_code == 403, r.content
    assert r.json()["error"]["code"] == "linked_account"
    assert person_status(person.pk)["level"] == "green"
    assert not Reason.objects.exists()
    assert ManualRequest.objects.get(pk=rid).state == "pending"
    # Nor by refusing it (the request is his to withdraw, not to decide).
    assert post(second, f"{API}/{rid}/refuse", {"note": "no"}).status_code == 403


def test_nor_through_an_account_created_by_one_he_created(
    city: Any, person: Any, xiaodian_officer: Any, yingze_officer: Any
) -> None:
    officer = managing_staff(xiaodian_officer)
    status, deputy = create_account(officer, city.xiaodian, "district_officer", username="deputy")
    assert status == 201
    # The deputy is given staff management afterwards (the trail records it),
    # and creates a third account.
    managing_staff(deputy)
    audit_record(
        actor=officer, action="staff.roles", obj=deputy, changes={"roles": [[], ["staff"]]}
    )
    status, third = create_account(deputy, city.xiaodian, "district_officer", username="third")
    assert status == 201
    rid = ask_red(officer, [person.pk]).json()["id"]
    r = post(third, f"{API}/{rid}/approve")
    assert r.status_code == 403 and r.json()["error"]["code"] == "linked_account"


def test_nor_approve_what_an_account_he_created_asked(
    city: Any, person: Any, xiaodian_officer: Any
) -> None:
    officer = managing_staff(xiaodian_officer)
    status, puppet = create_account(officer, city.xd_grid, "grid_worker", username="puppet")
    assert status == 201
    rid = ask_red(puppet, [person.pk]).json()["id"]
    r = post(officer, f"{API}/{rid}/approve")
    assert r.status_code == 403 and r.json()["error"]["code"] == "linked_account"


def test_an_unrelated_officer_still_approves(
    city: Any, person: Any, xiaodian_officer: Any, grid_worker: Any
) -> None:
    rid = ask_red(grid_worker, [person.pk]).json()["id"]
    r = post(xiaodian_officer, f"{API}/{rid}/approve")
    assert r.status_code == 200 and r.json()["state"] == "approved"
    assert person_status(person.pk)["level"] == "red"


def test_a_bulk_change_is_not_approved_by_a_commander_the_requester_created(
    city: Any, commander: Any
) -> None:
    from fangkong.status import rules

    StatusPolicy.objects.update(bulk_threshold=2)
    rules.clear_cache()
    boss = managing_staff(commander)
    people = [make_person(city.xd_building) for _ in range(3)]
    r = ask_red(boss, [p.pk for p in people])
    assert r.status_code == 201 and r.json()["bulk"] is True, r.content
    status, second = create_account(boss, city.city, "city_commander", username="commander-2")
    assert status == 201
    r = post(second, f"{API}/{r.json()['id']}/approve")
    assert r.status_code == 403 and r.json()["error"]["code"] == "linked_account"
    assert not Reason.objects.exists()


def test_the_report_counts_approvals_between_linked_accounts(
    city: Any, person: Any, xiaodian_officer: Any, grid_worker: Any, auditor: Any
) -> None:
    rid = ask_red(grid_worker, [person.pk]).json()["id"]
    assert post(xiaodian_officer, f"{API}/{rid}/approve").status_code == 200
    assert "linked_approval" not in {a["kind"] for a in manual_alerts(auditor)}
    # Linked afterwards: the officer changes the grid worker's roles.
    audit_record(
        actor=xiaodian_officer,
        action="staff.roles",
        obj=grid_worker,
        changes={"roles": [["grid_worker"], ["grid_worker"]]},
    )
    alerts = [a for a in manual_alerts(auditor) if a["kind"] == "linked_approval"]
    assert len(alerts) == 1 and alerts[0]["requests"] == 1
    assert "gridworker" in alerts[0]["text"] and "xiaodian" in alerts[0]["text"]
    page = client_for(auditor).get("/status/report/", HTTP_ACCEPT_LANGUAGE="en")
    assert "an account linked to theirs" in page.content.decode()
