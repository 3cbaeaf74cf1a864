import json

import pytest
from django.db import connection

from fangkong.conftest import client_for, make_person
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.models import AuditEntry, Jurisdiction
from fangkong.core.selectors import jurisdiction_list_for, jurisdiction_subtree
from fangkong.core.services import (
    jurisdiction_build,
    jurisdiction_create,
    jurisdiction_recount,
    jurisdiction_update,
)

pytestmark = pytest.mark.django_db


def test_a_subtree_holds_exactly_the_descendants(city):
    names = {n.name_zh for n in jurisdiction_subtree(city.xiaodian)}
    assert "小店区" in names and "坞城第1网格" in names
    assert not any("柳巷" in n for n in names)
    assert city.city.contains(city.xd_building) and not city.yingze.contains(city.xd_building)


def test_a_subtree_query_is_one_indexed_range_scan(city):
    qs = jurisdiction_subtree(city.xiaodian)
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " ".join(str(r[-1]) for r in cur.fetchall())
            assert "USING INDEX" in plan and "path" in plan.lower(), plan
        else:
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute("EXPLAIN " + sql, params)
            plan = " ".join(r[0] for r in cur.fetchall())
            assert "Index" in plan, plan


def test_children_get_levels_in_order_only(city, commander):
    with pytest.raises(ValidationFailed) as exc:
        jurisdiction_create(
            actor=commander, parent_id=city.xd_grid.pk, level="district", name_zh="错误"
        )
    assert "level" in exc.value.fields


def test_codes_are_unique(city, commander):
    with pytest.raises(Conflict):
        jurisdiction_create(
            actor=commander, parent_id=city.city.pk, level="district", name_zh="重复", code="140105"
        )


def test_create_is_audited_and_scoped(city, xiaodian_officer):
    node = jurisdiction_create(
        actor=xiaodian_officer,
        parent_id=city.xd_grid.pk,
        level="building",
        name_zh="3号楼",
        name_en="Building 3",
    )
    assert node.path.startswith(city.xd_grid.path) and node.depth == city.xd_grid.depth + 1
    assert AuditEntry.objects.filter(action="jurisdiction.create", object_id=str(node.pk)).exists()
    with pytest.raises(NotFound):
        jurisdiction_create(
            actor=xiaodian_officer, parent_id=city.yz_grid.pk, level="building", name_zh="越权楼"
        )


def test_siblings_get_distinct_paths_even_after_many_inserts(city):
    paths = {
        jurisdiction_build(parent=city.xd_grid, level="building", name_zh=f"{i}号").path
        for i in range(40)
    }
    assert len(paths) == 40


def test_update_renames_and_records_before_and_after(city, commander):
    jurisdiction_update(
        actor=commander,
        jurisdiction_id=city.xiaodian.pk,
        name_en="Xiaodian D.",
        reason="official English name",
    )
    entry = AuditEntry.objects.get(action="jurisdiction.update")
    assert entry.changes["name_en"] == ["Xiaodian", "Xiaodian D."]


def test_recount_credits_every_ancestor(city):
    make_person(city.xd_building)
    make_person(city.xd_building2)
    make_person(city.yz_building, region="140106")
    jurisdiction_recount()
    counts = dict(Jurisdiction.objects.values_list("code", "resident_count").exclude(code=None))
    assert counts == {"140000": 3, "140100": 3, "140105": 2, "140106": 1}


def test_api_lists_only_nodes_in_scope(city, xiaodian_officer):
    r = client_for(xiaodian_officer).get("/api/v1/jurisdictions?page_size=200")
    assert r.status_code == 200
    codes = {n["code"] for n in r.json()["items"]}
    assert "140105" in codes and "140106" not in codes and "140100" not in codes


def test_api_hides_nodes_of_another_district(city, yingze_officer):
    r = client_for(yingze_officer).get(f"/api/v1/jurisdictions/{city.xd_grid.pk}")
    assert r.status_code == 404


def test_api_create_with_bad_level_names_the_field(city, commander):
    r = client_for(commander).post(
        "/api/v1/jurisdictions",
        json.dumps({"parent_id": city.city.pk, "level": "galaxy", "name_zh": "银河"}),
        content_type="application/json",
    )
    assert r.status_code == 400
    assert "level" in r.json()["error"]["fields"]


def test_grid_worker_cannot_create_nodes(city, grid_worker):
    r = client_for(grid_worker).post(
        "/api/v1/jurisdictions",
        json.dumps({"parent_id": city.xd_grid.pk, "level": "building", "name_zh": "楼"}),
        content_type="application/json",
    )
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"


def test_list_for_a_user_without_staff_profile_is_denied(city, nobody):
    from fangkong.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        jurisdiction_list_for(nobody)
