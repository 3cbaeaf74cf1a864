"""The entry API for checkpoints and risk-area lists: created and edited with
field errors, 404 outside the area, 403 without the capability; a list file with
bad rows refused whole with row, column and message; a good one a draft, then in
force (recent arrivals classified anew)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from fangkong.conftest import client_for, make_staff
from fangkong.entry.models import Checkpoint, RiskList
from fangkong.entry.tests import kit

pytestmark = pytest.mark.django_db
API = "/api/v1/entry"


def _checkpoint(city, **kw):
    body = {
        "name_zh": "武宿机场",
        "name_en": "Wusu Airport",
        "kind": "airport",
        "jurisdiction_id": city.xiaodian.pk,
        "opens_at": "06:00:00",
        "closes_at": "23:30:00",
        "staff_on_duty": 12,
        "throughput_per_hour": 900,
    }
    body.update(kw)
    return body


def test_a_checkpoint_is_created_and_edited(commander, city):
    c = client_for(commander)
    r = c.post(f"{API}/checkpoints", _checkpoint(city), content_type="application/json")
    assert r.status_code == 201, r.content
    made = r.json()
    assert made["kind"] == "airport" and made["kind_label"] and made["opens_at"] == "06:00:00"
    edited = c.put(
        f"{API}/checkpoints/{made['id']}",
        _checkpoint(city, kind="road", lanes=6, name_zh="小店收费站", active=False),
        content_type="application/json",
    )
    assert edited.status_code == 200, edited.content
    cp = Checkpoint.objects.get(pk=made["id"])
    assert (cp.kind, cp.lanes, cp.name_zh, cp.active) == ("road", 6, "小店收费站", False)
    assert made["id"] not in [x["id"] for x in c.get(f"{API}/checkpoints").json()]


def test_bad_checkpoint_input_names_the_fields(commander, city):
    c = client_for(commander)
    r = c.post(
        f"{API}/checkpoints",
        _checkpoint(city, kind="road", lanes=0, name_zh=" ", closes_at=None),
        content_type="application/json",
    )
    assert r.status_code == 400
    assert {"name_zh", "lanes", "closes_at"} <= set(r.json()["error"]["fields"])
    r = c.post(
        f"{API}/checkpoints", _checkpoint(city, kind="tunnel"), content_type="application/json"
    )
    assert r.status_code == 400 and "kind" in r.json()["error"]["fields"]
    assert not Checkpoint.objects.exists()


def test_checkpoints_outside_the_area_are_not_found_and_officers_cannot_edit(
    commander, city, officer
):
    yingze = make_staff("yzdistrict", city.yingze, "district_officer")
    made = client_for(commander).post(
        f"{API}/checkpoints", _checkpoint(city), content_type="application/json"
    )
    cid = made.json()["id"]
    r = client_for(yingze).put(
        f"{API}/checkpoints/{cid}",
        _checkpoint(city, jurisdiction_id=city.yingze.pk),
        content_type="application/json",
    )
    assert r.status_code == 404
    r = client_for(yingze).post(
        f"{API}/checkpoints", _checkpoint(city), content_type="application/json"
    )
    assert r.status_code == 404
    r = client_for(officer).put(
        f"{API}/checkpoints/{cid}", _checkpoint(city), content_type="application/json"
    )
    assert r.status_code == 403


def _list_form(csv: str, **kw):
    form = {
        "region_code": "310000",
        "region_name": "上海市",
        "source": "上海发布",
        "published_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
        "effective_from": (timezone.localdate() - dt.timedelta(days=3)).isoformat(),
        "file": SimpleUploadedFile("list.csv", csv.encode(), content_type="text/csv"),
    }
    form.update(kw)
    return form


def test_a_list_file_with_bad_rows_is_refused_whole_with_row_column_and_message(commander):
    csv = "admin_code,district,level\n310104,徐汇区,high\n31x,某区,high\n310101,黄浦区,extreme\n"
    r = client_for(commander).post(f"{API}/lists/import", _list_form(csv))
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "import_invalid"
    assert [(e["row"], e["column"]) for e in error["rows"]] == [(3, "admin_code"), (4, "level")]
    assert not RiskList.objects.exists()
    missing = client_for(commander).post(
        f"{API}/lists/import", {k: v for k, v in _list_form(csv).items() if k != "file"}
    )
    assert missing.status_code == 400 and "file" in missing.json()["error"]["fields"]


def test_a_list_is_imported_as_a_draft_then_put_in_force(commander, officer, station):
    c = client_for(commander)
    r = c.post(f"{API}/lists/import", _list_form(kit.SHANGHAI_CSV))
    assert r.status_code == 201, r.content
    made = r.json()
    assert (made["version"], made["state"], made["areas"]) == (1, "draft", 3)
    kit.register(
        officer, station, kit.traveller(origin="上海", itinerary=kit.stay("徐汇区", "310104"))
    )
    published = c.post(f"{API}/lists/{made['id']}/publish")
    assert published.status_code == 200, published.content
    assert published.json()["list"]["state"] == "published" and published.json()["changed"] == 1
    again = c.post(f"{API}/lists/{made['id']}/publish")
    assert again.status_code == 409
    assert (
        client_for(officer).post(f"{API}/lists/import", _list_form(kit.SHANGHAI_CSV)).status_code
        == 403
    )
