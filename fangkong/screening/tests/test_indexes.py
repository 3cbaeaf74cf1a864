"""The link tables keep one index per lookup: every foreign key leads an index (its
lookups and PROTECT checks stay indexed), and none is indexed twice over."""

import pytest
from django.db import connection

from fangkong.screening.models import CustodyEvent, Tube, TubeMember

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [Tube, TubeMember, CustodyEvent], ids=lambda m: m.__name__)
def test_every_key_leads_an_index_and_no_single_column_index_repeats_a_longer_one(model):
    table = model._meta.db_table
    with connection.cursor() as cur:
        constraints = connection.introspection.get_constraints(cur, table)
    indexes = [c["columns"] for c in constraints.values() if c["index"] or c["unique"]]
    for field in model._meta.concrete_fields:
        if field.is_relation:
            assert any(cols[0] == field.column for cols in indexes), field.column
    # The primary key is not redundant with a longer index led by it (a covering one).
    singles = {
        c["columns"][0]
        for c in constraints.values()
        if (c["index"] or c["unique"]) and len(c["columns"]) == 1 and not c["primary_key"]
    }
    longer = {cols[0] for cols in indexes if len(cols) > 1}
    assert not singles & longer, f"{table}: {sorted(singles & longer)} indexed twice"


def test_people_of_a_range_are_counted_from_the_path_only_index_on_postgresql():
    """Coverage counts a community's target from ``core_person_scope_count`` on
    PostgreSQL (deduplicated: a tenth of the (path, id) index); SQLite has none."""
    with connection.cursor() as cur:
        constraints = connection.introspection.get_constraints(cur, "core_person")
    found = constraints.get("core_person_scope_count")
    if connection.vendor == "postgresql":
        assert found is not None and found["columns"] == ["scope_path"]
        with connection.cursor() as cur:
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute(
                "EXPLAIN SELECT substr(scope_path, 1, 8), COUNT(*) FROM core_person "
                "WHERE scope_path >= %s AND scope_path < %s GROUP BY 1",
                ["0001", "0002"],
            )
            plan = " ".join(r[0] for r in cur.fetchall())
        assert "core_person_scope_count" in plan
    else:
        assert found is None


def test_a_small_areas_tube_results_are_read_from_the_not_negative_index_on_postgresql():
    """Coverage of a community reads its tubes' results from the partial index of
    the tubes that are not negative (the others are), without the tube rows."""
    from fangkong.screening.selectors import coverage

    with connection.cursor() as cur:
        constraints = connection.introspection.get_constraints(cur, "screening_tube")
    assert "screening_tube_not_negative" in constraints
    if connection.vendor != "postgresql":
        return
    sql = coverage.SMALL_AREA_RESULTS.replace("{in}", "= ANY(%s::bigint[])")
    with connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL enable_bitmapscan = off")
        cur.execute(f"EXPLAIN {sql}", ["{1,2,3}"])
        plan = " ".join(r[0] for r in cur.fetchall())
    assert "Index Only Scan using screening_tube_not_negative" in plan
