"""Headquarters pages: the inbox and the task pages, scoped, in words."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.conftest import client_for, raw_codes
from fangkong.headquarters import services

pytestmark = pytest.mark.django_db


def test_a_task_given_on_the_page_lands_in_the_assignee_inbox(city, commander, grid_worker):
    c = client_for(commander)
    page = c.get("/hq/tasks/new/")
    assert page.status_code == 200
    deadline = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    made = c.post(
        "/hq/tasks/new/",
        {
            "title": "上门核查",
            "unit": city.xd_grid.pk,
            "priority": "high",
            "deadline": deadline,
            "assignee": grid_worker.pk,
        },
    )
    assert made.status_code == 302
    inbox = client_for(grid_worker).get("/hq/", HTTP_ACCEPT_LANGUAGE="en")
    text = inbox.content.decode()
    assert "上门核查" in text
    assert not raw_codes(text)


def test_a_bad_form_says_what_is_wrong(city, commander):
    bad = client_for(commander).post("/hq/tasks/new/", {"title": "", "unit": city.xd_grid.pk})
    assert bad.status_code == 422


def test_a_task_of_another_district_is_a_404(city, commander, yingze_officer):
    task = services.task_create(
        actor=commander,
        unit_id=city.xd_grid.pk,
        title="x",
        deadline=timezone.now() + dt.timedelta(hours=3),
    )
    assert client_for(yingze_officer).get(f"/hq/tasks/{task.pk}/").status_code == 404
    assert client_for(commander).get(f"/hq/tasks/{task.pk}/").status_code == 200
