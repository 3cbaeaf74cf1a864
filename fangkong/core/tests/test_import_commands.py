import csv
import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from fangkong.core.identity import make_prc_id
from fangkong.core.models import AuditEntry, Jurisdiction, Person

pytestmark = pytest.mark.django_db


def doc(n):
    return make_prc_id("140105", dt.date(1990, 1, 1), n)


def write_people(path, rows):
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["doc_number", "name", "phone", "building_id"], *rows])


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_people_refuses_a_broken_file_and_saves_the_rejected_rows(
    tmp_path, city, xiaodian_officer
):
    src = tmp_path / "people.csv"
    b = city.xd_building.pk
    write_people(src, [[doc(1), "甲", "", b], [doc(2), "乙", "not-a-phone", b]])
    with pytest.raises(CommandError, match="nothing was imported"):
        run("import-people", str(src), "--as", "xiaodian")
    assert Person.objects.count() == 0
    rejected = (tmp_path / "people.csv.errors.csv").read_text(encoding="utf-8-sig")
    assert "not-a-phone" in rejected and "Row 3" in rejected and doc(1) not in rejected


def test_import_people_with_valid_only_imports_the_good_rows(tmp_path, city, xiaodian_officer):
    src, errors = tmp_path / "people.csv", tmp_path / "out.csv"
    b = city.xd_building.pk
    write_people(src, [[doc(1), "甲", "", b], [doc(2), "乙", "", 424242]])
    out, err = run(
        "import_people", str(src), "--as", "xiaodian", "--valid-only", "--errors", errors
    )
    assert "Imported 1 people; 1 rows rejected" in out
    assert "row 3, building_id" in err
    assert Person.objects.get().name == "甲"
    assert "424242" in errors.read_text(encoding="utf-8-sig")
    assert AuditEntry.objects.filter(action="person.import").count() == 1


def test_import_people_names_an_unknown_user(tmp_path, city):
    src = tmp_path / "people.csv"
    write_people(src, [[doc(1), "甲", "", ""]])
    with pytest.raises(CommandError, match="No active user"):
        run("import-people", str(src), "--as", "ghost")


def test_export_tree_and_import_tree_round_trip_on_the_command_line(
    tmp_path, city, xiaodian_officer
):
    target = tmp_path / "xiaodian.geojson"
    run("export-tree", "--format", "geojson", "--root", "140105", "-o", str(target))
    doc_ = json.loads(target.read_text(encoding="utf-8"))
    assert doc_["features"][0]["properties"]["code"] == "140105"
    assert len(doc_["features"]) == 6
    out, _err = run("import-tree", str(target), "--as", "xiaodian", "--dry-run")
    assert "Dry run" in out and "0 created" in out and "6 unchanged" in out
    doc_["features"][0]["properties"]["name_en"] = "Xiaodian District"
    target.write_text(json.dumps(doc_), encoding="utf-8")
    out, _err = run("import_tree", str(target), "--as", "xiaodian")
    assert "name_en: Xiaodian → Xiaodian District" in out
    assert Jurisdiction.objects.get(code="140105").name_en == "Xiaodian District"


def test_export_tree_as_a_user_is_limited_to_their_area(city, xiaodian_officer):
    out, _err = run("export_tree", "--as", "xiaodian")
    assert "小店区" in out and "迎泽区" not in out
    with pytest.raises(CommandError, match="Not found"):
        run("export_tree", "--as", "xiaodian", "--root", "140106")
    out, _err = run("export_tree")
    assert "迎泽区" in out and "山西省" in out


def test_import_tree_reports_every_row_error(tmp_path, city, xiaodian_officer):
    src = tmp_path / "tree.csv"
    src.write_text("code,parent_code,level,name_zh\n140199,140106,district,越界区\n")
    with pytest.raises(CommandError, match="not valid"):
        run("import-tree", str(src), "--as", "xiaodian")
    assert not Jurisdiction.objects.filter(code="140199").exists()


def test_import_people_with_valid_only_fails_when_every_row_is_rejected(
    tmp_path, city, xiaodian_officer
):
    src = tmp_path / "people.csv"
    write_people(src, [[doc(1), "甲", "", 424242]])
    with pytest.raises(CommandError, match="nothing was imported"):
        run("import_people", str(src), "--as", "xiaodian", "--valid-only")
    assert Person.objects.count() == 0
    assert (tmp_path / "people.csv.errors.csv").exists()
