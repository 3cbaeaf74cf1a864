"""The daily report: content in both languages (figures, yesterday's cases by place
and never a name, decisions taken, overdue items), its HTML, PDF and XLSX, the
morning job at the area's time (once a day, sent to the distribution list) and
access by area."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.utils import timezone
from openpyxl import load_workbook

from fangkong.conftest import client_for, make_person, raw_codes
from fangkong.headquarters.models import DailyReport, ReportRecipient, ReportSchedule
from fangkong.headquarters.services.reports import daily_report_make, daily_reports_due
from fangkong.investigation.tests.casekit import new_case
from fangkong.notify.models import Message
from fangkong.zones.tests.zonekit import declare, residents

pytestmark = pytest.mark.django_db


def _section(body, heading):
    return next(s for s in body["sections"] if s["heading"] == heading)


def test_the_report_gives_yesterdays_cases_by_place_decisions_and_overdue_items_in_both_languages(
    city, commander, xiaodian_officer
):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    patient = make_person(city.xd_building, name="王秘密")
    new_case(commander, patient, reported=yesterday)
    residents(city, 2)
    declare(xiaodian_officer, commander, [city.xd_building])
    report = daily_report_make(actor=commander)
    zh, en = report.content["zh-hans"], report.content["en"]
    assert zh["title"] == "太原市日报" or zh["title"].endswith("日报")
    assert en["title"] == f"Daily report of {city.city.name_en}"
    figures = dict(_section(en, "Figures")["rows"])
    assert figures["New confirmed cases yesterday"] == 1
    cases = _section(en, "New cases yesterday by place")
    assert cases["header"] == ["Place", "Classification", "How found", "Disease"]
    [row] = cases["rows"]
    assert row[0].startswith(city.xiaodian.name_en)
    assert "王秘密" not in str(report.content)  # never a name
    [decision] = _section(en, "Decisions taken since yesterday")["rows"]
    assert decision[1].startswith("Zone: ") and decision[3] == "并防控〔2022〕1号"
    overdue = dict(_section(en, "Overdue items")["rows"])
    assert "Overdue retests" in overdue
    zh_cases = _section(zh, "昨日新增病例（按地点）")
    assert zh_cases["rows"][0][0].startswith(city.xiaodian.name_zh)
    assert _section(zh, "逾期事项")["header"] == ["事项", "数量"]
    for body in (zh, en):
        assert not raw_codes(" ".join(str(s) for s in body["sections"]))


def test_html_pdf_and_xlsx_read_in_the_users_language(city, commander):
    new_case(commander, make_person(city.xd_building), reported=timezone.localdate())
    report = daily_report_make(actor=commander)
    c = client_for(commander)
    for lang, words in (("en", "Daily report of"), ("zh-hans", "日报")):
        page = c.get(f"/hq/reports/{report.pk}/", HTTP_ACCEPT_LANGUAGE=lang)
        assert page.status_code == 200
        text = page.content.decode()
        assert words in text and 'id="hq-cases-chart"' in text
        assert not raw_codes(text)
        pdf = c.get(f"/hq/reports/{report.pk}/report.pdf", HTTP_ACCEPT_LANGUAGE=lang)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        xlsx = c.get(f"/hq/reports/{report.pk}/report.xlsx", HTTP_ACCEPT_LANGUAGE=lang)
        book = load_workbook(io.BytesIO(xlsx.content))
        first = book.worksheets[0]
        assert first["A1"].value == ("Item" if lang == "en" else "事项")
        assert len(book.worksheets) >= 4
    listing = c.get("/hq/reports/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"/hq/reports/{report.pk}/report.pdf" in listing


def test_the_morning_job_makes_each_areas_report_once_at_its_time_and_sends_it(city, commander):
    officer_person = make_person(city.xd_building, name="指挥部值班员")
    schedule = ReportSchedule.objects.create(area=city.city, at=dt.time(7, 30), issued_by=commander)
    ReportRecipient.objects.create(schedule=schedule, person=officer_person)
    day = timezone.localdate()
    tz = timezone.get_current_timezone()
    with time_machine.travel(dt.datetime.combine(day, dt.time(7, 25), tzinfo=tz), tick=False):
        assert daily_reports_due() == []
    with time_machine.travel(dt.datetime.combine(day, dt.time(7, 31), tzinfo=tz), tick=False):
        [made] = daily_reports_due()
        assert daily_reports_due() == []  # once a day
    report = DailyReport.objects.get(pk=made)
    assert (report.scheduled, report.day, report.sent_to) == (True, day, 1)
    [sms] = Message.objects.filter(purpose="daily_report")
    assert sms.person_id == officer_person.pk
    with time_machine.travel(
        dt.datetime.combine(day + dt.timedelta(days=1), dt.time(8, 0), tzinfo=tz), tick=False
    ):
        assert len(daily_reports_due()) == 1


def test_a_district_reads_and_makes_only_its_own_reports(
    city, commander, xiaodian_officer, yingze_officer
):
    city_report = daily_report_make(actor=commander)
    own = client_for(xiaodian_officer)
    assert own.get(f"/hq/reports/{city_report.pk}/").status_code == 404
    assert own.get(f"/hq/reports/{city_report.pk}/report.pdf").status_code == 404
    made = own.post("/hq/reports/make/")
    assert made.status_code == 302
    report = DailyReport.objects.exclude(pk=city_report.pk).get()
    assert report.area == city.xiaodian
    assert own.post("/hq/reports/make/", {"area": city.yingze.pk}).status_code == 404
    assert client_for(yingze_officer).get(f"/hq/reports/{report.pk}/").status_code == 404
    assert client_for(commander).get(f"/hq/reports/{report.pk}/").status_code == 200


def test_one_areas_failing_schedule_does_not_keep_the_others_reports_from_being_made(
    city, commander, grid_worker
):
    from fangkong.headquarters.services.reports import DailyReportsFailed

    # The grid worker has no right to the dashboard: that area's report fails.
    ReportSchedule.objects.create(area=city.xiaodian, at=dt.time(7, 0), issued_by=grid_worker)
    ReportSchedule.objects.create(area=city.city, at=dt.time(7, 0), issued_by=commander)
    day = timezone.localdate()
    tz = timezone.get_current_timezone()
    with time_machine.travel(dt.datetime.combine(day, dt.time(7, 5), tzinfo=tz), tick=False):
        with pytest.raises(DailyReportsFailed) as failed:
            daily_reports_due()
    [made] = failed.value.made
    assert DailyReport.objects.get(pk=made).area == city.city
    assert len(failed.value.failed) == 1 and city.xiaodian.name in failed.value.failed[0]
    assert not DailyReport.objects.filter(area=city.xiaodian).exists()
