"""Public information pages draw their charts: the risk-zone map, the testing-site
map and the daily figures, with no script error (headless Chromium, English)."""

import pytest
from django.core.cache import cache
from django.db import transaction

from fangkong.conftest import City, _chain, make_staff
from fangkong.portal.tests.test_browser_portal import CHROMIUM, browser  # noqa: F401 - fixture

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
def scene(transactional_db):
    from fangkong.conftest import load_shipped_defaults
    from fangkong.core.models import Jurisdiction
    from fangkong.core.services import jurisdiction_build
    from fangkong.screening.tests.kit import build as screening_kit
    from fangkong.zones.tests.zonekit import declare

    load_shipped_defaults()
    cache.clear()
    with transaction.atomic():
        province = jurisdiction_build(
            parent=None, level="province", name_zh="山西省", name_en="Shanxi", code="140000"
        )
        taiyuan = jurisdiction_build(
            parent=province, level="city", name_zh="太原市", name_en="Taiyuan", code="140100"
        )
        xiaodian = jurisdiction_build(
            parent=taiyuan, level="district", name_zh="小店区", name_en="Xiaodian", code="140105"
        )
        yingze = jurisdiction_build(
            parent=taiyuan, level="district", name_zh="迎泽区", name_en="Yingze", code="140106"
        )
        xd_grid, xd_b1, xd_b2 = _chain(xiaodian, "Pingyang", "坞城")
        yz_grid, yz_b1, _yz_b2 = _chain(yingze, "Liuxiang", "柳巷")
    city = City(province, taiyuan, xiaodian, yingze, xd_grid, yz_grid, xd_b1, xd_b2, yz_b1)
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
