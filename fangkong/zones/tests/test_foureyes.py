"""Four eyes on zones (issue 22): a commander who manages staff cannot approve his
own zone proposal, or his lifting of a zone, through an account he created."""

from __future__ import annotations

import json
from typing import Any

from fangkong.conftest import client_for
from fangkong.core.tests.foureyes_kit import create_account, managing_staff
from fangkong.zones.models import Zone, ZoneProposal
from fangkong.zones.tests.zonekit import active_kinds, declare, residents


def post(user: Any, url: str, body: dict[str, Any] | None = None) -> Any:
    return client_for(user).post(url, json.dumps(body or {}), content_type="application/json")


def test_a_commander_cannot_approve_his_proposal_through_an_account_he_created(
    city: Any, commander: Any
) -> None:
    person = residents(city, 1)[0]
    boss = managing_staff(commander)  # staff.manage, zone.declare and zone.approve
    r = post(
        boss,
        "/api/v1/zones/proposals",
        {"name": "坞城1号楼", "level": "high", "unit_ids": [city.xd_building.pk], "reason": "病例"},
    )
    assert r.status_code == 201, r.content
    pid = r.json()["id"]
    own = post(boss, f"/api/v1/zones/proposals/{pid}/approve")
    assert own.status_code == 403 and own.json()["error"]["code"] == "own_proposal"
    status, second = create_account(boss, city.city, "city_commander", username="commander-2")
    assert status == 201
    r = post(second, f"/api/v1/zones/proposals/{pid}/approve", {"decision_number": "1号"})
    assert r.status_code == 403, r.content
    assert r.json()["error"]["code"] == "linked_account"
    assert ZoneProposal.objects.get(pk=pid).state == "pending"
    assert Zone.objects.get().state == "proposed"
    assert active_kinds(person.pk) == set()


def test_nor_lift_a_zone_through_an_account_he_created(
    city: Any, commander: Any, xiaodian_officer: Any
) -> None:
    person = residents(city, 1)[0]
    zone = declare(xiaodian_officer, commander, [city.xd_building])
    boss = managing_staff(commander)
    r = post(boss, f"/api/v1/zones/{zone.pk}/proposals", {"kind": "lift", "reason": "14天无新增"})
    assert r.status_code == 201, r.content
    status, second = create_account(boss, city.city, "city_commander", username="commander-2")
    assert status == 201
    r = post(second, f"/api/v1/zones/proposals/{r.json()['id']}/approve")
    assert r.status_code == 403 and r.json()["error"]["code"] == "linked_account"
    zone.refresh_from_db()
    assert zone.state == "active" and active_kinds(person.pk) == {"sealed_zone"}
