import csv
import io
import json

import pytest
from django.contrib.auth import get_user_model

from fangkong.core.errors import NotFound, PermissionDenied
from fangkong.core.models import AuditEntry, Jurisdiction
from fangkong.core.services import jurisdiction_build
from fangkong.core.tabular import FileRejected, ImportRejected
from fangkong.core.tree_io import tree_export, tree_import

pytestmark = pytest.mark.django_db


SQUARE = {
    "type": "Polygon",
    "coordinates": [[[112.5, 37.8], [112.6, 37.8], [112.6, 37.9], [112.5, 37.9], [112.5, 37.8]]],
}
HEADER = ["code", "parent_code", "ref", "parent_ref", "level", "name_zh", "name_en"]


@pytest.fixture
def root_user(db):
    return get_user_model().objects.create_superuser("root", password="correct-horse-42")


def build_small_tree():
    prov = jurisdiction_build(parent=None, level="province", name_zh="山西省", code="140000")
    city = jurisdiction_build(parent=prov, level="city", name_zh="太原市", code="140100")
    dist = jurisdiction_build(
        parent=city, level="district", name_zh="小店区", name_en="Xiaodian", code="140105"
    )
    sub = jurisdiction_build(parent=dist, level="subdistrict", name_zh="坞城街道")
    grid = jurisdiction_build(parent=sub, level="grid", name_zh="第1网格", name_en="Grid 1")
    jurisdiction_build(parent=grid, level="building", name_zh="1号楼", boundary=SQUARE)
    jurisdiction_build(parent=grid, level="building", name_zh="2号楼")


def tree_shape():
    """Every node with its chain of ancestors' names: equal shapes are equal trees."""
    nodes = {n.pk: n for n in Jurisdiction.objects.all()}

    def chain(n):
        return (*chain(nodes[n.parent_id]), n.name_zh) if n.parent_id else (n.name_zh,)

    return sorted(
        (chain(n), n.level, n.code, n.name_en, json.dumps(n.boundary, sort_keys=True))
        for n in nodes.values()
    )


def export(actor, fmt, **kw):
    return "".join(tree_export(actor=actor, fmt=fmt, **kw)).encode("utf-8")


def load(actor, data, name="tree.csv", **kw):
    return tree_import(actor=actor, fileobj=io.BytesIO(data), filename=name, **kw)


def empty_the_tree():
    for node in Jurisdiction.objects.order_by("-depth"):
        node.delete()
    assert not Jurisdiction.objects.exists()


def csv_file(rows, header=HEADER):
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    return out.getvalue().encode()


@pytest.mark.parametrize(("fmt", "name"), [("csv", "tree.csv"), ("geojson", "tree.geojson")])
def test_an_exported_tree_imported_into_an_empty_database_is_the_same_tree(root_user, fmt, name):
    build_small_tree()
    before = tree_shape()
    data = export(root_user, fmt)
    empty_the_tree()
    result = load(root_user, data, name=name)
    assert result.created == 7 and result.updated == 0
    assert tree_shape() == before
    # and the paths make a proper tree again: subtree queries work
    dist = Jurisdiction.objects.get(code="140105")
    assert Jurisdiction.objects.subtree_of(dist.path).count() == 5


@pytest.mark.parametrize(("fmt", "name"), [("csv", "tree.csv"), ("geojson", "tree.geojson")])
def test_importing_the_same_file_again_changes_nothing(root_user, fmt, name):
    build_small_tree()
    data = export(root_user, fmt)
    before = tree_shape()
    result = load(root_user, data, name=name)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 7)
    assert result.overwrites == []
    assert tree_shape() == before


def test_a_district_officer_re_imports_their_own_export(city, xiaodian_officer):
    data = export(xiaodian_officer, "csv")
    text = data.decode("utf-8-sig")
    assert "小店区" in text and "迎泽区" not in text and "柳巷" not in text
    count = Jurisdiction.objects.count()
    result = load(xiaodian_officer, data)
    assert (result.created, result.updated) == (0, 0)
    assert Jurisdiction.objects.count() == count


