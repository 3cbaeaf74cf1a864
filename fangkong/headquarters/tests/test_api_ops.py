"""The supervision, accountability and duty API: a plan, a visit with a failed item,
a photo, a proposal decided by a second person; bad input names each field; 404
outside the area; 403 without the right."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from fangkong.conftest import client_for, make_staff

pytestmark = pytest.mark.django_db
API = "/api/v1/hq"
JSON: dict[str, Any] = {"content_type": "application/json", "HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def inspector(city):
    return make_staff("inspector", city.city, "inspector")


def _plan(client, city, inspector, **kw):
    today = timezone.localdate()
    body = {
        "title": "小店区采样点督导",
        "area_id": city.xiaodian.pk,
        "checklist_code": "sampling_site",
        "starts_on": today.isoformat(),
        "ends_on": (today + dt.timedelta(days=2)).isoformat(),
        "inspector_id": inspector.pk,
        **kw,
    }
    return client.post(f"{API}/inspections", body, **JSON)


def test_a_plan_a_visit_a_photo_and_a_reinspection(city, commander, inspector, xiaodian_officer):
    made = _plan(client_for(commander), city, inspector)
    assert made.status_code == 201, made.content
    plan = made.json()
    assert plan["checklist"] == "Sampling site" and plan["task_id"]
    items = plan["items"]
    c = client_for(inspector)
    visit = c.post(
        f"{API}/inspections/{plan['id']}/visits",
        {
            "unit_id": city.xd_grid.pk,
            "place": "坞城采样点",
            "visited_at": timezone.now().isoformat(),
            "findings": [
                {
                    "item_id": items[0]["id"],
                    "result": "failed",
                    "note": "间距不足",
                    "deadline_hours": 24,
                },
                {"item_id": items[1]["id"], "result": "passed"},
            ],
        },
        **JSON,
    )
    assert visit.status_code == 201, visit.content
    failed = visit.json()["visits"][0]["findings"][0]
    assert failed["state_label"] == "Being rectified" and failed["rectification_task_id"]
    # The district sees the rectification task.
    task = client_for(xiaodian_officer).get(f"{API}/tasks/{failed['rectification_task_id']}")
    assert task.status_code == 200 and task.json()["kind"] == "rectification"
    png = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 90, 0)).save(png, "PNG")
    photo = c.post(
        f"{API}/inspections/findings/{failed['id']}/photos",
        {"photo": SimpleUploadedFile("a.png", png.getvalue(), content_type="image/png")},
    )
    assert photo.status_code == 201, photo.content
    assert len(photo.json()["photo_ids"]) == 1
    bad = c.post(
        f"{API}/inspections/findings/{failed['id']}/photos",
        {"photo": SimpleUploadedFile("a.png", b"<html>", content_type="image/png")},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert bad.status_code == 400 and "photo" in bad.json()["error"]["fields"]
    done = c.post(
        f"{API}/inspections/findings/{failed['id']}/reinspect", {"rectified": True}, **JSON
    )
    assert done.status_code == 200 and done.json()["state"] == "rectified"


def test_bad_plan_input_names_each_field(city, commander, inspector):
    bad = _plan(
        client_for(commander), city, inspector, title="", checklist_code="x", ends_on="2020-01-01"
    )
    assert bad.status_code == 400
    assert {"title", "checklist_code", "ends_on"} <= set(bad.json()["error"]["fields"])
    bad = _plan(client_for(commander), city, inspector, area_id=True)
    assert bad.status_code == 400


def test_another_districts_plan_is_a_404(city, commander, inspector, yingze_officer):
    plan = _plan(client_for(commander), city, inspector).json()
    assert client_for(yingze_officer).get(f"{API}/inspections/{plan['id']}").status_code == 404
    made = _plan(client_for(yingze_officer), city, inspector)
    assert made.status_code == 404


def test_without_the_right_planning_is_refused(city, grid_worker, inspector):
    assert _plan(client_for(grid_worker), city, inspector).status_code == 403


def test_a_proposal_is_decided_by_someone_else(city, commander, xiaodian_officer):
    from fangkong.headquarters import services

    task = services.task_create(
        actor=commander,
        unit_id=city.xd_grid.pk,
        title="密接转运",
        deadline=timezone.now() + dt.timedelta(minutes=1),
    )
    task.deadline = timezone.now() - dt.timedelta(hours=3)
    task.save(update_fields=["deadline"])
    c = client_for(xiaodian_officer)
    failures = c.get(f"{API}/accountability/failures", HTTP_ACCEPT_LANGUAGE="en").json()
    assert [(f["failure_kind"], f["failure_id"]) for f in failures] == [("overdue_task", task.pk)]
    made = c.post(
        f"{API}/accountability",
        {
            "failure_kind": "overdue_task",
            "failure_id": task.pk,
            "party_kind": "department",
            "party_name": "小店区卫健局",
            "measure": "talk",
            "grounds": "转运逾期3小时",
        },
        **JSON,
    )
    assert made.status_code == 201, made.content
    rid = made.json()["id"]
    own = c.post(f"{API}/accountability/{rid}/decide", {"pursue": False, "decision": "x"}, **JSON)
    assert own.status_code == 403
    bad = client_for(commander).post(
        f"{API}/accountability/{rid}/decide", {"pursue": True, "decision": ""}, **JSON
    )
    assert bad.status_code == 400
    assert {"decision", "document_number"} <= set(bad.json()["error"]["fields"])
    ok = client_for(commander).post(
        f"{API}/accountability/{rid}/decide",
        {"pursue": True, "decision": "约谈分管负责人", "document_number": "并防指〔2026〕3号"},
        **JSON,
    )
    assert ok.status_code == 200 and ok.json()["state_label"] == "Decided"


def test_accountability_of_another_district_is_a_404(city, commander, yingze_officer):
    assert client_for(yingze_officer).get(f"{API}/accountability/999").status_code == 404
    bad = client_for(yingze_officer).post(
        f"{API}/accountability",
        {
            "failure_kind": "overdue_task",
            "failure_id": 1,
            "party_kind": "unit",
            "party_name": "x",
            "measure": "talk",
            "grounds": "x",
        },
        **JSON,
    )
    assert bad.status_code == 404


def test_duty_shifts_handovers_and_task_forces(city, commander, xiaodian_officer, yingze_officer):
    c = client_for(commander)
    now = timezone.now()
    shift = c.post(
        f"{API}/duty/shifts",
        {
            "area_id": city.xiaodian.pk,
            "user_id": xiaodian_officer.pk,
            "role": "leader",
            "starts_at": (now - dt.timedelta(hours=1)).isoformat(),
            "ends_at": (now + dt.timedelta(hours=7)).isoformat(),
        },
        **JSON,
    )
    assert shift.status_code == 201, shift.content
    assert shift.json()["role_label"] == "Leader on duty"
    now_on = client_for(xiaodian_officer).get(f"{API}/duty/now", HTTP_ACCEPT_LANGUAGE="en").json()
    assert [g["area"] for g in now_on] == ["Xiaodian"]
    assert client_for(yingze_officer).get(f"{API}/duty/now").json() == []
    bad = c.post(
        f"{API}/duty/shifts",
        {
            "area_id": city.xiaodian.pk,
            "user_id": xiaodian_officer.pk,
            "starts_at": now.isoformat(),
            "ends_at": (now - dt.timedelta(hours=1)).isoformat(),
        },
        **JSON,
    )
    assert bad.status_code == 400 and "ends_at" in bad.json()["error"]["fields"]
    note = client_for(xiaodian_officer).post(
        f"{API}/duty/handovers", {"area_id": city.xiaodian.pk, "text": "两名密接待转运"}, **JSON
    )
    assert note.status_code == 201, note.content
    assert (
        client_for(yingze_officer)
        .post(f"{API}/duty/handovers/{note.json()['id']}/receive", **JSON)
        .status_code
        == 404
    )
    tf = c.post(
        f"{API}/taskforces",
        {
            "name": "转运专班",
            "kind": "reserves",
            "area_id": city.xiaodian.pk,
            "leader_id": xiaodian_officer.pk,
            "member_ids": [],
        },
        **JSON,
    )
    assert tf.status_code == 201 and tf.json()["kind_label"] == "Quarantine reserves"
    assert client_for(yingze_officer).get(f"{API}/taskforces").json()["items"] == []
    assert client_for(commander).get(f"{API}/care/overwork").json() == []
