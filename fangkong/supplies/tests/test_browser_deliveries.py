"""The supplies officer's walk in headless Chromium (Playwright, sync API): signs
in, sees their district below the alert line, receives stock at the warehouse,
plans a delivery to the sealed zone for a resident's grocery request, sends it on
its way and records the proof of delivery with a photo; the stock leaves the
warehouse and the resident's request is done. In words, with nothing failing on
the page. Screenshots go to ``test-artifacts/``."""

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
from fangkong.supplies import services
from fangkong.supplies.models import Delivery, Item
from fangkong.supplies.tests.kit import PNG, balance, grocery_request, move

pytestmark = BROWSER_TEST


@pytest.fixture
def city(browser_city: City) -> City:
    return browser_city


def test_the_supplies_officer_receives_stock_and_delivers_to_the_sealed_zone_with_proof(
    live_server, city, monkeypatch, tmp_path
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import expect, sync_playwright

    from fangkong.zones.models import ServiceRequest
    from fangkong.zones.tests.zonekit import declare

    residents = [make_person(city.xd_building, name=f"居民{i}") for i in range(6)]
    for i in range(14):
        make_person(city.xd_building2, name=f"邻居{i}")
    zone = declare(
        make_staff("xdofficer", city.xiaodian, "district_officer"),
        make_staff("boss", city.city, "city_commander"),
        [city.xd_building],
    )
    request_id = grocery_request(residents[0], "大米5公斤、青菜两斤")
    officer = make_staff("supplies", city.xiaodian, "supplies_officer")
    store = services.warehouse_create(
        actor=officer, name="小店区应急物资储备库", jurisdiction_id=city.xiaodian.pk
    )
    grain = Item.objects.get(code="grain")
    move(officer, "receipt", store, grain, 10)
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

        def words_only(name: str) -> None:
            found = raw_codes(page.locator("main").inner_text())
            assert not found, (name, found)
            page.screenshot(path=ARTIFACTS / f"supplies-walk-{name}.png", full_page=True)

        page.goto(live_server.url + "/supplies/")
        page.fill("#id_username", "supplies")
        page.fill("#id_password", PASSWORD)
        page.locator("form[action='/login/'] button[type=submit]").click()
        expect(page.get_by_test_id("days-of-supply").locator("tr.flagged")).to_contain_text(
            "小店区"
        )
        expect(page.get_by_test_id("zone-days")).to_contain_text(zone.name)
        words_only("1-overview")

        page.get_by_role("link", name="仓库", exact=True).click()
        page.get_by_role("link", name="小店区应急物资储备库").click()
        receive = page.get_by_test_id("move-receipt")
        receive.locator("select[name=item_id]").select_option(str(grain.pk))
        receive.locator("input[name=quantity]").fill("200")
        receive.locator("input[name=counterpart]").fill("市粮食和物资储备局")
        receive.locator("button[type=submit]").click()
        expect(page.get_by_test_id("ledger")).to_contain_text("市粮食和物资储备局")
        expect(page.get_by_test_id("stock")).to_contain_text("210")
        words_only("2-warehouse")

        page.get_by_role("link", name="封控区物资配送").click()
        board = page.get_by_test_id("delivery-zones")
        expect(board).to_contain_text(zone.name)
        expect(page.get_by_test_id("waiting-requests")).to_contain_text("大米5公斤")
        words_only("3-board")
        board.get_by_role("link", name="安排配送").click()
        form = page.get_by_test_id("delivery-form")
        form.locator(f"input[name=request_ids][value='{request_id}']").check()
        form.locator(f"input[name=q_{grain.pk}]").fill("5")
        form.locator("button[type=submit]").click()
        expect(page.get_by_test_id("delivery-lines")).to_contain_text("粮食")
        page.get_by_role("button", name="发出配送").click()
        proof = page.get_by_test_id("proof-form")
        proof.locator("input[name=received_by]").fill("王建国")
        photo = tmp_path / "proof.png"
        photo.write_bytes(PNG)
        proof.locator("input[name=photo]").set_input_files(photo)
        proof.locator("button[type=submit]").click()
        expect(page.locator("main")).to_contain_text("王建国")
        expect(page.locator("img.photo-proof")).to_be_visible()
        words_only("4-delivered")
        browser.close()
    assert not problems, problems
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.DELIVERED
    assert balance(store, grain) == 205
    assert ServiceRequest.objects.get(pk=request_id).status == ServiceRequest.Status.DONE
