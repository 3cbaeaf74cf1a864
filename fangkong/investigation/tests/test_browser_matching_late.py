"""Late check-ins on the case page (Playwright, Chromium): after a case was matched,
a late scan log widens one match and brings a person nobody had seen; the
investigator reads both on the case page in words (found in late check-ins; the
overlap before and now) and confirms the new one. Fails on console errors, failed
requests and internal codes in visible text. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import datetime as dt
import re
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
    make_person,
    make_staff,
)
from fangkong.core.pagecheck import watch_page
from fangkong.investigation.models import Contact, ExposureMatch
from fangkong.investigation.services.checkins import checkins_ingest
from fangkong.investigation.services.matching import match_case
from fangkong.investigation.services.trajectories import stop_add
from fangkong.investigation.tests.casekit import days_ago, new_case
from fangkong.investigation.tests.checkins_support import make_checkin, make_venue

pytestmark = BROWSER_TEST

RAW_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def _local(days_back: int, hour: int, minute: int = 0) -> dt.datetime:
    day = timezone.localdate() - dt.timedelta(days=days_back)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


@pytest.fixture
def city(browser_city: City) -> City:
    return browser_city


@pytest.fixture
def scene(city: City) -> Any:
    investigator = make_staff("investigator", city.xiaodian, "investigator")
    officer = make_staff("xiaodian", city.xiaodian, "district_officer")
    case = new_case(
        investigator,
        make_person(city.xd_building, name="王芳"),
        onset=days_ago(3),
        reported=days_ago(1),
    )
    venue = make_venue(city.xd_building, name="坞城超市")
    stop_add(
        actor=investigator,
        case_id=case.pk,
        kind="venue",
        venue_id=venue.pk,
        start=_local(2, 10),
        end=_local(2, 12),
    )
    seen = make_person(city.xd_building2, name="李明")
    make_checkin(venue, seen, _local(2, 10), left_at=_local(2, 10, 30))
    match_case(actor=investigator, case_id=case.pk)
    # The supermarket's scanning system uploads its log late.
    checkins_ingest(
        [
            {
                "venue": str(venue.pk),
                "person_id": str(seen.pk),
                "time": _local(2, 10, 5).isoformat(),
                "left_at": _local(2, 11, 30).isoformat(),
            },
            {
                "venue": str(venue.pk),
                "person_id": str(make_person(city.xd_building2, name="赵强").pk),
                "time": _local(2, 11).isoformat(),
                "left_at": _local(2, 11, 45).isoformat(),
            },
        ],
        actor=officer,
        source_name="坞城超市扫码记录",
    )
    return case


def test_late_check_ins_show_on_the_case_and_the_new_match_is_confirmed(
    live_server: Any, scene: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import expect, sync_playwright

    case = scene
    url = f"/investigation/cases/{case.pk}/"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        for locale, late_words, confirm in (
            ("en-GB", "Found in late check-ins", "Confirm"),
            ("zh-CN", "迟到扫码记录中发现", "确认"),
        ):
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
            page = context.new_page()
            problems = watch_page(page)
            page.goto(live_server.url + url)
            page.fill("#id_username", "investigator")
            page.fill("#id_password", PASSWORD)
            page.locator("form[action='/login/'] button[type=submit]").click()
            expect(page).to_have_url(re.compile(re.escape(url)))
            matches = page.get_by_test_id("matches")
            expect(matches.get_by_test_id("found-late")).to_have_text(late_words)
            expect(matches.get_by_test_id("revised")).to_contain_text("30 → 90")
            text = page.locator("#matches").inner_text()
            assert not RAW_CODE.findall(text), RAW_CODE.findall(text)
            page.screenshot(
                path=str(ARTIFACTS / f"investigation-late-matches-{locale}.png"), full_page=True
            )
            if locale == "zh-CN":
                row = matches.locator("tr", has=page.get_by_test_id("found-late"))
                row.get_by_role("button", name=confirm).click()
                expect(page.locator("#matches")).to_contain_text("已确认")
            assert not problems, problems
            context.close()
        browser.close()
    late = ExposureMatch.objects.get(found_late=True)
    assert late.status == ExposureMatch.Status.CONFIRMED
    assert Contact.objects.filter(person_id=late.person_id).exists()
