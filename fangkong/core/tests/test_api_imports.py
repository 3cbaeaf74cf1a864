import csv
import datetime as dt
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from fangkong.conftest import client_for
from fangkong.core.identity import make_prc_id
from fangkong.core.models import AuditEntry, Jurisdiction, Person

pytestmark = pytest.mark.django_db


PEOPLE_HEADER = ["doc_number", "name", "phone", "building_id"]


def people_csv(rows):
    out = io.StringIO()
    csv.writer(out).writerows([PEOPLE_HEADER, *rows])
    return out.getvalue().encode()


def doc(n):
    return make_prc_id("140105", dt.date(1988, 8, 8), n)


def upload(client, url, content, name="people.csv", **form):
    return client.post(url, {"file": SimpleUploadedFile(name, content), **form})


def test_it_imports_people_from_an_uploaded_file(city, xiaodian_officer):
    b = city.xd_building.pk
    data = people_csv([[doc(1), "甲", "13800138000", b], [doc(2), "乙", "", b]])
    r = upload(client_for(xiaodian_officer), "/api/v1/people/import", data)
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["created"], body["rejected"], body["errors"]) == (2, 0, [])
    assert body["error_file"] is None and body["mode"] == "all_or_nothing"
    assert Person.objects.count() == 2
    assert AuditEntry.objects.get(action="person.import").object_id == body["import_id"]


def test_an_invalid_file_is_a_400_listing_every_row_and_nothing_is_written(city, xiaodian_officer):
    b = city.xd_building.pk
    bad = doc(3)[:-1] + ("0" if doc(3)[-1] != "0" else "1")
    data = people_csv([[doc(1), "甲", "", b], [bad, "乙", "", b], [doc(4), "丙", "999", b]])
    r = upload(client_for(xiaodian_officer), "/api/v1/people/import", data)
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "import_invalid" and err["fields"] == {}
    assert [(x["row"], x["column"]) for x in err["rows"]] == [(3, "doc_number"), (4, "phone")]
    assert all(x["message"] for x in err["rows"])
    assert err["error_count"] == 2
    assert Person.objects.count() == 0 and AuditEntry.objects.count() == 0


def test_valid_only_mode_returns_the_rejected_rows_as_a_file(city, xiaodian_officer):
    b = city.xd_building.pk
    data = people_csv([[doc(1), "甲", "", b], [doc(1), "甲又", "", b]])
    r = upload(client_for(xiaodian_officer), "/api/v1/people/import", data, mode="valid_only")
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["created"], body["rejected"]) == (1, 1)
    assert body["errors"][0]["row"] == 3
    rows = list(csv.reader(io.StringIO(body["error_file"])))
    assert rows[0] == [*PEOPLE_HEADER, "error"] and rows[1][1] == "甲又"


def test_a_building_of_another_district_is_reported_not_used(city, yingze_officer):
    data = people_csv([[doc(1), "甲", "", city.xd_building.pk]])
    r = upload(client_for(yingze_officer), "/api/v1/people/import", data)
    assert r.status_code == 400
    (row,) = r.json()["error"]["rows"]
    assert (row["row"], row["column"]) == (2, "building_id")
    assert Person.objects.count() == 0


@pytest.mark.parametrize(
    ("form", "field"),
    [({"mode": "some"}, "mode"), ({}, "file")],
)
def test_bad_form_input_names_the_field(city, xiaodian_officer, form, field):
    client = client_for(xiaodian_officer)
    if field == "file":
        r = client.post("/api/v1/people/import", form)
    else:
        r = upload(client, "/api/v1/people/import", people_csv([[doc(1), "甲", "", ""]]), **form)
    assert r.status_code == 400
    assert field in r.json()["error"]["fields"]
    assert Person.objects.count() == 0


def test_a_file_of_the_wrong_type_is_a_400(city, xiaodian_officer):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"
    r = upload(client_for(xiaodian_officer), "/api/v1/people/import", png, name="people.xlsx")
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "invalid_file" and "file" in err["fields"]


@override_settings(FANGKONG_MAX_IMPORT_BYTES=64)
def test_an_oversized_file_is_a_413(city, xiaodian_officer):
    data = people_csv([[doc(i), "甲", "", city.xd_building.pk] for i in range(1, 5)])
    r = upload(client_for(xiaodian_officer), "/api/v1/people/import", data)
    assert r.status_code == 413
    err = r.json()["error"]
    assert err["code"] == "file_too_large" and "file" in err["fields"]
    assert Person.objects.count() == 0


def test_staff_without_the_import_capability_are_refused(city, grid_worker):
    data = people_csv([[doc(1), "甲", "", city.xd_building.pk]])
    r = upload(client_for(grid_worker), "/api/v1/people/import", data)
    assert r.status_code == 403
    r = Client().post("/api/v1/people/import", {"file": SimpleUploadedFile("a.csv", data)})
    assert r.status_code == 401


