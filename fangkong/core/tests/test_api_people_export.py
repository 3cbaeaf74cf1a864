import csv
import io

import pytest

from fangkong.conftest import client_for, make_person
from fangkong.core import exports
from fangkong.core.models import AuditEntry

pytestmark = pytest.mark.django_db

URL = "/api/v1/people/export.csv"


def rows_of(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_it_streams_the_people_of_the_users_subtree_masked(city, xiaodian_officer):
    p = make_person(
        city.xd_building,
        name="小店居民",
        phone="13800138000",
        key_groups=["teachers", "drivers"],
        limited_mobility=True,
    )
    make_person(city.yz_building, name="迎泽居民", region="140106")
    rows = rows_of(client_for(xiaodian_officer).get(URL, HTTP_ACCEPT_LANGUAGE="en"))
    header, *data = rows
    assert header[0] == "ID" and len(header) == 17
    assert len(data) == 1
    row = dict(zip(header, data[0], strict=True))
    assert row["ID"] == str(p.pk) and row["Name"] == "小店居民"
    assert row["Document number (masked)"] == p.doc_masked and "*" in p.doc_masked
    assert row["Phone (masked)"] == "+86*******8000"
    assert row["District / county"] == "Xiaodian"
    assert row["Building"] == "Building 1"
    assert row["Key groups"] == "Drivers and transport crews;Teachers"
    assert row["Limited mobility"] == "yes"
    body = "\n".join(",".join(r) for r in rows)
    assert "13800138000" not in body and "迎泽居民" not in body


def test_it_filters_by_jurisdiction_and_key_group(city, commander):
    a = make_person(city.xd_building, name="甲", key_groups=["teachers"])
    make_person(city.xd_building2, name="乙", key_groups=["teachers"])
    make_person(city.xd_building, name="丙")
    make_person(city.yz_building, name="丁", key_groups=["teachers"], region="140106")
    c = client_for(commander)
    assert len(rows_of(c.get(URL))) == 1 + 4
    rows = rows_of(c.get(URL, {"jurisdiction_id": city.xd_building.pk, "key_group": "teachers"}))
    assert [r[0] for r in rows[1:]] == [str(a.pk)]


def test_it_pages_through_many_people_in_place_order(city, commander, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 3)
    made = [make_person(b) for b in (city.xd_building2, city.xd_building) * 4]
    made.append(make_person(city.yz_building, region="140106"))
    rows = rows_of(client_for(commander).get(URL))[1:]
    ids = [int(r[0]) for r in rows]
    assert sorted(ids) == sorted(p.pk for p in made)
    expected = sorted(made, key=lambda p: (p.scope_path, p.pk))
    assert ids == [p.pk for p in expected]


def test_merged_duplicates_are_left_out(city, commander):
    keep = make_person(city.xd_building)
    dup = make_person(city.xd_building)
    dup.merged_into = keep
    dup.save()
    rows = rows_of(client_for(commander).get(URL))
    assert [r[0] for r in rows[1:]] == [str(keep.pk)]


def test_each_export_leaves_an_audit_row_with_its_filters(city, xiaodian_officer):
    make_person(city.xd_building)
    rows_of(client_for(xiaodian_officer).get(URL, {"key_group": "teachers"}))
    entry = AuditEntry.objects.get(action="person.export")
    assert entry.actor_username == "xiaodian"
    assert entry.scope_path == city.xiaodian.path
    assert entry.changes["filters"][1] == {"jurisdiction_id": None, "key_group": "teachers"}


def test_a_jurisdiction_of_another_district_does_not_exist(city, yingze_officer):
    make_person(city.xd_building)
    r = client_for(yingze_officer).get(URL, {"jurisdiction_id": city.xiaodian.pk})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert not AuditEntry.objects.filter(action="person.export").exists()


def test_bad_input_names_the_field_and_writes_nothing(city, xiaodian_officer):
    c = client_for(xiaodian_officer)
    r = c.get(URL, {"key_group": "astronauts"})
    assert r.status_code == 400
    assert "key_group" in r.json()["error"]["fields"]
    r = c.get(URL, {"jurisdiction_id": "north"})
    assert r.status_code == 400
    assert "jurisdiction_id" in r.json()["error"]["fields"]
    assert not AuditEntry.objects.filter(action="person.export").exists()


def test_it_needs_the_export_permission(city, grid_worker, nobody):
    make_person(city.xd_building)
    r = client_for(grid_worker).get(URL)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    assert client_for(nobody).get(URL).status_code == 403
    assert not AuditEntry.objects.filter(action="person.export").exists()


def test_cells_that_could_be_spreadsheet_formulas_are_neutralised(city, commander):
    make_person(city.xd_building, name="=HYPERLINK(1)")
    rows = rows_of(client_for(commander).get(URL))
    assert rows[1][1] == "'=HYPERLINK(1)"
