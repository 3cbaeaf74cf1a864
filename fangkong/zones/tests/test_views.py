"""Staff pages render for the roles that use them, and refuse other districts."""

import pytest

from fangkong.conftest import client_for, make_staff
from fangkong.zones import services
from fangkong.zones.models import ServiceRequest, Zone
from fangkong.zones.tests.zonekit import declare, residents


@pytest.fixture
def zone(city, xiaodian_officer, commander):
    residents(city, 2)
    return declare(xiaodian_officer, commander, [city.xd_building])


@pytest.mark.parametrize(
    "url",
    [
        "/zones/",
        "/zones/map/",
        "/zones/map/data/",
        "/zones/list/",
        "/zones/list/?state=active&level=high",
        "/zones/approvals/",
        "/zones/requests/",
        "/zones/new/",
        "/zones/requests/new/",
    ],
)
def test_pages_render(url, zone, xiaodian_officer):
    r = client_for(xiaodian_officer).get(url)
    assert r.status_code == 200, url


def test_zone_page_card_and_supplies(zone, xiaodian_officer, yingze_officer):
    c = client_for(xiaodian_officer)
    for url in (f"/zones/{zone.pk}/", f"/zones/{zone.pk}/card/", f"/zones/{zone.pk}/supplies/"):
        assert c.get(url).status_code == 200, url
        assert client_for(yingze_officer).get(url).status_code == 404, url


def test_declare_form_shows_errors_inline(city, xiaodian_officer):
    r = client_for(xiaodian_officer).post(
        "/zones/new/", {"name": "z", "level": "high", "units": "", "polygon": ""}
    )
    assert r.status_code == 422
    assert Zone.objects.count() == 0


def test_declare_form_with_units_then_approval_page(city, xiaodian_officer, commander):
    r = client_for(xiaodian_officer).post(
        "/zones/new/",
        {"name": "坞城", "level": "high", "units": str(city.xd_building.pk), "polygon": ""},
    )
    assert r.status_code == 302
    proposal = Zone.objects.get().proposals.get()
    boss = client_for(commander)
    assert "坞城" in boss.get("/zones/approvals/").content.decode()
    r = boss.post(
        f"/zones/proposals/{proposal.pk}/approve/", {"decision_number": "1号", "note": ""}
    )
    assert r.status_code == 302
    assert Zone.objects.get().state == "active"


def test_board_actions(zone, city, grid_worker):
    person = residents(city, 1)[0]
    req = services.service_request_create(person_id=person.pk, kind="medicines", text="药")
    c = client_for(grid_worker)
    assert c.post(f"/zones/requests/{req.pk}/assign/", {}).status_code == 302
    assert c.post(f"/zones/requests/{req.pk}/complete/", {"note": "ok"}).status_code == 302
    assert c.post(f"/zones/requests/{req.pk}/confirm/", {}).status_code == 302
    req.refresh_from_db()
    assert req.status == ServiceRequest.Status.CONFIRMED


def test_team_form(zone, xiaodian_officer):
    c = client_for(xiaodian_officer)
    r = c.post(
        f"/zones/{zone.pk}/team/",
        {"role": "leader", "name": "王组长", "phone": "13800000000", "shift": "白班"},
    )
    assert r.status_code == 302
    r = c.post(f"/zones/{zone.pk}/team/", {"role": "leader", "name": "", "phone": "abc"})
    assert r.status_code == 422


def test_a_team_member_sees_the_board(zone, city):
    member = make_staff("member", city.xd_grid, "zone_team_member")
    assert client_for(member).get("/zones/requests/").status_code == 200