# --- Jurisdiction tree ----------------------------------------------------------


def tree_csv(rows):
    out = io.StringIO()
    header = ["code", "parent_code", "ref", "parent_ref", "level", "name_zh", "name_en"]
    csv.writer(out).writerows([header, *rows])
    return out.getvalue().encode()


def test_it_imports_a_tree_file_and_previews_with_dry_run(city, xiaodian_officer):
    client = client_for(xiaodian_officer)
    data = tree_csv(
        [
            ["", "140105", "s", "", "subdistrict", "黄陵街道", "Huangling"],
            ["", "", "", "s", "community", "黄陵社区", ""],
        ]
    )
    r = upload(client, "/api/v1/jurisdictions/import", data, name="t.csv", dry_run="true")
    assert r.status_code == 200, r.content
    assert r.json()["created"] == 2 and r.json()["dry_run"] is True
    assert not Jurisdiction.objects.filter(name_zh="黄陵街道").exists()
    r = upload(client, "/api/v1/jurisdictions/import", data, name="t.csv")
    assert r.status_code == 200 and r.json()["created"] == 2
    sub = Jurisdiction.objects.get(name_zh="黄陵街道")
    assert Jurisdiction.objects.get(name_zh="黄陵社区").parent_id == sub.pk
    renamed = data.replace(b"Huangling", b"Huangling Subdistrict")
    r = upload(client, "/api/v1/jurisdictions/import", renamed, name="t.csv")
    (change,) = r.json()["overwrites"]
    assert (change["field"], change["old"], change["new"]) == (
        "name_en",
        "Huangling",
        "Huangling Subdistrict",
    )


def test_an_invalid_tree_file_is_a_400_listing_rows(city, xiaodian_officer):
    data = tree_csv([["", "140105", "", "", "province", "错层", ""]])
    r = upload(client_for(xiaodian_officer), "/api/v1/jurisdictions/import", data)
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "import_invalid"
    assert [(x["row"], x["column"]) for x in err["rows"]] == [(2, "level")]
    r = upload(client_for(xiaodian_officer), "/api/v1/jurisdictions/import", data, under_id="abc")
    assert r.status_code == 400 and "under_id" in r.json()["error"]["fields"]
    assert not Jurisdiction.objects.filter(name_zh="错层").exists()


def test_importing_under_another_districts_node_is_a_404(city, xiaodian_officer, grid_worker):
    data = tree_csv([["", "", "", "", "subdistrict", "越界街道", ""]])
    r = upload(
        client_for(xiaodian_officer),
        "/api/v1/jurisdictions/import",
        data,
        under_id=str(city.yingze.pk),
    )
    assert r.status_code == 404
    r = upload(client_for(grid_worker), "/api/v1/jurisdictions/import", data)
    assert r.status_code == 403
    assert not Jurisdiction.objects.filter(name_zh="越界街道").exists()


def test_it_streams_the_tree_as_csv_and_geojson(city, xiaodian_officer):
    client = client_for(xiaodian_officer)
    r = client.get("/api/v1/jurisdictions/export", {"format": "csv"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert r.streaming and "attachment" in r["Content-Disposition"]
    text = r.getvalue().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["code"] == "140105" and rows[0]["parent_code"] == "140100"
    assert {r["name_zh"] for r in rows} >= {"坞城街道", "1号楼"}
    assert not any("柳巷" in r["name_zh"] for r in rows)
    r = client.get(
        "/api/v1/jurisdictions/export", {"format": "geojson", "root_id": city.xd_grid.pk}
    )
    assert r.status_code == 200
    doc = json.loads(r.getvalue())
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 3


def test_export_bad_input_and_another_district(city, xiaodian_officer):
    client = client_for(xiaodian_officer)
    r = client.get("/api/v1/jurisdictions/export", {"format": "kml"})
    assert r.status_code == 400 and "format" in r.json()["error"]["fields"]
    r = client.get("/api/v1/jurisdictions/export", {"root_id": city.yingze.pk})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_it_imports_an_xlsx_upload(city, xiaodian_officer):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["证件号码", "姓名", "手机号", "楼栋ID"])
    wb.active.append([doc(7), "张伟", 13800138000, city.xd_building.pk])
    buf = io.BytesIO()
    wb.save(buf)
    r = upload(client_for(xiaodian_officer), "/api/v1/people/import", buf.getvalue(), "p.xlsx")
    assert r.status_code == 200, r.content
    assert r.json()["created"] == 1
    assert Person.objects.get().name == "张伟"


def test_a_tree_import_without_a_file_names_the_field(city, xiaodian_officer):
    r = client_for(xiaodian_officer).post("/api/v1/jurisdictions/import", {"dry_run": "true"})
    assert r.status_code == 400
    assert "file" in r.json()["error"]["fields"]
