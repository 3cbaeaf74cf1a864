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
    singles = {cols[0] for cols in indexes if len(cols) == 1}
    longer = {cols[0] for cols in indexes if len(cols) > 1}
    assert not singles & longer, f"{table}: {sorted(singles & longer)} indexed twice"
