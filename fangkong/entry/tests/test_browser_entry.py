"""The issue's journey in headless Chromium (Playwright, sync API): a traveller
signs in on the public site and reports his arrival from a medium-risk district;
his page shows home quarantine ahead. The checkpoint officer scans his document
on arrival: the report is merged and he is classified for home quarantine. The
grid worker of his home sees him on the hand-off list. No console error, failed
request or internal code on any page (core.pagecheck). Screenshots go to
``test-artifacts/``."""

from __future__ import annotations

import datetime as dt
import re
import time
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
    raw_codes,
    watch_page,
)
from fangkong.core.crypto import decrypt
from fangkong.entry.tests import kit

pytestmark = BROWSER_TEST


@pytest.fixture
def city(browser_city: City) -> City:
    return browser_city


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


def _staff_sign_in(page: Any, url: str, username: str) -> None:
    page.goto(url)
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form[action='/login/'] button[type=submit]").click()


def test_a_reported_traveller_is_scanned_classified_and_handed_to_his_grid_worker(
    live_server: Any, city: City, monkeypatch: Any
) -> None:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import expect, sync_playwright

    from fangkong.notify import backends

    commander = make_staff("commander", city.city, "city_commander")
    make_staff("cpofficer", city.xiaodian, "checkpoint_officer")
    make_staff("gridworker", city.xd_grid, "grid_worker")
    kit.published_list(commander)
    station = kit.checkpoint(commander, city.xiaodian)
    traveller = make_person(city.xd_building, name="陈旅", phone="13811110000")
    doc = decrypt(traveller.doc_number_encrypted)
    since = (timezone.localdate() - dt.timedelta(days=9)).isoformat()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        # The traveller, on his phone
        phone = browser.new_context(
            viewport={"width": 390, "height": 844}, locale="en-US", is_mobile=True
        ).new_page()
        phone.set_default_timeout(20_000)
        problems = watch_page(phone)
        phone.goto(f"{live_server.url}/me/arrivals/")
        expect(phone).to_have_url(re.compile(r"/status/me/login/\?next="))
        before = len(backends.outbox)
        phone.get_by_label("ID document number").fill(doc)
        phone.get_by_role("button", name="Send me a code").click()
        expect(phone.get_by_text("If this document is registered")).to_be_visible()
        phone.get_by_label("Code from the SMS").fill(_code(before))
        phone.get_by_role("button", name="Sign in").click()
        expect(phone).to_have_url(re.compile(r"/me/arrivals/$"))
        phone.goto(f"{live_server.url}/me/arrival/")
        phone.fill("#id_from_place", "上海市浦东新区")
        phone.fill("#id_since", since)
        phone.fill("#id_arrival_date", timezone.localdate().isoformat())
        phone.fill("#id_transport", "G1")
        phone.fill("#id_destination", "坞城路1号楼")
        phone.get_by_role("button", name="Send").click()
        expect(phone).to_have_url(re.compile(r"/me/arrivals/$"))
        expect(phone.locator("main")).to_contain_text("on arrival you will need home quarantine")
        phone.screenshot(path=str(ARTIFACTS / "entry-traveller-report.png"), full_page=True)

        # The checkpoint officer scans him on arrival
        officer = browser.new_context(
            viewport={"width": 820, "height": 1180}, locale="en-US"
        ).new_page()
        officer.set_default_timeout(20_000)
        officer_problems = watch_page(officer)
        _staff_sign_in(officer, f"{live_server.url}/entry/?checkpoint={station.pk}", "cpofficer")
        officer.select_option("#id_checkpoint", str(station.pk))
        officer.fill("#id_doc_number", doc)
        officer.fill("#id_name", "陈旅")
        officer.locator("main form button[type=submit]").first.click()
        expect(officer).to_have_url(re.compile(r"/entry/arrivals/\d+/$"))
        expect(officer.locator("main")).to_contain_text("Home quarantine")
        found = raw_codes(officer.locator("main").inner_text())
        assert not found, found
        officer.screenshot(path=str(ARTIFACTS / "entry-officer-scan.png"), full_page=True)
        # ... and takes his arrival test: the tube goes to the lab through screening
        officer.fill("#id_barcode", "LD-B-0001")
        officer.get_by_role("button", name="Link the arrival test tube").click()
        expect(officer.locator("main")).to_contain_text("The tube is linked to the arrival.")
        expect(officer.locator("main")).to_contain_text("LD-B-0001")
        expect(officer.locator("main")).to_contain_text("Waiting for the lab")
        found = raw_codes(officer.locator("main").inner_text())
        assert not found, found
        officer.screenshot(path=str(ARTIFACTS / "entry-officer-arrival-test.png"), full_page=True)

        # His grid worker sees him on the hand-off list
        worker = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="zh-CN"
        ).new_page()
        worker.set_default_timeout(20_000)
        worker_problems = watch_page(worker)
        _staff_sign_in(worker, f"{live_server.url}/entry/handoffs/", "gridworker")
        expect(worker.locator("main")).to_contain_text("陈旅")
        expect(worker.locator("main")).to_contain_text("居家隔离")
        worker.screenshot(path=str(ARTIFACTS / "entry-grid-worker-handoffs.png"), full_page=True)

        phone.goto(f"{live_server.url}/me/arrivals/")
        expect(phone.locator("main")).to_contain_text("You need home quarantine")
        expect(phone.locator("main tbody tr").first).to_contain_text("Sampled")
        phone.screenshot(path=str(ARTIFACTS / "entry-traveller-measures.png"), full_page=True)
        browser.close()
    assert not problems + officer_problems + worker_problems, (
        problems + officer_problems + worker_problems
    )
