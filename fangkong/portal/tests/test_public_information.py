"""The portal shows what zones, screening and investigation publish: places and
aggregates only, and the resident's own records on /me/."""

import pytest
from django.core.cache import cache
from django.test import Client

from fangkong.conftest import make_staff
from fangkong.screening.tests.kit import build as screening_kit
from fangkong.zones.tests.zonekit import declare, residents

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def _zone(city):
    officer = make_staff("zoneofficer", city.xiaodian, "district_officer")
    boss = make_staff("zoneboss", city.city, "city_commander")
    people = residents(city, 2)
    zone = declare(officer, boss, [city.xd_building])
    return zone, people


def test_risk_zones_are_listed_by_district_without_people(city):
    zone, people = _zone(city)
    html = Client().get("/risk-zones/").content.decode()
    assert zone.name in html and "小店区" in html
    assert people[0].name not in html
    api = Client().get("/api/v1/portal/zones").json()
    assert api["zones"][0]["name"] == zone.name
    assert any(lv["count"] == 1 for lv in api["levels"])


def test_home_shows_the_zone_summary_and_open_sites(city):
    zone, _people = _zone(city)
    screening_kit(city)
    html = Client().get("/").content.decode()
    assert zone.name in html
    assert "testing sites open now" in Client(HTTP_ACCEPT_LANGUAGE="en").get("/").content.decode()


def test_testing_sites_with_open_now_filter_and_distance(city):
    kit = screening_kit(city)
    city.xd_grid.__class__.objects.filter(pk=city.xd_grid.parent_id).update(
        boundary={
            "type": "Polygon",
            "coordinates": [[[112.5, 37.9], [112.6, 37.9], [112.6, 38.0], [112.5, 37.9]]],
        }
    )
    community = city.xd_grid.parent
    html = Client().get(f"/testing-sites/?open=1&community={community.pk}").content.decode()
    assert kit.site.name in html and " km" in html
    api = Client().get("/api/v1/portal/sites?open_now=true").json()
    assert api["sites"][0]["name"] == kit.site.name


def test_the_resident_sees_results_and_requests_and_files_one(city):
    from fangkong.status.resident import SESSION_KEY

    _zone_, people = _zone(city)
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert "Sign in" in c.get("/me/").content.decode()
    session = c.session
    session[SESSION_KEY] = people[0].pk
    session.save()
    html = c.get("/me/").content.decode()
    assert "/status/me/" in html and "My latest test results" in html
    # The door-step request form is zones' page under /me/ (zones/tests/test_resident_request.py).
    assert 'href="/me/requests/new/"' in html
    r = c.post("/me/requests/new/", {"kind": "medicines", "text": "需要买药"})
    assert r.status_code == 302, r.content.decode()
    assert "需要买药" in c.get("/me/").content.decode()
