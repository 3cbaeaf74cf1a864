"""A site manager's day in headless Chromium (Playwright, sync API).

A transfer is handed over at an active site (entry's fact); the site manager
sees the arrival waiting, gives them a room, records two days of temperature
checks and the tests, and on the day after the last day of quarantine releases
the person and opens the release certificate. Time travels forward (the live
server shares the test's clock; the browser's cookies stay valid because the
days are in the future). The walk fails on console errors, failed requests and
raw codes in the visible text. Screenshots go to ``test-artifacts/``.
"""

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pypdf
import pytest
import time_machine
from django.utils import timezone

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
from fangkong.core import events
from fangkong.quarantine.models import Stay
from fangkong.quarantine.tests.kit import active_site

pytestmark = BROWSER_TEST
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def city(browser_city: City) -> City:
    return browser_city


@pytest.fixture
def browser(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _no_raw_codes(page):
    found = raw_codes(page.locator("main").inner_text())
    assert not found, found


def _shot(page, name):
    page.screenshot(path=ARTIFACTS / f"quarantine-{name}.png", full_page=True)


def test_manager_accepts_an_arrival_monitors_two_days_and_releases_with_a_certificate(
    live_server, city, browser
):
    from playwright.sync_api import expect

    first_day = timezone.localdate() + dt.timedelta(days=20)

    def at(day: int, hour: int) -> dt.datetime:
        return dt.datetime.combine(
            first_day + dt.timedelta(days=day - 1), dt.time(hour), tzinfo=SHANGHAI
        )

    with time_machine.travel(at(1, 8), tick=True) as clock:
        manager = make_staff("qmanager", city.xiaodian, "quarantine_manager")
        commander = make_staff("commander", city.city, "city_commander")
        site = active_site(manager, commander, city.xiaodian, rooms=4, name="坞城路如家酒店")
        person = make_person(city.xd_building, name="王芳")
        events.publish(
            "transfer.handed_over",
            transfer_id=501,
            person_ids=[person.pk],
            arrival_ids=[9001],
            destination_kind="quarantine_site",
            destination_id=site.pk,
            at=at(1, 8).isoformat(),
            category="close_contact",
            planned_end=None,
        )

        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(15_000)
        problems = watch_page(page)

        def sign_in(url: str) -> None:
            """Open a page, signing in when asked (sessions expire after hours idle)."""
            page.goto(live_server.url + url)
            if not page.locator("#id_username").count():
                return
            page.fill("#id_username", "qmanager")
            page.fill("#id_password", PASSWORD)
            page.locator("form[action='/login/'] button[type=submit]").click()

        sign_in("/quarantine/")
        expect(page.get_by_test_id("quarantine-kpis")).to_contain_text("1")
        _no_raw_codes(page)
        _shot(page, "overview")

        # The arrival waits at the site: give them a room.
        page.get_by_role("link", name="坞城路如家酒店").first.click()
        waiting = page.locator("#waiting")
        expect(waiting).to_contain_text("王芳")
        waiting.locator("select[name=room_id]").select_option(label="201 · 单人间")
        waiting.get_by_role("button", name="分配", exact=True).click()
        expect(page.locator(".messages")).to_contain_text("已分配房间")
        expect(page.locator("li.room-occupied")).to_contain_text("王芳")
        _no_raw_codes(page)
        _shot(page, "site")

        # Day 1: morning and afternoon checks, the day's test.
        page.locator("li.room-occupied a", has_text="王芳").click()
        expect(page.get_by_test_id("stay-state")).to_have_text("隔离中")
        stay_url = page.url.replace(live_server.url, "")

        def check(slot_label: str, temperature: str) -> None:
            sign_in(stay_url)  # hours pass between rounds
            form = page.get_by_test_id("check-form")
            form.locator("select[name=slot]").select_option(label=slot_label)
            form.locator("input[name=temperature]").fill(temperature)
            form.get_by_role("button", name="记录本次监测").click()
            expect(page.locator(".messages")).to_contain_text("已记录")

        def negative(day: int) -> None:
            row = page.get_by_test_id("tests").locator("tr", has_text=f"第 {day} 天")
            row.get_by_role("button", name="阴性").click()
            expect(page.locator(".messages")).to_contain_text("检测结果已记录")

        check("上午", "36.5")
        clock.move_to(at(1, 15))
        check("下午", "36.7")
        negative(1)

        # Day 2.
        clock.move_to(at(2, 9))
        check("上午", "36.6")
        clock.move_to(at(2, 16))
        check("下午", "36.4")
        negative(2)
        expect(page.get_by_test_id("checks").locator("tbody tr")).to_have_count(4)
        expect(page.get_by_test_id("unmet")).to_be_visible()
        _no_raw_codes(page)
        _shot(page, "stay-monitoring")

        # The day after the last day: the remaining tests, then release.
        clock.move_to(at(8, 10))
        sign_in(stay_url)
        for day in (3, 5, 7):
            negative(day)
        expect(page.get_by_test_id("criteria-met")).to_be_visible()
        page.get_by_test_id("release").click()
        expect(page.locator(".messages")).to_contain_text("已解除隔离")
        expect(page.get_by_test_id("stay-state")).to_have_text("已解除隔离")
        certificate = page.get_by_test_id("certificate")
        expect(certificate).to_be_visible()
        _no_raw_codes(page)
        _shot(page, "released")
        response = page.request.get(live_server.url + certificate.get_attribute("href"))
        assert response.status == 200
        assert response.headers["content-type"] == "application/pdf"
        text = pypdf.PdfReader(io.BytesIO(response.body())).pages[0].extract_text()
        assert "解除集中隔离医学观察证明" in text
        assert "王芳" in text
        assert not problems, problems
        context.close()

    stay = Stay.objects.get(person=person)
    assert stay.state == "released"
    assert stay.checks.count() == 4
    assert stay.certificate_number.startswith("JC")
