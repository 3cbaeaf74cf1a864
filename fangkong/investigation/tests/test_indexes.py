"""The match table keeps one index per lookup: every foreign key leads an index (its
lookups and cascades stay indexed) and none is indexed twice over (issue 17: the
case and the stop alone lead (case, status) and the unique (stop, person))."""

import pytest
from django.db import connection

from fangkong.investigation.models import ExposureMatch

pytestmark = pytest.mark.django_db


def test_every_key_leads_an_index_and_no_single_column_index_repeats_a_longer_one():
    table = ExposureMatch._meta.db_table
    with connection.cursor() as cur:
        constraints = connection.introspection.get_constraints(cur, table)
    indexes = [c["columns"] for c in constraints.values() if c["index"] or c["unique"]]
    for field in ExposureMatch._meta.concrete_fields:
        if field.is_relation:
            assert any(cols[0] == field.column for cols in indexes), field.column
    singles = {
        c["columns"][0]
        for c in constraints.values()
        if (c["index"] or c["unique"]) and len(c["columns"]) == 1 and not c["primary_key"]
    }
    longer = {cols[0] for cols in indexes if len(cols) > 1}
    assert not singles & longer, f"{table}: {sorted(singles & longer)} indexed twice"
