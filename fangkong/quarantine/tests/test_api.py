"""The quarantine API: the error shape on bad input, 404 outside the area."""

from __future__ import annotations

import pytest

from fangkong.conftest import client_for
from fangkong.quarantine.tests.kit import admit, in_rooms, people

pytestmark = pytest.mark.django_db
API = "/api/v1/quarantine"


def test_sites_are_created_and_listed_and_bad_input_names_the_fields(city, manager):
    c = client_for(manager)
    ok = c.post(
        f"{API}/sites",
        {"name": "坞城宾馆", "jurisdiction_id": city.xiaodian.pk, "tier": 2},
        content_type="application/json",
    )
    assert ok.status_code == 201
    assert ok.json()["state"] == "reserve"
    bad = c.post(
        f"{API}/sites",
        {"name": "x", "jurisdiction_id": city.xiaodian.pk, "kind": "tent", "tier": 0},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"kind", "tier"}
    listed = c.get(f"{API}/sites").json()
    assert [s["name"] for s in listed["items"]] == ["坞城宾馆"]


def test_a_room_not_clean_is_a_conflict(city, manager, site):
    stay = admit(manager, site, people(city, 1))[0]
    c = client_for(manager)
    rooms = c.get(f"{API}/sites/{site.pk}/rooms").json()["items"]
    c.post(
        f"{API}/rooms/{rooms[0]['id']}/status",
        {"status": "maintenance"},
        content_type="application/json",
    )
    response = c.post(
        f"{API}/stays/{stay.pk}/room", {"room_id": rooms[0]["id"]}, content_type="application/json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "room_not_clean"


def test_release_before_the_criteria_is_refused_with_what_is_missing(city, manager, site):
    stay = in_rooms(manager, site, people(city, 1))[0]
    response = client_for(manager).post(
        f"{API}/stays/{stay.pk}/release", {}, content_type="application/json"
    )
    assert response.status_code == 409
    body = response.json()["error"]
    assert body["code"] == "criteria_not_met"
    assert any("隔离期至" in m or "runs until" in m for m in body["fields"].values())


def test_an_impossible_temperature_is_a_400(city, manager, site):
    stay = in_rooms(manager, site, people(city, 1))[0]
    import datetime as dt

    response = client_for(manager).post(
        f"{API}/stays/{stay.pk}/checks",
        {"taken_on": dt.date.today().isoformat(), "slot": "am", "temperature": "3.65"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "temperature" in response.json()["error"]["fields"]


def test_another_districts_objects_are_404(city, manager, site, yz_manager):
    stay = in_rooms(manager, site, people(city, 1))[0]
    c = client_for(yz_manager)
    assert c.get(f"{API}/sites/{site.pk}").status_code == 404
    assert c.get(f"{API}/stays/{stay.pk}").status_code == 404
    assert (
        c.post(f"{API}/stays/{stay.pk}/release", {}, content_type="application/json").status_code
        == 404
    )
    assert c.post(
        f"{API}/orders", {"stay_ids": [stay.pk]}, content_type="application/json"
    ).status_code in (403, 404)


def test_a_breach_without_a_site_is_a_400(city, manager):
    response = client_for(manager).post(
        f"{API}/breaches",
        {
            "kind": "left_loop",
            "occurred_at": "2022-10-06T09:00:00+08:00",
            "description": "擅自离开",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "site_id" in response.json()["error"]["fields"]


def test_orders_as_pdf(city, manager, site):
    stays = in_rooms(manager, site, people(city, 2))
    response = client_for(manager).post(
        f"{API}/orders.pdf", {"stay_ids": [s.pk for s in stays]}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
