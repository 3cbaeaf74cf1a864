"""Zones 0005 (issue 17): a zone's linked cases move from a table of keys into
investigation's cases to a list of ids, and back, with no link lost."""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.conftest import make_person, make_staff, migrated_back
from fangkong.investigation.tests.casekit import days_ago, new_case
from fangkong.zones import services
from fangkong.zones.models import Zone


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_every_linked_case_both_ways(browser_city: Any) -> None:
    city = browser_city
    investigator = make_staff("investigator", city.xiaodian, "investigator")
    officer = make_staff("officer", city.xiaodian, "district_officer")
    cases = [
        new_case(
            investigator,
            make_person(city.xd_building, name=f"病例{i}"),
            onset=days_ago(3),
            reported=days_ago(1),
        )
        for i in range(2)
    ]
    linked = services.zone_propose_declare(
        actor=officer,
        name="坞城1号楼",
        level="high",
        node_ids=[city.xd_building.pk],
        case_ids=[c.pk for c in cases],
    ).zone
    alone = services.zone_propose_declare(
        actor=officer, name="坞城2号楼", level="high", node_ids=[city.xd_building2.pk]
    ).zone
    with migrated_back([("zones", "0004_team_member_phone_encrypted")]) as (old, forward):
        Link = old.get_model("zones", "Zone").cases.through
        assert sorted(Link.objects.values_list("zone_id", "case_id")) == [
            (linked.pk, c.pk) for c in sorted(cases, key=lambda c: c.pk)
        ]
        forward()
        assert Zone.objects.get(pk=linked.pk).case_ids == sorted(c.pk for c in cases)
        assert Zone.objects.get(pk=alone.pk).case_ids == []
