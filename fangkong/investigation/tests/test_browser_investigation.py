"""One investigation walk in headless Chromium (Playwright, sync API).

An investigator opens a case, adds a trajectory stop (after an end-before-start
refusal shown inline), runs matching, confirms the exposed person as a contact,
and sees the chain graph drawn by ECharts. Screenshots of the investigation
pages in English and Chinese (desktop and phone) go to ``test-artifacts/``.
"""

import datetime as dt
import re

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
from fangkong.investigation.services.contacts import contact_promote_to_case
from fangkong.investigation.services.followup import followup_generate_daily, followup_team_create
from fangkong.investigation.tests.casekit import days_ago, new_case, new_contact
from fangkong.investigation.tests.checkins_support import make_checkin, make_venue

pytestmark = BROWSER_TEST


def _local(days_back: int, hour: int, minute: int = 0) -> dt.datetime:
    day = timezone.localdate() - dt.timedelta(days=days_back)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


@pytest.fixture
def city(browser_city: City) -> City:
    return browser_city


@pytest.fixture
def scene(city):
    """Everything the walk needs, made before the browser starts: once Playwright's
    event loop runs, ORM calls from this thread would use a connection the test
    database teardown cannot see."""
    investigator = make_staff("investigator", city.xiaodian, "investigator")
    patient = make_person(city.xd_building, name="王芳")
    case = new_case(investigator, patient, onset=days_ago(3), reported=days_ago(1))
    venue = make_venue(city.xd_building, name="坞城超市", address="坞城路 88 号")
    make_venue(city.xd_building2, name="坞城药房", category="pharmacy")
    exposed = make_person(city.xd_building2, name="李明")
    make_checkin(venue, exposed, _local(2, 10, 20), left_at=_local(2, 11, 20))
    make_checkin(venue, make_person(city.xd_building2, name="赵强"), _local(2, 9, 45))
    # A household contact, so the chain and contact list are not empty at first.
    new_contact(investigator, make_person(city.xd_building, name="王母"), case=case)
    # Another chain (a contact who became a case) and today's follow-ups, for the
    # cluster and follow-up screenshots.
    officer = make_staff("xiaodian", city.xiaodian, "district_officer")
    first = new_case(investigator, make_person(city.xd_building2, name="张三"), onset=days_ago(6))
    link = new_contact(investigator, make_person(city.xd_building2, name="张四"), case=first)
    contact_promote_to_case(
        actor=investigator,
        contact_id=link.pk,
        classification="confirmed",
        report_date=days_ago(0),
        onset_date=days_ago(1),
    )
    new_contact(investigator, make_person(city.xd_building2, name="刘五"), case=first)
    followup_team_create(
        actor=officer,
        name="坞城随访组",
        jurisdiction_id=city.xd_grid.pk,
        member_ids=[investigator.pk],
    )
    followup_generate_daily()
    return case


@pytest.fixture
def browser_page(monkeypatch):
    yield from chromium_page(monkeypatch, width=1280, height=900)


def _shot(page, name):
    page.screenshot(path=ARTIFACTS / f"investigation-{name}.png", full_page=True)


