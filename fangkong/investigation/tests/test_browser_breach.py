"""The closed-loop breach pages in Chromium, both languages: the site manager's
staff page (rotated workers' checks and tests, breaches with their inquiry) and the
investigator's breach inquiries, with the checker of ``make screenshots`` (no
console error, failed request or internal code). Screenshots in ``test-artifacts/``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from fangkong.conftest import ARTIFACTS, BROWSER_TEST, PASSWORD, City, make_staff
from fangkong.core import pagecheck
from fangkong.core.models import StaffProfile
from fangkong.investigation.models import BreachInquiry
from fangkong.quarantine import services
from fangkong.quarantine.tests.kit import active_site

pytestmark = BROWSER_TEST


def _staff(username: str, node: Any, role: str, name: str) -> Any:
    user = make_staff(username, node, role)
    StaffProfile.objects.filter(user=user).update(display_name=name)
    return user


def test_the_breach_pages_read_as_words_in_both_languages(
    browser_city: City, live_server: Any, monkeypatch: Any
) -> None:
    city = browser_city
    manager = _staff("qmanager", city.xiaodian, "quarantine_manager", "郑晓红")
    commander = _staff("commander", city.city, "city_commander", "李指挥")
    _staff("investigator", city.xiaodian, "investigator", "陈卫东")
    site = active_site(manager, commander, city.xiaodian, rooms=2, name="如家酒店")
    guard = services.staff_add(
        actor=manager, site_id=site.pk, name="王保安", role="security", phone="13912345678"
    )
    nurse = services.staff_add(actor=manager, site_id=site.pk, name="周敏", role="medical")
    today = timezone.localdate()
    period = services.period_start(
        actor=manager, staff_id=nurse.pk, started_on=today - dt.timedelta(days=16)
    )
    services.period_rotate(actor=manager, period_id=period.pk, left_on=today - dt.timedelta(days=1))
    services.breach_report(
        actor=manager,
        site_id=site.pk,
        kind="zone_crossing",
        occurred_at=timezone.now() - dt.timedelta(hours=3),
        description="未脱防护服进入清洁区",
        staff_ids=[guard.pk],
    )
    inquiry = BreachInquiry.objects.get()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    screens = [
        pagecheck.Screen("quarantine", "qmanager", ["/quarantine/staff/"]),
        pagecheck.Screen(
            "investigation",
            "investigator",
            ["/investigation/breaches/", f"/investigation/breaches/{inquiry.pk}/"],
        ),
    ]
    findings = pagecheck.walk(
        live_server.url,
        screens,
        PASSWORD,
        out=ARTIFACTS / "breach",
        usernames=["qmanager", "commander", "investigator"],
        timeout_ms=30_000,
    )
    assert len(findings) == 3 * len(pagecheck.LANGUAGES)
    assert pagecheck.report(findings) == ""
