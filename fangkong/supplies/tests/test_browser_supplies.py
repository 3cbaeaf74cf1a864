"""The supplies officer's overview in headless Chromium (Playwright, sync API):
after the demo, the officer signs in, reads which district runs short of which
item and which market price rose, in words, with nothing failing on the page.
Screenshots go to ``test-artifacts/``."""

import pytest

from fangkong.conftest import (
    ARTIFACTS,
    BROWSER_TEST,
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    City,
    make_person,
    make_staff,
    raw_codes,
    watch_page,
)
from fangkong.supplies import demo

pytestmark = BROWSER_TEST


@pytest.fixture
def city(browser_city: City) -> City:
    return browser_city


def test_the_supplies_officer_sees_the_short_district_and_the_price_rise(
    live_server, city, monkeypatch
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import expect, sync_playwright

    for i in range(20):
        make_person(city.xd_building if i % 2 else city.yz_building, name=f"居民{i}")
    demo.seed()
    make_staff("supplies", city.city, "supplies_officer")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="zh-CN"
        ).new_page()
        page.set_default_timeout(15_000)
        problems = watch_page(page)
        page.goto(live_server.url + "/supplies/")
        page.fill("#id_username", "supplies")
        page.fill("#id_password", PASSWORD)
        page.locator("form[action='/login/'] button[type=submit]").click()
        table = page.get_by_test_id("days-of-supply")
        expect(table.locator("tr.flagged")).to_contain_text("小店区")
        expect(page.get_by_test_id("price-alerts")).to_contain_text("小店区坞城农贸市场")
        expect(page.get_by_test_id("price-alerts")).to_contain_text("蔬菜")
        found = raw_codes(page.locator("main").inner_text())
        assert not found, found
        page.screenshot(path=ARTIFACTS / "supplies-overview.png", full_page=True)
        browser.close()
    assert not problems, problems
