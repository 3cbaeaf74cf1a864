"""Closed-loop staff: rotation from the rule, monitoring after it, breach reports."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from fangkong.conftest import client_for
from fangkong.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from fangkong.quarantine import services
from fangkong.quarantine.models import BreachReport, SiteStaff, StaffPeriod, StaffTest

pytestmark = pytest.mark.django_db


def test_a_worker_rotates_after_the_rules_days_and_is_monitored_after(site, manager):
    nurse = services.staff_add(
        actor=manager, site_id=site.pk, name="李护士", role="medical", phone="13912345678"
    )
    assert nurse.phone_masked == "+86*******5678"
    assert "13912345678" not in nurse.phone_encrypted
    day = dt.date(2022, 10, 1)
    with time_machine.travel(dt.datetime(2022, 10, 1, 9, tzinfo=dt.UTC), tick=False):
        period = services.period_start(actor=manager, staff_id=nurse.pk, started_on=day)
        assert period.rotation_due == dt.date(2022, 10, 15)
        with pytest.raises(Conflict):
            services.period_start(actor=manager, staff_id=nurse.pk, started_on=day)
    with time_machine.travel(dt.datetime(2022, 10, 15, 9, tzinfo=dt.UTC), tick=False):
        period = services.period_rotate(
            actor=manager, period_id=period.pk, left_on=dt.date(2022, 10, 15)
        )
        assert period.monitoring_until == dt.date(2022, 10, 22)
        services.staff_check_record(
            actor=manager,
            period_id=period.pk,
            taken_on=dt.date(2022, 10, 15),
            slot="am",
            data=services.CheckData(temperature="36.4"),
        )
    assert services.periods_finish(today=dt.date(2022, 10, 21)) == 0
    assert services.periods_finish(today=dt.date(2022, 10, 22)) == 1
    assert StaffPeriod.objects.get().state == "done"


def test_a_breach_report_needs_its_site(site, manager):
    with pytest.raises(ValidationFailed) as exc:
        services.breach_report(
            actor=manager,
            site_id=None,
            kind="left_loop",
            occurred_at=timezone.now(),
            description="擅自离开",
        )
    assert "site_id" in exc.value.fields


def test_a_breach_is_investigated_and_closed_with_findings(site, manager, commander):
    guard = services.staff_add(actor=manager, site_id=site.pk, name="王保安", role="security")
    report = services.breach_report(
        actor=manager,
        site_id=site.pk,
        kind="zone_crossing",
        occurred_at=timezone.now() - dt.timedelta(hours=2),
        description="未脱防护服进入清洁区",
        staff_ids=[guard.pk],
    )
    assert list(report.staff.all()) == [guard]
    with pytest.raises(PermissionDenied):
        services.breach_update(actor=manager, breach_id=report.pk, state="investigating")
    services.breach_update(actor=commander, breach_id=report.pk, state="investigating")
    with pytest.raises(ValidationFailed):
        services.breach_update(actor=commander, breach_id=report.pk, state="closed")
    closed = services.breach_update(
        actor=commander,
        breach_id=report.pk,
        state="closed",
        findings="培训不足",
        measures="全员复训，该员隔离观察",
    )
    assert closed.state == "closed"
    assert closed.closed_at is not None


def test_another_districts_manager_cannot_report_for_the_site(site, yz_manager):
    with pytest.raises(NotFound):
        services.breach_report(
            actor=yz_manager,
            site_id=site.pk,
            kind="other",
            occurred_at=timezone.now(),
            description="x",
        )
    assert not SiteStaff.objects.exists()


def test_a_rotated_worker_is_tested_on_the_rules_days_and_a_positive_shows(site, manager):
    nurse = services.staff_add(actor=manager, site_id=site.pk, name="赵护士", role="medical")
    with time_machine.travel(dt.datetime(2022, 10, 1, 9, tzinfo=dt.UTC), tick=False):
        period = services.period_start(
            actor=manager, staff_id=nurse.pk, started_on=dt.date(2022, 10, 1)
        )
    with time_machine.travel(dt.datetime(2022, 10, 15, 9, tzinfo=dt.UTC), tick=False):
        services.period_rotate(actor=manager, period_id=period.pk, left_on=dt.date(2022, 10, 15))
        tests = list(StaffTest.objects.filter(period=period).order_by("day_number"))
        # The shipped closed-loop rule: tests on days 1, 4 and 7 after leaving the site.
        assert [(t.day_number, t.due_on) for t in tests] == [
            (1, dt.date(2022, 10, 15)),
            (4, dt.date(2022, 10, 18)),
            (7, dt.date(2022, 10, 21)),
        ]
        with pytest.raises(ValidationFailed):
            services.staff_test_record(actor=manager, test_id=tests[1].pk, result="negative")
        services.staff_test_record(actor=manager, test_id=tests[0].pk, result="negative")
        with pytest.raises(Conflict):
            services.staff_test_record(actor=manager, test_id=tests[0].pk, result="positive")
    with time_machine.travel(dt.datetime(2022, 10, 18, 9, tzinfo=dt.UTC), tick=False):
        c = client_for(manager)
        response = c.post(f"/quarantine/staff-tests/{tests[1].pk}/", {"result": "positive"})
        assert response.status_code == 302
        assert StaffTest.objects.get(pk=tests[1].pk).result == "positive"
        page = c.get("/quarantine/staff/").content.decode()
        assert "赵护士" in page and "检测阳性" in page
        check = c.post(
            f"/quarantine/periods/{period.pk}/checks/",
            {"taken_on": "2022-10-18", "slot": "am", "temperature": "38.1"},
        )
        assert check.status_code == 302
        assert "发热或有症状" in c.get("/quarantine/staff/").content.decode()


def test_the_api_records_a_rotated_workers_check_and_test_with_bad_input_named(
    site, manager, yz_manager
):
    nurse = services.staff_add(actor=manager, site_id=site.pk, name="钱护士", role="medical")
    with time_machine.travel(dt.datetime(2022, 10, 15, 9, tzinfo=dt.UTC), tick=False):
        period = services.period_start(
            actor=manager, staff_id=nurse.pk, started_on=dt.date(2022, 10, 1)
        )
        services.period_rotate(actor=manager, period_id=period.pk, left_on=dt.date(2022, 10, 15))
        test = StaffTest.objects.filter(period=period).order_by("day_number")[0]
        c = client_for(manager)
        api = "/api/v1/quarantine"
        bad = c.post(
            f"{api}/periods/{period.pk}/checks",
            {"taken_on": "2022-10-15", "slot": "am", "temperature": "48"},
            content_type="application/json",
        )
        assert bad.status_code == 400
        assert "temperature" in str(bad.json())
        ok = c.post(
            f"{api}/periods/{period.pk}/checks",
            {"taken_on": "2022-10-15", "slot": "am", "temperature": "36.4"},
            content_type="application/json",
        )
        assert ok.status_code == 201 and ok.json()["alarming"] is False
        wrong = c.post(
            f"{api}/staff-tests/{test.pk}", {"result": "maybe"}, content_type="application/json"
        )
        assert wrong.status_code == 400 and "result" in str(wrong.json())
        other = client_for(yz_manager).post(
            f"{api}/staff-tests/{test.pk}", {"result": "negative"}, content_type="application/json"
        )
        assert other.status_code == 404
        done = c.post(
            f"{api}/staff-tests/{test.pk}", {"result": "negative"}, content_type="application/json"
        )
        assert done.status_code == 200 and done.json()["result"] == "negative"


def test_the_staff_page_reports_a_breach_naming_its_workers(site, manager):
    guard = services.staff_add(actor=manager, site_id=site.pk, name="孙保安", role="security")
    c = client_for(manager)
    assert "孙保安" in c.get("/quarantine/staff/").content.decode()
    when = (timezone.localtime() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = c.post(
        "/quarantine/staff/",
        {
            "site_id": site.pk,
            "kind": "left_loop",
            "occurred_at": when,
            "description": "夜间擅自离开驻地",
            "staff_ids": [guard.pk],
        },
    )
    assert response.status_code == 302
    report = BreachReport.objects.get()
    assert list(report.staff.all()) == [guard]
    unknown = c.post(
        "/quarantine/staff/",
        {
            "site_id": site.pk,
            "kind": "left_loop",
            "occurred_at": when,
            "description": "另一人",
            "staff_ids": [guard.pk + 1000],
        },
    )
    assert unknown.status_code == 422
    assert BreachReport.objects.count() == 1
