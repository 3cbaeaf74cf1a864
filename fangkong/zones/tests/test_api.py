"""The zones API: the flow end to end, bad input with fields, other districts are 404."""

from fangkong.conftest import client_for
from fangkong.zones.tests.zonekit import active_kinds, declare, residents


def _post(client, url, data):
    return client.post(url, data, content_type="application/json")


def test_officer_proposes_commander_approves_over_the_api(city, xiaodian_officer, commander):
    person = residents(city, 1)[0]
    officer = client_for(xiaodian_officer)
    r = _post(
        officer,
        "/api/v1/zones/proposals",
        {"name": "坞城1号楼", "level": "high", "unit_ids": [city.xd_building.pk], "reason": "病例"},
    )
    assert r.status_code == 201, r.content
    proposal = r.json()
    assert proposal["state"] == "pending"
    assert (
        _post(officer, f"/api/v1/zones/proposals/{proposal['id']}/approve", {}).status_code == 403
    )
    boss = client_for(commander)
    assert [p["id"] for p in boss.get("/api/v1/zones/proposals").json()] == [proposal["id"]]
    r = _post(boss, f"/api/v1/zones/proposals/{proposal['id']}/approve", {"decision_number": "1号"})
    assert r.status_code == 200 and r.json()["state"] == "approved"
    assert active_kinds(person.pk) == {"sealed_zone"}
    zones = boss.get("/api/v1/zones/").json()
    assert zones["count"] == 1 and zones["items"][0]["state"] == "active"
    data = boss.get("/api/v1/zones/map").json()
    assert data["geojson"]["features"][0]["properties"]["level"] == "high"


def test_bad_input_comes_back_with_fields(city, xiaodian_officer):
    officer = client_for(xiaodian_officer)
    r = _post(officer, "/api/v1/zones/proposals", {"name": "z", "level": "high", "unit_ids": []})
    assert r.status_code == 400 and "units" in r.json()["error"]["fields"]
    r = _post(
        officer,
        "/api/v1/zones/proposals",
        {"name": "z", "level": "high", "polygon": {"type": "Polygon", "coordinates": "x"}},
    )
    assert r.status_code == 400 and "polygon" in r.json()["error"]["fields"]
    r = _post(officer, "/api/v1/zones/proposals", {"level": "high"})
    assert r.status_code == 400 and "name" in r.json()["error"]["fields"]
    r = _post(officer, "/api/v1/zones/requests", {"person_id": 1, "kind": "x", "items": "no"})
    assert r.status_code == 400


def test_another_district_is_404(city, xiaodian_officer, yingze_officer, commander):
    person = residents(city, 1)[0]
    zone = declare(xiaodian_officer, commander, [city.xd_building])
    other = client_for(yingze_officer)
    assert other.get(f"/api/v1/zones/{zone.pk}").status_code == 404
    assert other.get(f"/api/v1/zones/{zone.pk}/supplies").status_code == 404
    assert other.get("/api/v1/zones/").json()["count"] == 0
    r = _post(
        other,
        "/api/v1/zones/proposals",
        {"name": "z", "level": "high", "unit_ids": [city.xd_building.pk]},
    )
    assert r.status_code == 404
    r = _post(other, f"/api/v1/zones/{zone.pk}/proposals", {"kind": "lift"})
    assert r.status_code == 404
    r = _post(
        other, "/api/v1/zones/requests", {"person_id": person.pk, "kind": "medicines", "text": "x"}
    )
    assert r.status_code == 404
    r = _post(other, f"/api/v1/zones/{zone.pk}/team", {"role": "leader", "name": "x"})
    assert r.status_code == 404
    assert client_for(xiaodian_officer).get(f"/api/v1/zones/{zone.pk}").status_code == 200


def test_requests_over_the_api(city, xiaodian_officer, commander, grid_worker):
    person = residents(city, 1)[0]
    declare(xiaodian_officer, commander, [city.xd_building])
    worker = client_for(grid_worker)
    r = _post(
        worker,
        "/api/v1/zones/requests",
        {"person_id": person.pk, "kind": "groceries", "items": ["米"]},
    )
    assert r.status_code == 201, r.content
    rid = r.json()["id"]
    assert _post(worker, f"/api/v1/zones/requests/{rid}/assign", {}).json()["status"] == "assigned"
    assert (
        _post(worker, f"/api/v1/zones/requests/{rid}/complete", {"note": "ok"}).json()["status"]
        == "done"
    )
    listed = worker.get("/api/v1/zones/requests?status=done").json()
    assert listed["count"] == 1


def test_team_members_are_removed_over_the_api_within_the_area(
    city, xiaodian_officer, commander, yingze_officer
):
    zone = declare(xiaodian_officer, commander, [city.xd_building])
    officer = client_for(xiaodian_officer)
    r = _post(officer, f"/api/v1/zones/{zone.pk}/team", {"role": "leader", "name": "王组长"})
    assert r.status_code == 201
    member_id = r.json()["id"]
    assert client_for(yingze_officer).delete(f"/api/v1/zones/team/{member_id}").status_code == 404
    assert officer.delete(f"/api/v1/zones/team/{member_id}").status_code == 204
