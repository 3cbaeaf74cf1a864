"""Sites, labs and teams change over an outbreak: hours and lanes, capacity, a site
closed for good. Edited by the service, the API and the set-up pages; bad input
names its field and changes nothing; other districts get 404."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from fangkong.conftest import client_for, make_staff
from fangkong.core.errors import NotFound, ValidationFailed
from fangkong.core.models import AuditEntry
from fangkong.screening.models import Site, Team
from fangkong.screening.selectors import public_sites
from fangkong.screening.services import rounds, sampling
from fangkong.screening.services.followup import TeamFinder
from fangkong.screening.tests.kit import Kit, build


@pytest.fixture
def kit(city: Any) -> Kit:
    return build(city)


@pytest.fixture
def xiaodian(kit: Kit) -> Any:
    return make_staff("xd_officer", kit.city.xiaodian, "district_officer")


@pytest.fixture
def yingze(kit: Kit) -> Any:
    return make_staff("yz_officer", kit.city.yingze, "district_officer")


def _patch(user: Any, url: str, body: dict[str, Any]) -> Any:
    return client_for(user).patch(url, json.dumps(body), content_type="application/json")


# --- Services ---------------------------------------------------------------------------


def test_new_hours_and_lanes_of_a_site_are_saved_and_audited(kit: Kit, xiaodian: Any) -> None:
    site = rounds.site_update(
        actor=xiaodian,
        site_id=kit.site.pk,
        opens_at=dt.time(7, 30),
        closes_at=dt.time(19, 0),
        lanes=6,
        hours_text="",
    )
    site.refresh_from_db()
    assert (site.opens_at, site.closes_at, site.lanes) == (dt.time(7, 30), dt.time(19), 6)
    assert site.hours_text == "07:30–19:00"
    entry = AuditEntry.objects.get(action="screening.site.update")
    assert entry.changes["lanes"] == [4, 6] and entry.changes["opens_at"][1] == "07:30:00"


def test_saving_a_site_unchanged_writes_no_audit_entry(kit: Kit, xiaodian: Any) -> None:
    rounds.site_update(actor=xiaodian, site_id=kit.site.pk, name=kit.site.name, lanes=4)
    assert not AuditEntry.objects.filter(action="screening.site.update").exists()


def test_a_closed_site_leaves_the_portal_and_takes_no_new_tubes(kit: Kit, xiaodian: Any) -> None:
    assert any(s["id"] == kit.site.pk for s in public_sites())
    rounds.site_update(actor=xiaodian, site_id=kit.site.pk, active=False)
    assert all(s["id"] != kit.site.pk for s in public_sites())
    with pytest.raises(NotFound) as exc:
        sampling.tube_open(
            actor=kit.sampler, round_id=kit.round.pk, barcode="T9", site_id=kit.site.pk
        )
    assert "site_id" in exc.value.fields


def test_an_impossible_site_change_names_the_field_and_changes_nothing(
    kit: Kit, xiaodian: Any
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        rounds.site_update(actor=xiaodian, site_id=kit.site.pk, lat=123.0, lanes=8)
    assert "lat" in exc.value.fields
    kit.site.refresh_from_db()
    assert kit.site.lanes == 4


def test_a_lab_out_of_use_is_offered_to_no_new_round(kit: Kit) -> None:
    rounds.lab_update(actor=kit.manager, lab_id=kit.lab.pk, capacity_per_day=5000, active=False)
    kit.lab.refresh_from_db()
    assert kit.lab.capacity_per_day == 5000 and not kit.lab.active
    with pytest.raises(ValidationFailed) as exc:
        rounds.round_create(
            actor=kit.manager,
            name="第3轮",
            area_ids=[kit.city.xiaodian.pk],
            starts_at=kit.round.starts_at,
            ends_at=kit.round.ends_at,
            pooling_ratio=10,
            lab_ids=[kit.lab.pk],
        )
    assert "lab_ids" in exc.value.fields
    with pytest.raises(ValidationFailed):
        rounds.lab_update(actor=kit.manager, lab_id=kit.lab.pk, capacity_per_day=0)


def test_a_team_out_of_use_is_given_no_new_tasks(kit: Kit, xiaodian: Any) -> None:
    path = kit.city.xd_building.path
    assert TeamFinder().find(path, door_to_door=False) == kit.team.pk
    rounds.team_update(actor=xiaodian, team_id=kit.team.pk, active=False)
    rounds.team_update(actor=xiaodian, team_id=kit.d2d_team.pk, active=False)
    assert TeamFinder().find(path, door_to_door=False) is None


def test_another_district_cannot_change_xiaodian_sites_labs_or_teams(kit: Kit, yingze: Any) -> None:
    with pytest.raises(NotFound):
        rounds.site_update(actor=yingze, site_id=kit.site.pk, lanes=1)
    with pytest.raises(NotFound):
        rounds.team_update(actor=yingze, team_id=kit.team.pk, active=False)
    with pytest.raises(NotFound):  # the city lab is above the district
        rounds.lab_update(actor=yingze, lab_id=kit.lab.pk, capacity_per_day=1)
    kit.site.refresh_from_db()
    assert kit.site.lanes == 4


# --- API ------------------------------------------------------------------------------


def test_the_api_creates_and_changes_a_site(kit: Kit, xiaodian: Any) -> None:
    r = client_for(xiaodian).post(
        "/api/v1/screening/sites",
        json.dumps(
            {
                "name": "平阳路采样点",
                "jurisdiction_id": kit.city.xd_grid.pk,
                "lat": 37.82,
                "lon": 112.56,
                "opens_at": "07:00",
                "closes_at": "21:00",
                "lanes": 3,
            }
        ),
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    site_id = r.json()["id"]
    r = _patch(xiaodian, f"/api/v1/screening/sites/{site_id}", {"lanes": 5, "active": False})
    assert r.status_code == 200, r.content
    assert (r.json()["lanes"], r.json()["active"]) == (5, False)
    assert not Site.objects.get(pk=site_id).active


def test_the_api_names_the_bad_field_and_hides_other_districts(
    kit: Kit, xiaodian: Any, yingze: Any
) -> None:
    url = f"/api/v1/screening/sites/{kit.site.pk}"
    r = _patch(xiaodian, url, {"lanes": 0})
    assert r.status_code == 400 and "lanes" in json.dumps(r.json())
    r = _patch(xiaodian, url, {"opens_at": "25:99"})
    assert r.status_code in (400, 422)
    assert _patch(yingze, url, {"lanes": 2}).status_code == 404
    assert (
        _patch(yingze, f"/api/v1/screening/teams/{kit.team.pk}", {"active": False}).status_code
        == 404
    )
    kit.site.refresh_from_db()
    assert kit.site.lanes == 4


def test_the_api_creates_and_changes_labs_and_teams(kit: Kit, xiaodian: Any) -> None:
    c = client_for(kit.manager)
    r = c.post(
        "/api/v1/screening/labs",
        json.dumps(
            {
                "name": "金域",
                "code": "kingmed",
                "capacity_per_day": 800,
                "jurisdiction_id": kit.city.city.pk,
            }
        ),
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    r = _patch(kit.manager, f"/api/v1/screening/labs/{r.json()['id']}", {"capacity_per_day": 900})
    assert r.json()["capacity_per_day"] == 900
    r = _patch(kit.manager, f"/api/v1/screening/labs/{kit.lab.pk}", {"capacity_per_day": -1})
    assert r.status_code == 400
    r = client_for(xiaodian).post(
        "/api/v1/screening/teams",
        json.dumps({"name": "上门二队", "area_id": kit.city.xd_grid.pk, "door_to_door": True}),
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    r = _patch(xiaodian, f"/api/v1/screening/teams/{r.json()['id']}", {"active": False})
    assert r.json()["active"] is False
    assert Team.objects.filter(active=False).count() == 1


# --- Pages ----------------------------------------------------------------------------


def test_a_site_is_edited_through_its_page(kit: Kit, xiaodian: Any) -> None:
    c = client_for(xiaodian)
    url = f"/screening/setup/sites/{kit.site.pk}/edit/"
    page = c.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and b'value="4"' in page.content
    data = {
        "name": kit.site.name,
        "address": "坞城路8号",
        "lat": "37.8",
        "lon": "112.5",
        "opens_at": "08:00",
        "closes_at": "18:00",
        "lanes": "2",
        "hours_text": "",
    }  # "active" unticked: out of use
    r = c.post(url, data)
    assert r.status_code == 302 and r["Location"].endswith("/screening/setup/sites/")
    kit.site.refresh_from_db()
    assert (kit.site.lanes, kit.site.address, kit.site.active) == (2, "坞城路8号", False)
    listing = c.get("/screening/setup/sites/", HTTP_ACCEPT_LANGUAGE="en")
    assert b"(inactive)" in listing.content


def test_a_bad_value_on_the_edit_page_is_shown_next_to_the_field(kit: Kit, xiaodian: Any) -> None:
    url = f"/screening/setup/sites/{kit.site.pk}/edit/"
    data = {
        "name": kit.site.name,
        "lat": "99",
        "lon": "112.5",
        "opens_at": "08:00",
        "closes_at": "18:00",
        "lanes": "2",
        "active": "on",
    }
    r = client_for(xiaodian).post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 400 and b"A latitude is between -90 and 90." in r.content
    kit.site.refresh_from_db()
    assert kit.site.lanes == 4


def test_labs_and_teams_are_edited_through_their_pages(kit: Kit) -> None:
    c = client_for(kit.manager)
    r = c.post(
        f"/screening/setup/labs/{kit.lab.pk}/edit/",
        {"name": "迪安检验", "capacity_per_day": "2500", "active": "on"},
    )
    assert r.status_code == 302
    kit.lab.refresh_from_db()
    assert kit.lab.capacity_per_day == 2500 and kit.lab.active
    r = c.post(f"/screening/setup/teams/{kit.team.pk}/edit/", {"name": "坞城一队"})
    assert r.status_code == 302
    kit.team.refresh_from_db()
    assert (kit.team.name, kit.team.active) == ("坞城一队", False)
    labs = c.get("/screening/setup/labs/", HTTP_ACCEPT_LANGUAGE="en")
    assert f"/screening/setup/labs/{kit.lab.pk}/edit/".encode() in labs.content


def test_other_districts_and_samplers_cannot_open_the_edit_pages(kit: Kit, yingze: Any) -> None:
    for url in (
        f"/screening/setup/sites/{kit.site.pk}/edit/",
        f"/screening/setup/teams/{kit.team.pk}/edit/",
    ):
        assert client_for(yingze).get(url).status_code == 404
        assert client_for(kit.sampler).get(url).status_code == 403
