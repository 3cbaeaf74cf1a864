"""The resident's own door-step request: a zones page in the public layout at
/me/requests/new/ (the portal's self-service addresses), behind the resident's
one-time-code sign-in."""

import pytest
from django.test import Client

from fangkong.conftest import make_staff
from fangkong.status.resident import SESSION_KEY
from fangkong.zones.models import ServiceKind, ServiceRequest
from fangkong.zones.tests.zonekit import declare, residents

pytestmark = pytest.mark.django_db


def _signed_in(person_id: int) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    session = c.session
    session[SESSION_KEY] = person_id
    session.save()
    return c


def _sealed(city):
    officer = make_staff("zoneofficer", city.xiaodian, "district_officer")
    boss = make_staff("zoneboss", city.city, "city_commander")
    people = residents(city, 2)
    zone = declare(officer, boss, [city.xd_building])
    return zone, people


def test_a_visitor_is_sent_to_the_resident_sign_in_first(city):
    r = Client().get("/me/requests/new/")
    assert r.status_code == 302
    assert "/status/me/login/" in r["Location"] and "next=/me/requests/new/" in r["Location"]


def test_a_resident_of_a_sealed_zone_files_a_request_with_their_zones_team(city):
    zone, people = _sealed(city)
    c = _signed_in(people[0].pk)
    page = c.get("/me/requests/new/").content.decode()
    assert "Ask for a door-step service" in page and 'value="medicines"' in page
    r = c.post("/me/requests/new/", {"kind": "medicines", "text": "需要买药"})
    assert r.status_code == 302 and r["Location"] == "/me/"
    req = ServiceRequest.objects.get(person=people[0])
    assert req.zone_id == zone.pk and req.kind.code == "medicines" and req.text == "需要买药"
    assert "需要买药" in c.get("/me/").content.decode()


def test_a_zone_only_service_outside_any_zone_is_refused_on_the_form(city):
    [outside] = residents(city, 1, building=city.yz_building)
    zone_only = ServiceKind.objects.filter(zone_only=True).first()
    assert zone_only is not None
    c = _signed_in(outside.pk)
    r = c.post("/me/requests/new/", {"kind": zone_only.code, "text": "米面油"})
    assert r.status_code == 422
    assert "this home is in no zone" in r.content.decode()
    assert not ServiceRequest.objects.filter(person=outside).exists()


def test_an_empty_request_names_the_field(city):
    _zone, people = _sealed(city)
    r = _signed_in(people[0].pk).post("/me/requests/new/", {"kind": "medicines", "text": ""})
    assert r.status_code == 422
    assert 'role="alert"' in r.content.decode()
    assert not ServiceRequest.objects.exists()
