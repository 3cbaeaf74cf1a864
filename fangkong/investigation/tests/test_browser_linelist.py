"""A line list's chains and clusters on the clusters page, and a case imported
without its date on its page (Playwright, Chromium), in both languages: the
figures as the import reported them, the date to be completed, the second
infector a possible source. Fails on console errors, failed requests and internal
codes in visible text. Screenshots go to ``test-artifacts/``."""

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
    make_staff,
    raw_codes,
    watch_page,
)
from fangkong.investigation.models import Case
from fangkong.investigation.services.linelist import LineListReport, linelist_import

pytestmark = BROWSER_TEST

LIST = (
    b"id,confirmed_date,onset_date,infected_by,cluster\n"
    b"A001,2022-10-01,,,Night market\n"
    b"A002,2022-10-03,,A001,\n"
    b"A003,,2022-10-02,A002;A001,\n"
    b"B001,2022-10-05,,,\n"
    b"B002,2022-10-06,,B001,\n"
    b"C001,2022-10-07,,,Night market\n"
)


@pytest.fixture
def scene(browser_city: City) -> tuple[LineListReport, Case]:
    officer = make_staff("xiaodian", browser_city.xiaodian, "district_officer")
    report = linelist_import(actor=officer, data=LIST, fmt="generic")
    return report, Case.objects.get(external_ref="A003")


def test_the_clusters_page_shows_the_chains_and_clusters_of_the_import(
    live_server: Any, scene: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import expect, sync_playwright

    report, undated = scene
    assert report.chains == {"count": 2, "largest": 3}
    assert report.clusters == {"count": 2, "largest": 4, "named": 1}
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        for locale, chains_words, to_complete, possible in (
            ("en-GB", "Transmission chains", "to be completed", "One of several possible sources"),
            ("zh-CN", "传播链", "待补全", "多个可能传染源之一"),
        ):
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
            page = context.new_page()
            problems = watch_page(page)
            page.goto(live_server.url + "/investigation/clusters/")
            page.fill("#id_username", "xiaodian")
            page.fill("#id_password", PASSWORD)
            page.locator("form[action='/login/'] button[type=submit]").click()
            expect(page).to_have_url(re.compile(r"/investigation/clusters/"))
            figures = page.get_by_test_id("chain-figures")
            expect(figures).to_contain_text(chains_words)
            values = figures.locator(".stat-value").all_inner_texts()
            assert values == ["2", "3", "2", "4", "1"]
            assert not raw_codes(page.locator("main").inner_text())
            page.screenshot(path=str(ARTIFACTS / f"linelist-clusters-{locale}.png"), full_page=True)
            page.goto(live_server.url + f"/investigation/cases/{undated.pk}/")
            expect(page.get_by_test_id("report-date-unknown")).to_contain_text(to_complete)
            first = Case.objects.get(external_ref="A001")
            page.goto(live_server.url + f"/investigation/cases/{first.pk}/")
            expect(page.locator("#contacts")).to_contain_text(possible)
            assert not raw_codes(page.locator("main").inner_text())
            page.screenshot(path=str(ARTIFACTS / f"linelist-possible-{locale}.png"), full_page=True)
            assert not problems, problems
            context.close()
        browser.close()
