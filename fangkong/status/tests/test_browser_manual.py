"""A manual status on the staff pages (Playwright, Chromium): a grid worker asks for
red on an administrative ground and is told inline that only a health basis may
raise a status; with a test result and its tube barcode the request goes to the
queue, where a district officer reads the basis and source in words and approves.
Fails on console errors, failed requests and internal codes in visible text.
Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import re
from typing import Any

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
)
from fangkong.core.pagecheck import watch_page

pytestmark = BROWSER_TEST

RAW_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b|\bstatus\.manual\b")


@pytest.fixture
def city(browser_city: City) -> City:
    return browser_city


def _signed_in(browser: Any, live_server: Any, username: str, url: str, locale: str) -> Any:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(15_000)
    # A form sent back with its errors answers 422 on purpose.
    problems = watch_page(page, expected_statuses=[422])
    page.goto(live_server.url + url)
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form[action='/login/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape(url)))
    page.problems = problems
    return page


def _clean(page: Any) -> None:
    text = page.inner_text("body")
    assert not RAW_CODE.findall(text), RAW_CODE.findall(text)
    assert not page.problems, page.problems


def test_a_red_needs_a_health_basis_and_the_approver_reads_it(
    live_server: Any, city: City, monkeypatch: Any
) -> None:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import expect, sync_playwright

    make_staff("gridworker", city.xd_grid, "grid_worker")
    make_staff("xiaodian", city.xiaodian, "district_officer")
    person = make_person(city.xd_building, name="赵磊")
    url = f"/status/people/{person.pk}/"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = _signed_in(browser, live_server, "gridworker", url, "en-GB")
        form = page.get_by_test_id("manual-form")
        form.get_by_label("Change").select_option("grant")
        form.get_by_label("Level").select_option(label="Red")
        form.get_by_label("Legal or health basis").select_option("other_administrative")
        form.get_by_label("Written reason").fill("Asked by the bank's branch office")
        form.get_by_label("Ends at").fill("2099-01-01T10:00")
        form.get_by_role("button", name="Send for approval").click()
        expect(page.get_by_role("alert").first).to_contain_text("is not a health fact")
        _clean(page)
        page.screenshot(path=str(ARTIFACTS / "status-manual-refused-en.png"), full_page=True)

        form = page.get_by_test_id("manual-form")
        form.get_by_label("Legal or health basis").select_option("test_result")
        form.get_by_label("Written reason").fill("Positive single-tube retest reported by phone")
        form.get_by_label("Ends at").fill(_soon())
        form.get_by_role("button", name="Send for approval").click()
        expect(page.get_by_role("alert").first).to_contain_text("Name the source")
        form = page.get_by_test_id("manual-form")
        form.get_by_label("Source of the basis").fill("Tube 1401000123")
        form.get_by_label("Ends at").fill(_soon())
        form.get_by_role("button", name="Send for approval").click()
        expect(page.get_by_text("Request sent")).to_be_visible()
        _clean(page)
        page.context.close()

        page = _signed_in(browser, live_server, "xiaodian", "/status/approvals/", "zh-CN")
        row = page.get_by_test_id("request-row")
        expect(row.get_by_test_id("basis")).to_contain_text("检测结果")
        expect(row.get_by_test_id("basis")).to_contain_text("Tube 1401000123")
        expect(row).to_contain_text("红码")
        _clean(page)
        page.screenshot(path=str(ARTIFACTS / "status-approvals-zh.png"), full_page=True)
        row.get_by_role("button", name="批准").click()
        page.goto(live_server.url + url)
        expect(page.get_by_test_id("level")).to_contain_text("红码")
        expect(page.get_by_test_id("history-row").first).to_contain_text("人工")
        _clean(page)
        page.screenshot(path=str(ARTIFACTS / "status-person-manual-zh.png"), full_page=True)
        browser.close()


def _soon() -> str:
    import datetime as dt

    from django.utils import timezone

    return (timezone.localtime() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
