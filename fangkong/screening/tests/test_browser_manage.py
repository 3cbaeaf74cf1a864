"""A district screening officer sets up a round in headless Chromium (Playwright):
from the overview to the set-up pages, a sampling site first (a wrong latitude is
shown next to the field, then corrected), then a round over the site's grid with
the city lab. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.conftest import (
    ARTIFACTS,
    BROWSER_TEST,
    PASSWORD,
    City,
    chromium_page,
    make_staff,
)

pytestmark = BROWSER_TEST


@pytest.fixture
def city(browser_city: City) -> City:
    return browser_city


@pytest.fixture
def scene(city: City) -> dict[str, Any]:
    from fangkong.screening.services import rounds

    commander = make_staff("commander", city.city, "city_commander")
    make_staff("officer", city.xiaodian, "district_officer")
    lab = rounds.lab_create(
        actor=commander,
        name="迪安检验",
        code="dian",
        capacity_per_day=100,
        jurisdiction_id=city.city.pk,
    )
    return {"lab": lab}


@pytest.fixture
def browser_page(monkeypatch: Any) -> Any:
    yield from chromium_page(monkeypatch, width=1280, height=900)


def test_an_officer_creates_a_site_and_a_round_through_the_pages(
    live_server: Any, city: City, scene: dict[str, Any], browser_page: Any
) -> None:
    from playwright.sync_api import expect

    from fangkong.screening.models import Round, Site

    page = browser_page
    base = live_server.url
    page.goto(f"{base}/screening/")
    page.fill("#id_username", "officer")
    page.fill("#id_password", PASSWORD)
    page.locator("form[action='/login/'] button[type=submit]").click()

    # From the overview to the sites page.
    page.get_by_test_id("setup-links").locator("a[href='/screening/setup/sites/']").click()
    form = page.get_by_test_id("site-form")
    form.locator("#id_name").fill("平阳路采样点")
    form.locator("#id_jurisdiction_id").select_option(str(city.xd_grid.pk))
    form.locator("#id_lat").fill("137.8")
    form.locator("#id_lon").fill("112.56")
    form.locator("#id_opens_at").fill("07:00")
    form.locator("#id_closes_at").fill("21:00")
    form.locator("#id_lanes").fill("3")
    form.locator("button[type=submit]").click()
    # The service's rule is shown next to the latitude; nothing is created.
    expect(page.locator("#id_lat_error")).to_be_visible()
    assert not Site.objects.exists()
    page.screenshot(path=ARTIFACTS / "screening-setup-site-error.png", full_page=True)
    page.get_by_test_id("site-form").locator("#id_lat").fill("37.8")
    page.get_by_test_id("site-form").locator("button[type=submit]").click()
    expect(page.locator(".message.success")).to_be_visible()
    expect(page.get_by_test_id("sites")).to_contain_text("平阳路采样点")

    # A round over the grid with the city lab (start, end and pooling prefilled).
    page.goto(f"{base}/screening/setup/rounds/")
    form = page.get_by_test_id("round-form")
    form.locator("#id_name").fill("平阳全员第1轮")
    form.locator("#id_area_ids").select_option([str(city.xd_grid.pk)])
    form.locator(f"input[name=lab_ids][value='{scene['lab'].pk}']").check()
    form.locator("button[type=submit]").click()
    expect(page.locator(".message.success")).to_be_visible()
    expect(page.get_by_test_id("rounds")).to_contain_text("平阳全员第1轮")
    page.screenshot(path=ARTIFACTS / "screening-setup-round.png", full_page=True)

    rnd = Round.objects.get(name="平阳全员第1轮")
    assert list(rnd.areas.all()) == [city.xd_grid]
    assert list(rnd.labs.all()) == [scene["lab"]]
    assert rnd.ends_at > rnd.starts_at

    # The round is on the overview, linked to its dashboard.
    page.goto(f"{base}/screening/")
    page.get_by_test_id("rounds").get_by_role("link", name="平阳全员第1轮").click()
    expect(page.get_by_test_id("kpis")).to_be_visible()