def test_a_re_import_updates_names_and_boundaries_and_reports_what_it_overwrites(root_user):
    build_small_tree()
    rows = list(csv.reader(io.StringIO(export(root_user, "csv").decode("utf-8-sig"))))
    for r in rows[1:]:
        if r[0] == "140105":
            r[6] = "Xiaodian District"
        if r[5] == "2号楼":
            r[7] = json.dumps(SQUARE)
    data = csv_file(rows[1:], header=rows[0])
    preview = load(root_user, data, dry_run=True)
    assert preview.updated == 2 and preview.dry_run
    assert Jurisdiction.objects.get(code="140105").name_en == "Xiaodian"  # not yet written
    fields = sorted((o["node"], o["field"], o["old"], o["new"]) for o in preview.overwrites)
    assert fields == [
        ("140105", "name_en", "Xiaodian", "Xiaodian District"),
        ("2号楼", "boundary", None, "Polygon"),
    ]
    result = load(root_user, data)
    assert (result.created, result.updated, result.unchanged) == (0, 2, 5)
    assert Jurisdiction.objects.get(code="140105").name_en == "Xiaodian District"
    assert Jurisdiction.objects.get(name_zh="2号楼").boundary == SQUARE
    assert Jurisdiction.objects.count() == 7


def test_an_import_leaves_one_audit_row(city, commander):
    data = csv_file([["", "140105", "", "", "subdistrict", "黄陵街道", "Huangling"]])
    result = load(commander, data)
    assert result.created == 1
    (entry,) = AuditEntry.objects.filter(action="jurisdiction.import")
    assert entry.object_id == result.import_id and entry.actor_username == "commander"
    assert entry.changes["created"] == [None, 1]
    assert entry.changes["file"] == [None, "tree.csv"]
    assert AuditEntry.objects.count() == 1


def test_every_error_is_reported_and_nothing_is_written(city, commander):
    rows = [
        ["140199", "149999", "", "", "district", "未知上级区", ""],  # row 2: unknown parent
        ["", "140105", "", "", "province", "错层", ""],  # row 3: level above its parent
        ["140108", "140100", "", "", "district", "尖草坪区", ""],  # row 4
        ["140108", "140100", "", "", "district", "重复", ""],  # row 5: duplicate code
        ["", "", "a", "b", "grid", "甲网格", ""],  # row 6: cycle a -> b -> a
        ["", "", "b", "a", "grid", "乙网格", ""],  # row 7
        ["140105", "140106", "", "", "district", "小店区", ""],  # row 8: would move
        ["", "140105", "", "", "street", "", ""],  # row 9: bad level, no name
        ["", "", "", "nowhere", "grid", "孤儿网格", ""],  # row 10: unknown parent ref
    ]
    count = Jurisdiction.objects.count()
    with pytest.raises(ImportRejected) as exc:
        load(commander, csv_file(rows))
    found = {(e.row, e.column) for e in exc.value.result.errors}
    assert {
        (2, "parent_code"),
        (3, "level"),
        (5, "code"),
        (6, "parent_code"),
        (7, "parent_code"),
        (8, "parent_code"),
        (9, "level"),
        (9, "name_zh"),
        (10, "parent_ref"),
    } <= found
    assert 4 not in {e.row for e in exc.value.result.errors}
    messages = {(e.row, e.column): e.message for e in exc.value.result.errors}
    assert "cycle" in messages[(6, "parent_code")]
    assert "never moves" in messages[(8, "parent_code")]
    assert exc.value.code == "import_invalid"
    assert Jurisdiction.objects.count() == count
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"type": "FeatureCollection", "features": [', "not valid GeoJSON"),
        (b'{"type": "Feature", "properties": {}}', "FeatureCollection"),
        (b'{"type": "FeatureCollection", "features": []}', "no features"),
        (b"code,name_en\n1,x\n", "level, name_zh"),
        (b"\x00\x01\x02binary", "not a CSV or GeoJSON"),
        (b"PK\x03\x04zipped", "compressed"),
    ],
)
def test_unreadable_tree_files_are_refused(city, commander, content, words):
    with pytest.raises(FileRejected) as exc:
        load(commander, content, name="tree.geojson")
    assert words in str(exc.value.message)


