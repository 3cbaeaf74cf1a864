"""The public self-check and appeal on a phone-sized screen (Playwright, Chromium).

A resident signs in with their document number and the SMS code (read from the
notify locmem outbox), sees their red status with the reason in plain language,
the emergency line and the QR code; an appeal quoting another person's document
is refused inline, their own goes through. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from fangkong.conftest import ARTIFACTS, BROWSER_TEST, CHROMIUM, City, make_person
from fangkong.core.crypto import decrypt

pytestmark = BROWSER_TEST


@pytest.fixture
def city(browser_city: City) -> City:
    return browser_city


@pytest.fixture
def scene(city: City) -> dict[str, Any]:
    from fangkong.status.services import reasons_grant

    resident = make_person(city.xd_building, name="陈静", phone="13811112222")
    other = make_person(city.xd_building, name="周强", phone="13833334444")
    reasons_grant(
        kind="sealed_zone", person_ids=[resident.pk], source_type="zones.zone", source_id=1
    )
    return {
        "doc": decrypt(resident.doc_number_encrypted),
        "other_doc": decrypt(other.doc_number_encrypted),
    }


def _code(since: int) -> str:
    from fangkong.notify import backends

    deadline = time.time() + 10
    while time.time() < deadline:
        for sms in backends.outbox[since:]:
            found = re.search(r"(?<!\d)(\d{6})(?!\d)", sms.body)
            if found:
                return found.group(1)
        time.sleep(0.1)
    raise AssertionError("no one-time code was sent")


def test_resident_checks_status_and_appeals_on_a_phone(live_server: Any, scene: Any) -> None:
    from playwright.sync_api import expect, sync_playwright

    from fangkong.notify import backends

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, locale="en-US", is_mobile=True, has_touch=True
        )
        page = context.new_page()
        page.goto(f"{live_server.url}/status/me/")
        expect(page).to_have_url(re.compile(r"/status/me/login/\?next="))
        before = len(backends.outbox)
        page.get_by_label("ID document number").fill(scene["doc"])
        page.get_by_role("button", name="Send me a code").click()
        expect(page.get_by_text("If this document is registered")).to_be_visible()
        page.get_by_label("Code from the SMS").fill(_code(before))
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(r"/status/me/$"))
        card = page.get_by_test_id("status-card")
        expect(card).to_have_attribute("data-level", "red")
        expect(card).to_contain_text("Red")
        expect(page.get_by_test_id("reason")).to_contain_text("Your home is in a sealed zone")
        expect(page.get_by_text("Medical emergencies must be admitted")).to_be_visible()
        expect(page.locator("[data-testid=qr] svg")).to_be_visible()
        # Mobile-first: nothing wider than the phone.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.screenshot(path=str(ARTIFACTS / "status-me-phone-en.png"), full_page=True)

        page.get_by_test_id("appeal-link").click()
        page.get_by_label("Your ID document number").fill(scene["other_doc"])
        page.get_by_label("Why is your status wrong?").fill("I moved out of that building in May.")
        page.get_by_role("button", name="Send my appeal").click()
        expect(page.get_by_text("this is not your document")).to_be_visible()
        page.get_by_label("Your ID document number").fill(scene["doc"])
        page.get_by_role("button", name="Send my appeal").click()
        expect(page).to_have_url(re.compile(r"/status/me/$"))
        expect(page.get_by_text("Your appeal was received")).to_be_visible()
        expect(page.get_by_test_id("my-appeal")).to_contain_text("Open")
        page.screenshot(path=str(ARTIFACTS / "status-appeal-phone-en.png"), full_page=True)

        zh = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        zh.add_cookies(context.cookies())  # type: ignore[arg-type]
        zpage = zh.new_page()
        zpage.goto(f"{live_server.url}/status/me/")
        expect(zpage.get_by_test_id("status-card")).to_contain_text("红码")
        expect(zpage.get_by_text("无论何种状态，医疗急救都必须接诊")).to_be_visible()
        zpage.screenshot(path=str(ARTIFACTS / "status-me-phone-zh.png"), full_page=True)
        browser.close()
