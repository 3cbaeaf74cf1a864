"""Issue 21's browser walk in headless Chromium (Playwright, sync API): the city
commander opens the dashboard, clicks the overdue retests, plans an inspection of
the district behind them; the inspector records a visit where an item fails; the
district officer finds the rectification task in their "my work". No console
error, failed request or raw code on the way. Screenshots in ``test-artifacts/``."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

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
from fangkong.screening.models import Task as ScreeningTask
from fangkong.screening.services import custody, results, sampling
from fangkong.screening.tests.kit import build, people

pytestmark = BROWSER_TEST


@pytest.fixture
def city(browser_city: City) -> City:
    return browser_city


def _overdue_retests(city: City) -> Any:
    """A positive pool in 小店区 whose members' retests are past their due time."""
    from fangkong.core.signing import person_token

    kit = build(city)
    sampling.tube_open(actor=kit.sampler, round_id=kit.round.pk, barcode="T1", site_id=kit.site.pk)
    for p in people(city, 3):
        sampling.tube_scan(actor=kit.sampler, barcode="T1", person_token=person_token(p.pk))
    sampling.tube_close(actor=kit.sampler, barcode="T1")
    custody.box_pack(actor=kit.sampler, round_id=kit.round.pk, barcode="X1", tube_barcodes=["T1"])
    custody.box_hand_over(actor=kit.sampler, barcode="X1", place="坞城")
    custody.box_receive(actor=kit.labtech, lab_id=kit.lab.pk, barcode="X1")
    results.results_import(
        actor=kit.labtech,
        lab_id=kit.lab.pk,
        rows=[{"tube": "T1", "result": "positive", "ct_values": {"ORF1ab": 28.5}}],
    )
    late = timezone.now() - dt.timedelta(hours=3)
    assert ScreeningTask.objects.filter(kind="retest").update(due_at=late) == 3
    return kit


def _sign_in(browser: Any, base: str, username: str, path: str) -> tuple[Any, list[str]]:
    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    page.set_default_timeout(15_000)
    problems = watch_page(page)
    page.goto(base + path)
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form[action='/login/'] button[type=submit]").click()
    return page, problems


def _no_codes(page: Any) -> None:
    found = raw_codes(page.locator("main").inner_text())
    assert not found, found


def test_the_commander_plans_an_inspection_and_the_district_gets_the_rectification(
    live_server, city, monkeypatch
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import expect, sync_playwright

    kit = _overdue_retests(city)
    commander = kit.manager
    make_staff("inspector", city.city, "inspector")
    make_staff("xiaodian", city.xiaodian, "district_officer")
    ARTIFACTS.mkdir(exist_ok=True)
    seen: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        # The commander: dashboard → overdue retests → plan an inspection of 小店区.
        page, problems = _sign_in(browser, live_server.url, commander.username, "/hq/dashboard/")
        figure = page.get_by_test_id("overdue-retests")
        expect(figure.locator(".stat-value")).to_have_text("3")
        figure.click()
        expect(page.get_by_test_id("retest-row")).to_have_count(3)
        _no_codes(page)
        page.get_by_test_id("plan-inspection").first.click()
        page.fill("#id_title", "小店区逾期复核专项督导")
        page.select_option("#id_checklist", "sampling_site")
        page.locator("#id_inspector").select_option(label="inspector · 太原市")
        page.get_by_test_id("plan-form").locator("button[type=submit]").click()
        expect(page.locator("h1")).to_have_text("小店区逾期复核专项督导")
        _no_codes(page)
        page.screenshot(path=ARTIFACTS / "hq-inspection-plan.png", full_page=True)
        seen += problems

        # The inspector: the inspection task in their work, a visit where an item fails.
        page, problems = _sign_in(browser, live_server.url, "inspector", "/hq/")
        expect(page.get_by_test_id("inbox-mine")).to_contain_text("小店区逾期复核专项督导")
        page.goto(live_server.url + "/hq/inspections/")
        page.get_by_role("link", name="小店区逾期复核专项督导").click()
        page.get_by_role("link", name="记录检查").click()
        page.locator("#id_unit").select_option(label="\u2003\u2003\u2003坞城第1网格")
        page.fill("#id_place", "坞城采样点")
        first = page.get_by_test_id("checklist-item").first
        first.get_by_label("不符合要求").check()
        first.locator("textarea").fill("排队人员未保持一米间距，无人引导")
        page.get_by_test_id("visit-form").locator("button[type=submit]").last.click()
        expect(page.get_by_test_id("finding").first).to_contain_text("整改中")
        _no_codes(page)
        page.screenshot(path=ARTIFACTS / "hq-inspection-visit.png", full_page=True)
        seen += problems

        # The district: the rectification task in "my work".
        page, problems = _sign_in(browser, live_server.url, "xiaodian", "/hq/")
        mine = page.get_by_test_id("inbox-mine")
        expect(mine).to_contain_text("整改：排队人员保持一米间距，有专人引导")
        _no_codes(page)
        page.screenshot(path=ARTIFACTS / "hq-rectification-inbox.png", full_page=True)
        seen += problems
        browser.close()
    assert not seen, seen
