"""The command dashboard by level: the city sees every district, a district its
own (another district's dashboard is a 404); overdue retests open their list, and
a rectification task given from it lands with the district."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.conftest import client_for, make_person, raw_codes
from fangkong.headquarters.models import Task
from fangkong.headquarters.selectors import inbox_for
from fangkong.investigation.tests.casekit import new_case

pytestmark = pytest.mark.django_db


def test_the_city_sees_each_district_and_a_district_only_its_own(city, commander, xiaodian_officer):
    new_case(commander, make_person(city.xd_building), reported=timezone.localdate())
    page = client_for(commander).get("/hq/dashboard/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Xiaodian" in text and "Yingze" in text
    assert page.context["cases_today"] == 1
    assert not raw_codes(text)
    own = client_for(xiaodian_officer).get("/hq/dashboard/")
    assert own.status_code == 200 and own.context["area"] == city.xiaodian
    assert (
        client_for(xiaodian_officer).get(f"/hq/dashboard/?area={city.yingze.pk}").status_code == 404
    )
    assert (
        client_for(commander).get(f"/hq/dashboard/?area={city.yingze.pk}").context["cases_today"]
        == 0
    )


def test_without_the_right_the_dashboard_is_refused(city, grid_worker):
    assert client_for(grid_worker).get("/hq/dashboard/").status_code == 403


def test_a_rectification_task_from_the_retest_list_reaches_the_district(
    city, commander, xiaodian_officer
):
    c = client_for(commander)
    assert c.get("/hq/dashboard/retests/").status_code == 200
    done = c.post("/hq/dashboard/retests/rectify/", {"unit": city.xiaodian.pk, "hours": 24})
    assert done.status_code == 302
    task = Task.objects.get()
    assert (task.kind, task.unit, task.assignee) == (
        "rectification",
        city.xiaodian,
        xiaodian_officer,
    )
    assert task.deadline > timezone.now() + dt.timedelta(hours=23)
    assert [t.pk for t in inbox_for(xiaodian_officer).mine] == [task.pk]
    refused = client_for(xiaodian_officer).post(
        "/hq/dashboard/retests/rectify/", {"unit": city.yingze.pk, "hours": 24}
    )
    assert refused.status_code == 404
