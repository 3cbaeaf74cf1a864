"""The audit table, written by every service's every write, keeps no index that
another leads with or that no query uses: migration core 0013 drops them by name
(no table rebuild) and puts them back when migrated down."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from fangkong.conftest import migrated_back
from fangkong.core.models import AuditEntry


def _single_column_indexes() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, AuditEntry._meta.db_table)
    return {
        name: info["columns"]
        for name, info in found.items()
        if info["index"] and not info["primary_key"] and len(info["columns"]) == 1
    }


@pytest.mark.django_db(transaction=True)
def test_the_audit_table_loses_two_indexes_and_gets_them_back_when_migrated_down(
    city: Any,
) -> None:
    now = _single_column_indexes()
    assert ["actor_id"] not in now.values()
    assert [name for name, cols in now.items() if cols == ["action"]] == ["core_audit_action"]
    with migrated_back([("core", "0012_domain_fact_outbox")]) as (old, forward):
        before = _single_column_indexes()
        assert ["actor_id"] in before.values()
        action = [name for name, cols in before.items() if cols == ["action"]]
        # The field's own index, and on PostgreSQL its pattern-ops copy.
        assert len(action) == (2 if connection.vendor == "postgresql" else 1)
        assert "core_audit_action" not in action
        Entry = old.get_model("core", "AuditEntry")
        kept = Entry.objects.create(action="test.kept", object_type="t", object_id="1").pk
        forward()
        assert _single_column_indexes() == now
        assert AuditEntry.objects.get(pk=kept).action == "test.kept"
