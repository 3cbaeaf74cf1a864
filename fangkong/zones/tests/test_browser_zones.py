"""One zoned-control walk in headless Chromium (Playwright, sync API).

A district officer draws a zone on the map (clicking its corners), proposes it;
the city commander approves it in the queue; a resident of the zone then has
the zone's status reason, sees the zone on the public portal from a phone, signs
in with document number and SMS code and files a medicine request, which lands on
the team's board, where a team member takes it and marks it done. Screenshots go to
``test-artifacts/``.
"""

import re
import time

import pytest

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
from fangkong.core.crypto import decrypt
from fangkong.notify import backends
from fangkong.zones.geometry import derived_box
from fangkong.zones.models import ServiceRequest, Zone
from fangkong.zones.tests.zonekit import active_kinds

pytestmark = BROWSER_TEST


@pytest.fixture
def city(browser_city: City) -> City:
    return browser_city


@pytest.fixture
def scene(city):
    make_staff("xiaodian", city.xiaodian, "district_officer")
    make_staff("commander", city.city, "city_commander")
    make_staff("member", city.xd_grid, "zone_team_member")
    resident = make_person(city.xd_building, name="王芳", phone="13800001111")
    neighbour = make_person(city.xd_building2, name="李明", phone="13800002222")
    return city, resident, neighbour


@pytest.fixture
def browser(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _signed_in(browser, live_server, username, url):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + url)
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form[action='/login/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape(url)))
    return page


def _sms_code(since: int) -> str:
    """The one-time code of the newest SMS since ``since`` (the notify test outbox)."""
    deadline = time.time() + 10
    while time.time() < deadline:
        for sms in backends.outbox[since:]:
            found = re.search(r"(?<!\d)(\d{6})(?!\d)", sms.body)
            if found:
                return found.group(1)
        time.sleep(0.1)
    raise AssertionError("no one-time code was sent")


def _shot(page, name):
    page.screenshot(path=ARTIFACTS / f"zones-{name}.png", full_page=True)


def test_officer_draws_commander_approves_resident_sealed_request_completed(
    live_server, scene, browser
):
    from playwright.sync_api import expect

    city, resident, neighbour = scene

    # The officer draws the building's outline on the map, corner by corner.
    page = _signed_in(browser, live_server, "xiaodian", "/zones/new/")
    draw = page.locator("#draw-map")
    expect(draw).to_have_attribute("data-ready", "1")
    w, s, e, n = derived_box(city.xd_building.path)
    dx, dy = (e - w) * 0.02, (n - s) * 0.02
    corners = [[w - dx, s - dy], [e + dx, s - dy], [e + dx, n + dy], [w - dx, n + dy]]
    pixels = page.evaluate(
        """(corners) => {
            const chart = echarts.getInstanceByDom(document.getElementById('draw-map'));
            return corners.map(c => chart.convertToPixel({geoIndex: 0}, c));
        }""",
        corners,
    )
    box = draw.bounding_box()
    for x, y in pixels:
        page.mouse.click(box["x"] + x, box["y"] + y)
    expect(draw).to_have_attribute("data-corners", "4")
    expect(draw).to_have_attribute("data-chosen", "1")
    page.fill("#id_name", "坞城1号楼封控区")
    page.select_option("#id_level", "high")
    page.fill("#id_reason", "确诊病例居住楼栋")
    _shot(page, "draw")
    page.get_by_role("button", name="Propose the zone").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("坞城1号楼封控区")
    expect(page.locator("main")).to_contain_text("Proposed")
    zone = Zone.objects.get()
    assert zone.state == Zone.State.PROPOSED
    assert list(zone.units.values_list("node_id", flat=True)) == [city.xd_building.pk]
    assert active_kinds(resident.pk) == set()

    # The commander approves it in the queue.
    boss = _signed_in(browser, live_server, "commander", "/zones/approvals/")
    proposal = boss.get_by_test_id("proposal")
    expect(proposal).to_contain_text("坞城1号楼封控区")
    proposal.locator("input[name=decision_number]").fill("并防控〔2022〕12号")
    proposal.get_by_role("button", name="Approve").click()
    expect(boss.locator(".messages")).to_contain_text("Approved")
    boss.goto(live_server.url + "/zones/")
    expect(boss.locator("#zone-map canvas").first).to_be_visible()
    _shot(boss, "overview")

    zone.refresh_from_db()
    assert zone.state == Zone.State.ACTIVE
    assert active_kinds(resident.pk) == {"sealed_zone"}
    assert active_kinds(neighbour.pk) == set()

    # The resident, on a phone, sees the zone on the public portal (places only),
    # signs in with document number + SMS code and files a medicine request.
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="en-US", is_mobile=True, has_touch=True
    )
    rpage = phone.new_page()
    rpage.set_default_timeout(15_000)
    rpage.goto(live_server.url + "/risk-zones/")
    expect(rpage.locator("main")).to_contain_text("坞城1号楼封控区")
    expect(rpage.locator("main")).not_to_contain_text("王芳")
    rpage.goto(live_server.url + "/me/requests/new/")
    expect(rpage).to_have_url(re.compile(r"/status/me/login/\?next="))
    before = len(backends.outbox)
    rpage.get_by_label("ID document number").fill(decrypt(resident.doc_number_encrypted))
    rpage.get_by_role("button", name="Send me a code").click()
    rpage.get_by_label("Code from the SMS").fill(_sms_code(before))
    rpage.get_by_role("button", name="Sign in").click()
    expect(rpage).to_have_url(re.compile(r"/me/requests/new/$"))
    rpage.select_option("#id_kind", "medicines")
    rpage.fill("#id_text", "降压药")
    rpage.get_by_role("button", name="Send").click()
    expect(rpage).to_have_url(re.compile(r"/me/$"))
    expect(rpage.locator("main")).to_contain_text("降压药")
    _shot(rpage, "resident-request-phone")
    req = ServiceRequest.objects.get(person=resident)
    assert req.zone_id == zone.pk and req.kind.code == "medicines"
    member = _signed_in(browser, live_server, "member", f"/zones/requests/?zone={zone.pk}")
    card = member.get_by_test_id("col-open").get_by_test_id("request")
    expect(card).to_contain_text("降压药")
    card.get_by_role("button", name="Take").click()
    taken = member.get_by_test_id("col-assigned").get_by_test_id("request")
    expect(taken).to_contain_text("降压药")
    taken.locator("input[name=note]").fill("已送达门口")
    taken.get_by_role("button", name="Mark done").click()
    expect(member.get_by_test_id("col-done").get_by_test_id("request")).to_contain_text("降压药")
    _shot(member, "board")
    req.refresh_from_db()
    assert req.status == ServiceRequest.Status.DONE
