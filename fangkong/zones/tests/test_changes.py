"""Level changes, units added and removed, overlapping zones and lifting."""

import pytest

from fangkong.core.errors import Conflict, ValidationFailed
from fangkong.notify.models import Batch
from fangkong.zones import selectors, services
from fangkong.zones.models import Zone, ZoneProposal
from fangkong.zones.tests.zonekit import active_kinds, declare, residents, zone_reasons


def test_a_level_change_swaps_the_status_reason_after_approval(city, xiaodian_officer, commander):
    people = residents(city, 2)
    zone = declare(xiaodian_officer, commander, [city.xd_building])
    proposal = services.zone_propose_change(
        actor=xiaodian_officer, zone_id=zone.pk, kind="change_level", level="medium"
    )
    assert active_kinds(people[0].pk) == {"sealed_zone"}  # not before approval
    services.proposal_approve(actor=commander, proposal_id=proposal.pk)
    zone.refresh_from_db()
    assert zone.level.code == "medium"
    assert active_kinds(people[0].pk) == {"controlled_zone"}
    ended = zone_reasons(zone.pk, active=False)
    assert {r.ended_how for r in ended} == {"superseded"}


def test_to_the_same_level_is_refused(city, xiaodian_officer, commander):
    zone = declare(xiaodian_officer, commander, [city.xd_building])
    with pytest.raises(ValidationFailed):
        services.zone_propose_change(
            actor=xiaodian_officer, zone_id=zone.pk, kind="change_level", level="high"
        )


def test_added_units_bring_their_residents_in_and_removed_ones_release_them(
    city, xiaodian_officer, commander
):
    first = residents(city, 1)[0]
    second = residents(city, 1, building=city.xd_building2)[0]
    zone = declare(xiaodian_officer, commander, [city.xd_building])
    add = services.zone_propose_change(
        actor=xiaodian_officer, zone_id=zone.pk, kind="add_units", node_ids=[city.xd_building2.pk]
    )
    services.proposal_approve(actor=commander, proposal_id=add.pk)
    assert active_kinds(second.pk) == {"sealed_zone"}
    remove = services.zone_propose_change(
        actor=xiaodian_officer, zone_id=zone.pk, kind="remove_units", node_ids=[city.xd_building.pk]
    )
    services.proposal_approve(actor=commander, proposal_id=remove.pk)
    assert active_kinds(first.pk) == set()
    assert active_kinds(second.pk) == {"sealed_zone"}
    zone.refresh_from_db()
    assert zone.resident_count == 1


def test_the_last_unit_cannot_be_removed(city, xiaodian_officer, commander):
    zone = declare(xiaodian_officer, commander, [city.xd_building])
    with pytest.raises(ValidationFailed):
        services.zone_propose_change(
            actor=xiaodian_officer,
            zone_id=zone.pk,
            kind="remove_units",
            node_ids=[city.xd_building.pk],
        )


def test_a_building_in_two_zones_takes_the_stricter_level_and_says_why(
    city, xiaodian_officer, commander
):
    person = residents(city, 1)[0]
    declare(xiaodian_officer, commander, [city.xd_grid], level="medium", name="坞城管控区")
    declare(xiaodian_officer, commander, [city.xd_building], level="high", name="坞城1号楼封控区")
    eff = selectors.effective_level(city.xd_building.path)
    assert eff is not None and eff["level"].code == "high"
    assert "坞城管控区" in eff["why"] and "坞城1号楼封控区" in eff["why"]
    other = selectors.effective_level(city.xd_building2.path)
    assert other is not None and other["level"].code == "medium"
    assert active_kinds(person.pk) == {"sealed_zone", "controlled_zone"}
    mine = selectors.zone_for_person(person.pk)
    assert mine is not None and mine["level"] == "high"


def test_lifting_takes_effect_only_with_approval(city, xiaodian_officer, commander):
    people = residents(city, 2)
    zone = declare(xiaodian_officer, commander, [city.xd_building])
    proposal = services.zone_propose_change(actor=xiaodian_officer, zone_id=zone.pk, kind="lift")
    zone.refresh_from_db()
    assert zone.state == Zone.State.ACTIVE
    assert active_kinds(people[0].pk) == {"sealed_zone"}
    with pytest.raises(Conflict):  # the same change twice
        services.zone_propose_change(actor=xiaodian_officer, zone_id=zone.pk, kind="lift")
    services.proposal_approve(actor=commander, proposal_id=proposal.pk)
    zone.refresh_from_db()
    assert zone.state == Zone.State.LIFTED and zone.lifted_at is not None
    assert active_kinds(people[0].pk) == set()
    assert {r.ended_how for r in zone_reasons(zone.pk, active=False)} == {"zone_lifted"}
    assert Batch.objects.filter(template_code="zone_lifted").get().total == 2
    assert selectors.zone_for_person(people[0].pk) is None
    assert selectors.public_zones() == []
    with pytest.raises(Conflict):
        services.zone_propose_change(actor=xiaodian_officer, zone_id=zone.pk, kind="lift")


def test_a_refused_lifting_leaves_the_zone_in_force(city, xiaodian_officer, commander):
    people = residents(city, 1)
    zone = declare(xiaodian_officer, commander, [city.xd_building])
    proposal = services.zone_propose_change(actor=xiaodian_officer, zone_id=zone.pk, kind="lift")
    services.proposal_refuse(actor=commander, proposal_id=proposal.pk, note="仍有阳性")
    zone.refresh_from_db()
    assert zone.state == Zone.State.ACTIVE
    assert ZoneProposal.objects.get(pk=proposal.pk).state == "refused"
    assert active_kinds(people[0].pk) == {"sealed_zone"}


def test_public_selectors_show_places_never_people(city, xiaodian_officer, commander):
    residents(city, 2)
    declare(xiaodian_officer, commander, [city.xd_building])
    rows = selectors.public_zones(district_id=city.xiaodian.pk)
    assert len(rows) == 1 and rows[0]["district_name"]
    assert selectors.public_zones(district_id=city.yingze.pk) == []
    data = selectors.public_zone_map()
    props = data["geojson"]["features"][0]["properties"]
    assert set(props) >= {"zone", "level", "colour"}
    assert "person" not in str(props)
    counts = {r["level"]: r["count"] for r in selectors.zones_count_by_level()}
    assert counts["high"] == 1 and counts["low"] == 0


def test_residents_of_sealed_zones_are_listed_for_door_to_door_sampling(
    city, xiaodian_officer, commander
):
    sealed = residents(city, 2)
    controlled = residents(city, 1, building=city.xd_building2)
    declare(xiaodian_officer, commander, [city.xd_building], level="high")
    declare(xiaodian_officer, commander, [city.xd_building2], level="medium", name="管控区")
    assert sorted(selectors.door_to_door_person_ids()) == sorted(p.pk for p in sealed)
    assert sorted(selectors.door_to_door_person_ids(under_path=city.xd_grid.path)) == sorted(
        p.pk for p in sealed
    )
    assert selectors.door_to_door_person_ids(under_path=city.yz_grid.path) == []
    assert controlled[0].pk not in selectors.door_to_door_person_ids()
