"""One walk through the staff pages in headless Chromium (Playwright, sync API).

A user signs in, switches language, searches a person, opens the person page,
sees the masked ID and the timeline, and unmasks the numbers with a reason.
Screenshots go to ``test-artifacts/`` (git-ignored) for a human look.
"""

import re

import pytest

from fangkong.conftest import (
    ARTIFACTS,
    BROWSER_TEST,
    PASSWORD,
    City,
    chromium_page,
    make_person,
)
from fangkong.core import services
from fangkong.core.crypto import decrypt

pytestmark = BROWSER_TEST


@pytest.fixture
def city(browser_city: City) -> City:
    return browser_city


@pytest.fixture
def audit_rows_removed_after(transactional_db):
    """Let the flush after this test empty the database.

    The audit table refuses DELETE (append-only triggers, migration 0003), and on
    SQLite the flush that ends a transactional test deletes row by row. Remove
    this test's audit rows with the triggers briefly off, then put them back.
    """
    yield
    from django.db import connection

    if connection.vendor != "sqlite":
        return  # PostgreSQL flushes with TRUNCATE, its trigger lifted by fangkong/conftest.py
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        triggers = [(n, sql) for n, sql in cursor.fetchall() if n.startswith("core_audit_")]
        for name, _sql in triggers:
            cursor.execute(f'DROP TRIGGER "{name}"')
        cursor.execute("DELETE FROM core_auditentry")
        for _name, sql in triggers:
            cursor.execute(sql)


@pytest.fixture
def browser_page(monkeypatch, audit_rows_removed_after):
    yield from chromium_page(monkeypatch, width=1280, height=860, timeout_ms=10_000)


@pytest.fixture
def scene(city, commander, investigator):
    """People to find, with some history. Made before the browser starts: once
    Playwright's event loop runs, ORM calls from this thread would go to a
    connection the test database teardown cannot see."""
    person = make_person(
        city.xd_building, name="王芳", phone="13812345678", key_groups=["medical_staff"]
    )
    make_person(city.xd_building2, name="王建国")
    make_person(city.xd_building2, name="李明")
    services.person_update(
        actor=commander, person_id=person.pk, data={"home_unit": "3-201"}, reason="moved flat"
    )
    services.jurisdiction_recount()
    return person


def test_staff_sign_in_switch_language_find_a_person_and_open_their_page(
    live_server, scene, browser_page
):
    from playwright.sync_api import expect

    person = scene
    page = browser_page

    # Sign in (the default language is Simplified Chinese).
    page.goto(f"{live_server.url}/people/")
    expect(page).to_have_url(re.compile(r"/login/\?next="))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("label[for=id_username]")).to_have_text("用户名")
    page.fill("#id_username", "investigator")
    page.fill("#id_password", PASSWORD)
    page.locator("form[action='/login/'] button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/people/")
    expect(page.get_by_role("button", name="搜索", exact=True)).to_be_visible()

    # Switch to English: the page comes back in English.
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Search", exact=True)).to_be_visible()
    expect(page.get_by_role("navigation", name="Modules")).to_contain_text("People")

    # Search: htmx updates the results table as the user types.
    page.fill("#id_q", "王")
    results = page.locator("#people-results")
    expect(results.get_by_role("link", name="王芳")).to_be_visible()
    expect(results.get_by_role("link", name="王建国")).to_be_visible()
    expect(results).not_to_contain_text("李明")
    expect(page).to_have_url(re.compile(r"/people/\?q="))
    page.screenshot(path=ARTIFACTS / "people-list-en.png", full_page=True)

    # The person page: masked ID, timeline, breadcrumb.
    results.get_by_role("link", name="王芳").click()
    expect(page).to_have_url(f"{live_server.url}/people/{person.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("王芳")
    expect(page.get_by_test_id("doc-masked")).to_have_text(person.doc_masked)
    assert "*" in person.doc_masked
    full_doc = decrypt(person.doc_number_encrypted)
    expect(page.locator("main")).not_to_contain_text(full_doc)
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("moved flat")
    expect(timeline).to_contain_text("3-201")
    expect(page.get_by_role("navigation", name="Jurisdiction")).to_contain_text("Building 1")
    page.screenshot(path=ARTIFACTS / "person-en.png", full_page=True)

    # Unmask in place, with a reason.
    page.get_by_role("link", name="Unmask").click()
    page.get_by_label("Why do you need the full numbers?").fill("calling about a test result")
    page.get_by_role("button", name="Show full numbers").click()
    expect(page.get_by_test_id("doc-full")).to_have_text(full_doc)
    expect(page).to_have_url(f"{live_server.url}/people/{person.pk}/")
    page.screenshot(path=ARTIFACTS / "person-unmasked-en.png", full_page=True)
    page.reload()
    expect(page.locator("#timeline")).to_contain_text("calling about a test result")

    # Back to Chinese; the same page in Chinese, also on a phone-sized screen.
    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.screenshot(path=ARTIFACTS / "person-zh.png", full_page=True)
    page.goto(f"{live_server.url}/people/?q=%E7%8E%8B")
    expect(page.get_by_role("button", name="搜索", exact=True)).to_be_visible()
    page.screenshot(path=ARTIFACTS / "people-list-zh.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/people/{person.pk}/")
    page.screenshot(path=ARTIFACTS / "person-zh-phone.png", full_page=True)
