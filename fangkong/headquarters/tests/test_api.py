"""The headquarters API: the error shape on bad input, 404 outside the area."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.conftest import client_for

pytestmark = pytest.mark.django_db
API = "/api/v1/hq"


def _deadline(hours: int = 24) -> str:
    return (timezone.now() + dt.timedelta(hours=hours)).isoformat()


def test_a_task_is_given_listed_and_closed(city, commander, grid_worker):
    c = client_for(commander)
    made = c.post(
        f"{API}/tasks",
        {
            "title": "补登流调信息",
            "unit_id": city.xd_grid.pk,
            "deadline": _deadline(),
            "assignee_id": grid_worker.pk,
            "priority": "high",
        },
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["unit"], body["priority_label"], body["overdue"]) == (
        "Pingyang Grid 1",
        "High",
        False,
    )
    box = client_for(grid_worker).get(f"{API}/inbox").json()
    assert [t["id"] for t in box["mine"]] == [body["id"]]
    done = client_for(grid_worker).post(
        f"{API}/tasks/{body['id']}/done", {"note": "ok"}, content_type="application/json"
    )
    assert done.json()["state"] == "done"
    listed = c.get(f"{API}/tasks", {"state": "done"}).json()
    assert [t["id"] for t in listed["items"]] == [body["id"]]


def test_bad_input_names_the_fields(city, commander):
    bad = client_for(commander).post(
        f"{API}/tasks",
        {
            "title": "",
            "unit_id": city.xd_grid.pk,
            "deadline": "2020-01-01T00:00:00+08:00",
            "priority": "asap",
        },
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"title", "deadline", "priority"}
    typed = client_for(commander).post(
        f"{API}/tasks",
        {"title": "x", "unit_id": "grid", "deadline": "soon"},
        content_type="application/json",
    )
    assert typed.status_code == 400


def test_outside_the_area_is_404(city, commander, yingze_officer, xiaodian_officer):
    task = (
        client_for(commander)
        .post(
            f"{API}/tasks",
            {"title": "x", "unit_id": city.xd_grid.pk, "deadline": _deadline()},
            content_type="application/json",
        )
        .json()
    )
    other = client_for(yingze_officer)
    assert other.get(f"{API}/tasks/{task['id']}").status_code == 404
    assert (
        other.post(
            f"{API}/tasks/{task['id']}/done", {}, content_type="application/json"
        ).status_code
        == 404
    )
    assert (
        other.post(
            f"{API}/tasks",
            {"title": "x", "unit_id": city.xd_grid.pk, "deadline": _deadline()},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert client_for(xiaodian_officer).get(f"{API}/tasks/{task['id']}").status_code == 200


def test_without_the_right_is_403(city, nobody, auditor):
    assert client_for(auditor).get(f"{API}/tasks").status_code == 403
    assert (
        client_for(auditor)
        .post(
            f"{API}/tasks",
            {"title": "x", "unit_id": city.xd_grid.pk, "deadline": _deadline()},
            content_type="application/json",
        )
        .status_code
        == 403
    )