def test_malformed_geometries_are_errors_naming_the_feature(city, commander):
    def feature(name, geometry):
        props = {"parent_code": "140105", "level": "subdistrict", "name_zh": name}
        return {"type": "Feature", "properties": props, "geometry": geometry}

    open_ring = {"type": "Polygon", "coordinates": [[[112.5, 37.8], [112.6, 37.8], [1, 2], [3, 4]]]}
    doc = {
        "type": "FeatureCollection",
        "features": [
            feature("好街道", SQUARE),
            feature("点街道", {"type": "Point", "coordinates": [112.5, 37.8]}),
            feature("开环街道", open_ring),
            feature("越界街道", {"type": "Polygon", "coordinates": [[[500, 37], [1, 2]]]}),
            "not a feature",
        ],
    }
    with pytest.raises(ImportRejected) as exc:
        load(commander, json.dumps(doc).encode(), name="tree.geojson")
    assert [(e.row, e.column) for e in exc.value.result.errors] == [
        (2, "geometry"),
        (3, "geometry"),
        (4, "geometry"),
        (5, "type"),
    ]
    assert not Jurisdiction.objects.filter(name_zh="好街道").exists()


def test_nodes_without_codes_are_placed_under_the_chosen_node_and_matched_on_re_import(
    city, xiaodian_officer
):
    community = city.xd_grid.parent
    rows = [
        ["", "", "g2", "", "网格", "坞城第2网格", "Grid 2"],
        ["", "", "", "g2", "楼栋", "1号楼", ""],
        ["", "", "", "g2", "楼栋", "2号楼", ""],
    ]
    with pytest.raises(ImportRejected) as exc:  # no parent and none chosen
        load(xiaodian_officer, csv_file(rows))
    assert {e.row for e in exc.value.result.errors} == {2}
    result = load(xiaodian_officer, csv_file(rows), under_id=community.pk)
    assert result.created == 3
    grid = Jurisdiction.objects.get(name_zh="坞城第2网格")
    assert grid.parent == community and grid.children.count() == 2
    again = load(xiaodian_officer, csv_file(rows), under_id=community.pk)
    assert (again.created, again.unchanged) == (0, 3)


def test_two_nodes_without_codes_and_the_same_name_under_one_parent_are_refused(city, commander):
    rows = [
        ["", "140105", "", "", "subdistrict", "同名街道", ""],
        ["", "140105", "", "", "subdistrict", "同名街道", ""],
    ]
    with pytest.raises(ImportRejected) as exc:
        load(commander, csv_file(rows))
    assert [(e.row, e.column) for e in exc.value.result.errors] == [(3, "name_zh")]


def test_another_districts_nodes_do_not_exist_for_an_import(city, xiaodian_officer):
    rows = [["", "140106", "", "", "subdistrict", "越界街道", ""]]
    with pytest.raises(ImportRejected) as exc:
        load(xiaodian_officer, csv_file(rows))
    (err,) = exc.value.result.errors
    assert err.column == "parent_code" and "Unknown parent" in err.message
    with pytest.raises(NotFound):
        load(xiaodian_officer, csv_file(rows), under_id=city.yingze.pk)


def test_an_export_is_limited_to_the_actors_area(city, xiaodian_officer):
    with pytest.raises(NotFound):
        tree_export(actor=xiaodian_officer, fmt="geojson", root_id=city.yingze.pk)
    doc = json.loads(export(xiaodian_officer, "geojson", root_id=city.xd_grid.pk))
    names = [f["properties"]["name_zh"] for f in doc["features"]]
    assert names == ["坞城第1网格", "1号楼", "2号楼"]
    # The chosen root names no parent (its parent has no code); its children name it by ref.
    root, child = doc["features"][0]["properties"], doc["features"][1]["properties"]
    assert root["parent_code"] == root["parent_ref"] == ""
    assert child["parent_ref"] == root["ref"] == city.xd_grid.path


def test_only_managers_import_and_only_staff_export(city, grid_worker, nobody):
    with pytest.raises(PermissionDenied):
        load(grid_worker, csv_file([["", "140105", "", "", "subdistrict", "新街道", ""]]))
    with pytest.raises(PermissionDenied):
        tree_export(actor=nobody, fmt="csv")
