"""A status rule keeps its disease as a plain id (issue 17): the migration keeps
every rule's disease, and the column no longer holds a key into investigation's
table (a rule may name a disease id the investigation app does not hold)."""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.conftest import migrated_back
from fangkong.status.models import StatusRule


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_each_rules_disease_and_drops_the_key(city: Any) -> None:
    with migrated_back([("status", "0005_policy_device_check_rate")]) as (old, forward):
        Rule = old.get_model("status", "StatusRule")
        measles = old.get_model("investigation", "Disease").objects.get(code="measles")
        kept = Rule.objects.create(
            kind="test_kind", disease=measles, version=7, effective_from="2026-01-01", level="red"
        ).pk
        forward()
        assert StatusRule.objects.get(pk=kept).disease_id == measles.pk
        # No key: a rule of a disease id investigation does not hold is stored.
        StatusRule.objects.create(
            kind="test_kind", disease_id=987654, version=1, effective_from="2026-01-01", level="red"
        )
        assert StatusRule.objects.filter(kind="test_kind").count() == 2
