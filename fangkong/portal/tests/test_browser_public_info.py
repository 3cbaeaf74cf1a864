"""Public information pages draw their charts: the risk-zone map, the testing-site
map and the daily figures, with no script error (headless Chromium, English)."""

import pytest
from django.core.cache import cache

from fangkong.conftest import CHROMIUM, City, make_staff
from fangkong.portal.tests.test_browser_portal import browser  # noqa: F401 - fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]

SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[112.55, 37.80], [112.56, 37.80], [112.56, 37.81], [112.55, 37.81], [112.55, 37.80]]
    ],
}


@pytest.fixture
def scene(browser_city: City) -> City:
    from fangkong.core.models import Jurisdiction
    from fangkong.screening.tests.kit import build as screening_kit
    from fangkong.zones.tests.zonekit import declare

    cache.clear()
    city = browser_city
    xiaodian, taiyuan, xd_grid, xd_b1 = city.xiaodian, city.city, city.xd_grid, city.xd_building
    Jurisdiction.objects.filter(pk__in=[xd_b1.pk, xd_grid.parent_id]).update(boundary=SQUARE)
    xd_b1.refresh_from_db()
    officer = make_staff("zoneofficer", xiaodian, "district_officer")
    boss = make_staff("zoneboss", taiyuan, "city_commander")
    declare(officer, boss, [xd_b1])
    screening_kit(city)
    return city


def test_the_public_charts_draw(live_server, scene, browser):  # noqa: F811
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    for path, chart in (
        ("/risk-zones/", "#zone-map"),
        ("/testing-sites/", "#site-map"),
        ("/statistics/", "#daily-chart"),
    ):
        page.goto(f"{live_server.url}{path}")
        expect(page.locator(f"{chart} canvas")).to_have_count(1)
    page.goto(f"{live_server.url}/risk-zones/")
    expect(page.locator("main h2").first).to_have_text("Xiaodian")
    assert errors == []
    context.close()
