"""One screening walk in headless Chromium (Playwright, sync API).

A sampler opens a tube by scanning its barcode (typed, then Enter, as a barcode
scanner does), scans ten people and closes the tube; a box carries it to the lab;
the lab technician receives the box and reports the tube positive; the members'
statuses turn and their retest tasks appear on the round dashboard. Screenshots
go to ``test-artifacts/``.
"""

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.conftest import (
    ARTIFACTS,
    BROWSER_TEST,
    PASSWORD,
    City,
    chromium_page,
    make_person,
    make_staff,
)
from fangkong.core.signing import person_token

pytestmark = BROWSER_TEST


@pytest.fixture
def city(browser_city: City) -> City:
    return browser_city


@pytest.fixture
def scene(city):
    from fangkong.screening.services import rounds

    manager = make_staff("manager", city.city, "city_commander")
    make_staff("sampler", city.xiaodian, "sampler")
    labtech = make_staff("labtech", city.city, "lab_technician")
    lab = rounds.lab_create(
        actor=manager,
        name="迪安检验",
        code="dian",
        capacity_per_day=100,
        jurisdiction_id=city.city.pk,
    )
    lab.staff.add(labtech)
    now = timezone.now()
    rnd = rounds.round_create(
        actor=manager,
        name="全员第1轮",
        area_ids=[city.xiaodian.pk],
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=23),
        pooling_ratio=10,
        lab_ids=[lab.pk],
    )
    site = rounds.site_create(
        actor=manager,
        name="坞城采样点",
        jurisdiction_id=city.xd_grid.pk,
        lat=37.8,
        lon=112.5,
        opens_at=dt.time(0, 0),
        closes_at=dt.time(23, 59),
    )
    rounds.team_create(actor=manager, name="坞城采样队", area_id=city.xd_grid.pk)
    people = [make_person(city.xd_building, name=f"居民{i}") for i in range(10)]
    return {
        "round": rnd,
        "site": site,
        "lab": lab,
        "tokens": [person_token(p.pk) for p in people],
        "people": [p.pk for p in people],
    }


@pytest.fixture
def browser_page(monkeypatch):
    yield from chromium_page(monkeypatch, width=390, height=844)


def _login(page, base: str, username: str, next_url: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}{next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form[action='/login/'] button[type=submit]").click()


def test_a_tube_goes_from_sampler_to_lab_to_positive_follow_up(live_server, scene, browser_page):
    from playwright.sync_api import expect

    from fangkong.screening.models import Task
    from fangkong.status.selectors import person_status

    page = browser_page
    base = live_server.url
    _login(page, base, "sampler", "/screening/sample/")
    page.select_option("select[name=round_id]", str(scene["round"].pk))
    page.select_option("select[name=site_id]", str(scene["site"].pk))
    page.get_by_test_id("start").click()
    # The barcode scanner types the tube code and presses Enter.
    page.fill("#tube-code", "TY000001")
    page.press("#tube-code", "Enter")
    expect(page.get_by_test_id("tube-code")).to_have_text("TY000001")
    for n, token in enumerate(scene["tokens"], start=1):
        page.fill("#scan-code", token)
        page.press("#scan-code", "Enter")
        expect(page.get_by_test_id("tube-count")).to_have_text(str(n))
    page.screenshot(path=ARTIFACTS / "screening-sampler.png", full_page=True)
    # An eleventh scan of the same person is refused with a message.
    page.fill("#scan-code", scene["tokens"][0])
    page.press("#scan-code", "Enter")
    expect(page.locator(".message.error")).to_be_visible()
    page.get_by_test_id("close-tube").click()
    expect(page.locator("#tube-code")).to_be_visible()

    # Transport: pack and hand over.
    page.goto(f"{base}/screening/boxes/")
    page.fill("form:has(input[value=pack]) input[name=barcode]", "BOX01")
    page.fill("textarea[name=tubes]", "TY000001")
    page.locator("form:has(input[value=pack]) button[type=submit]").click()
    expect(page.locator(".message.success")).to_be_visible()
    page.fill("form:has(input[value=hand_over]) input[name=barcode]", "BOX01")
    page.locator("form:has(input[value=hand_over]) button[type=submit]").click()
    expect(page.locator(".message.success")).to_be_visible()

    # Lab: receive the box, report the tube positive.
    page.set_viewport_size({"width": 1280, "height": 900})
    _login(page, base, "labtech", "/screening/lab/")
    page.fill("#box-code", "BOX01")
    page.press("#box-code", "Enter")
    expect(page.get_by_test_id("recent")).to_contain_text("TY000001")
    page.fill("form:has(input[value=result]) input[name=tube]", "TY000001")
    page.select_option("select[name=result]", "positive")
    page.fill("input[name=ct_ORF1ab]", "28.5")
    page.locator("form:has(input[value=result]) button[type=submit]").click()
    expect(page.locator(".message.success")).to_contain_text("1")
    page.screenshot(path=ARTIFACTS / "screening-lab.png", full_page=True)

    # The members' statuses turned; their retest tasks are on the dashboard.
    assert all(person_status(pid)["level"] != "green" for pid in scene["people"])
    assert Task.objects.filter(kind="retest").count() == 10
    _login(page, base, "manager", f"/screening/rounds/{scene['round'].pk}/")
    expect(page.get_by_test_id("tasks").locator("tbody tr")).to_have_count(10)
    expect(page.get_by_test_id("positives")).to_contain_text("TY000001")
    page.screenshot(path=ARTIFACTS / "screening-round.png", full_page=True)