def test_an_investigator_records_a_stop_matches_confirms_a_contact_and_sees_the_chain(
    live_server, scene, browser_page
):
    from playwright.sync_api import expect

    case = scene
    page = browser_page
    case_url = f"{live_server.url}/investigation/cases/{case.pk}/"

    # Sign in (Chinese by default), then read the pages in English.
    page.goto(case_url)
    expect(page).to_have_url(re.compile(r"/login/\?next="))
    page.fill("#id_username", "investigator")
    page.fill("#id_password", PASSWORD)
    page.locator("form[action='/login/'] button[type=submit]").click()
    expect(page).to_have_url(case_url)
    expect(page.locator("nav.sidenav a[href='/investigation/']")).to_have_attribute(
        "aria-current", "page"
    )
    _shot(page, "case-zh")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_contain_text(case.number)

    # Add a stop: a venue found by search; an end before the start is refused inline.
    page.get_by_text("Add a stop").click()
    page.fill("#venue-q", "坞城超")
    page.get_by_label(re.compile("坞城超市")).check()
    start, end = _local(2, 10), _local(2, 11)
    page.fill("#id_start", end.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_end", start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Add the stop").click()
    trajectory = page.locator("#trajectory")
    expect(trajectory.locator(".field-error")).to_have_text("The end is before the start.")
    _shot(page, "stop-error-en")
    expect(page.get_by_label(re.compile("坞城超市"))).to_be_checked()  # kept on refusal
    page.fill("#id_start", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_end", end.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Add the stop").click()
    expect(trajectory.get_by_test_id("stops")).to_contain_text("坞城超市")
    expect(trajectory.get_by_test_id("stops")).to_contain_text("not matched yet")

    # Run matching: the people at the venue then, ranked, names masked.
    page.get_by_role("button", name="Run matching").click()
    matches = page.get_by_test_id("matches")
    expect(matches).to_contain_text("李*")
    expect(matches).not_to_contain_text("李明")
    expect(page.locator("#matches")).to_contain_text("Matching found 2 people, 2 new.")
    first_row = matches.locator("tbody tr").first
    expect(first_row).to_contain_text("李*")  # 60 min overlap ranks above 30
    _shot(page, "matches-en")

    # Confirm the first: he joins the contacts of the case.
    first_row.get_by_role("button", name="Confirm").click()
    expect(page.locator("#matches")).to_contain_text("李明 is now a contact of this case.")
    contacts = page.get_by_test_id("contacts")
    expect(contacts).to_contain_text("李明")
    expect(contacts).to_contain_text("Venue-exposed person")
    expect(contacts).to_contain_text("王母")
    expect(matches.locator("tbody tr").first).to_contain_text("Confirmed")
    _shot(page, "case-en")

    # The chain: ECharts draws the graph on a canvas.
    page.get_by_role("link", name="Chain of transmission").click()
    expect(page).to_have_url(f"{case_url}chain/")
    chart = page.get_by_test_id("chain-chart")
    expect(chart.locator("canvas")).to_have_count(1)
    box = chart.locator("canvas").bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 300
    page.wait_for_function(
        "() => echarts.getInstanceByDom(document.querySelector('[data-chart=chain]'))"
        ".getOption().series[0].data.length === 3 && "
        "echarts.getInstanceByDom(document.querySelector('[data-chart=chain]'))"
        ".getOption().series[0].links.length === 2"
    )
    _shot(page, "chain-en")

    # The other pages, for a look in both languages.
    for name in ("overview", "clusters", "timeline", "followups"):
        path = "" if name == "overview" else f"{name}/"
        page.goto(f"{live_server.url}/investigation/{path}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        _shot(page, f"{name}-en")
    first_followup = page.get_by_test_id("followups").locator("li").first
    first_followup.get_by_label("Seen with symptoms").check()
    expect(first_followup.get_by_label("Temperature (°C)")).to_be_visible()
    _shot(page, "followups-symptoms-en")
    page.goto(f"{live_server.url}/investigation/cases/new/")
    page.fill("#person-q", "李")
    expect(page.locator("#person-options")).to_contain_text("李明")
    _shot(page, "case-new-en")
    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    for name in ("overview", "timeline"):
        path = "" if name == "overview" else f"{name}/"
        page.goto(f"{live_server.url}/investigation/{path}")
        _shot(page, f"{name}-zh")
    page.goto(f"{case_url}chain/")
    expect(page.get_by_test_id("chain-chart").locator("canvas")).to_have_count(1)
    _shot(page, "chain-zh")
    page.goto(case_url)
    _shot(page, "case-zh-after")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(case_url)
    # Nothing sticks out sideways on a phone (wide tables scroll inside their card).
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(page, "case-zh-phone")
    page.goto(f"{live_server.url}/investigation/followups/?all=1")
    _shot(page, "followups-zh-phone")
