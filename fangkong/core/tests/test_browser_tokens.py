"""The API tokens page in headless Chromium: create a token (shown once), see it in
the list with its last use, revoke it; no console errors, no raw codes."""

import pytest

from fangkong.conftest import (
    ARTIFACTS,
    BROWSER_TEST,
    PASSWORD,
    City,
    chromium_page,
    make_staff,
    raw_codes,
    watch_page,
)
from fangkong.core.tests.test_browser_staff import audit_rows_removed_after  # noqa: F401

pytestmark = BROWSER_TEST


@pytest.fixture
def city(browser_city: City) -> City:
    return browser_city


@pytest.fixture
def browser_page(monkeypatch, audit_rows_removed_after):  # noqa: F811
    yield from chromium_page(monkeypatch, width=1280, height=860, timeout_ms=10_000)


def test_a_sampler_makes_a_token_for_a_device_sees_it_listed_and_revokes_it(
    live_server, city, browser_page
):
    from playwright.sync_api import expect

    make_staff("sampler1", city.xiaodian, "sampler")
    page = browser_page
    problems = watch_page(page)
    page.goto(f"{live_server.url}/login/?next=/account/tokens/")
    page.fill("#id_username", "sampler1")
    page.fill("#id_password", PASSWORD)
    page.locator("form[action='/login/'] button[type=submit]").click()
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")
    expect(page.locator("main")).to_contain_text("You have no API tokens.")

    page.get_by_label("What is it for?").fill("lane 3 scanner")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_test_id("new-token").inner_text()
    assert secret.startswith("fk_")
    rows = page.get_by_test_id("token-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("lane 3 scanner")
    expect(rows.first).to_contain_text("in use")
    expect(rows.first).to_contain_text("never")
    page.screenshot(path=ARTIFACTS / "api-tokens-en.png", full_page=True)
    assert raw_codes(page.locator("main").inner_text()) == []

    # The device uses it: the list shows when.
    answer = page.request.get(
        f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status == 200
    page.reload()  # a reload shows the list again and never makes a second token
    expect(rows).to_have_count(1)
    expect(page.get_by_test_id("new-token")).to_have_count(0)  # the secret was shown once
    expect(rows.first).not_to_contain_text("never")
    assert secret not in page.content()  # shown once only

    page.once("dialog", lambda d: d.accept())
    rows.first.get_by_role("button", name="Revoke").click()
    expect(page.locator("main")).to_contain_text("is revoked")
    expect(rows.first).to_contain_text("revoked")
    answer = page.request.get(
        f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status == 401
    problems[:] = [p for p in problems if "/api/v1/me" not in p]  # the refused device call

    page.get_by_role("button", name="中文").click()
    page.screenshot(path=ARTIFACTS / "api-tokens-zh.png", full_page=True)
    assert raw_codes(page.locator("main").inner_text()) == []
    assert problems == []
