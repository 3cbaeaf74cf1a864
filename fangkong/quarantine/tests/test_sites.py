"""Site lifecycle, acceptance inspection and rooms."""

from __future__ import annotations

import pytest

from fangkong.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from fangkong.core.models import AuditEntry
from fangkong.quarantine import services
from fangkong.quarantine.models import Room, Site
from fangkong.quarantine.tests.kit import all_pass, inspected_site

pytestmark = pytest.mark.django_db


def test_a_new_site_starts_in_reserve_and_is_audited(city, manager):
    site = services.site_create(
        actor=manager,
        data=services.SiteData(name="坞城宾馆", jurisdiction_id=city.xd_grid.pk, tier=2),
    )
    assert site.state == Site.State.RESERVE
    assert site.scope_path == city.xd_grid.path
    assert list(site.transitions.values_list("to_state", flat=True)) == ["reserve"]
    assert AuditEntry.objects.filter(
        action="quarantine.site_create", object_id=str(site.pk)
    ).exists()


def test_a_site_outside_the_managers_area_is_refused(city, manager):
    with pytest.raises(ValidationFailed) as exc:
        services.site_create(
            actor=manager, data=services.SiteData(name="柳巷宾馆", jurisdiction_id=city.yingze.pk)
        )
    assert "jurisdiction_id" in exc.value.fields
    assert not Site.objects.exists()


def test_bad_site_details_name_each_field(city, manager):
    with pytest.raises(ValidationFailed) as exc:
        services.site_create(
            actor=manager,
            data=services.SiteData(name=" ", jurisdiction_id=city.xiaodian.pk, kind="tent", tier=0),
        )
    assert set(exc.value.fields) == {"name", "kind", "tier"}


def test_the_lifecycle_goes_through_acceptance_before_activation(city, manager, commander):
    site = inspected_site(manager, city.xiaodian)
    with pytest.raises(Conflict) as exc:
        services.site_transition(actor=commander, site_id=site.pk, to_state="active")
    assert exc.value.code == "not_accepted"
    results = all_pass()
    results["cctv"] = (False, "走廊无监控")
    acceptance = services.site_accept(actor=manager, site_id=site.pk, results=results)
    assert acceptance.passed is False
    assert acceptance.results.get(item__code="cctv").note == "走廊无监控"
    with pytest.raises(Conflict):
        services.site_transition(actor=manager, site_id=site.pk, to_state="standby")
    services.site_accept(actor=manager, site_id=site.pk, results=all_pass())
    services.site_transition(actor=manager, site_id=site.pk, to_state="standby")
    site = services.site_transition(actor=commander, site_id=site.pk, to_state="active")
    assert site.state == "active"
    assert list(site.transitions.values_list("to_state", flat=True)) == [
        "reserve",
        "vacating",
        "inspection",
        "standby",
        "active",
    ]


def test_an_inspection_needs_a_result_for_every_point(city, manager):
    site = inspected_site(manager, city.xiaodian)
    results = all_pass()
    results.pop("fire_safety")
    results["jacuzzi"] = (True, "")
    with pytest.raises(ValidationFailed) as exc:
        services.site_accept(actor=manager, site_id=site.pk, results=results)
    assert set(exc.value.fields) == {"fire_safety", "jacuzzi"}
    assert not site.acceptances.exists()


def test_only_the_command_activates_a_site(city, manager):
    site = inspected_site(manager, city.xiaodian)
    services.site_accept(actor=manager, site_id=site.pk, results=all_pass())
    with pytest.raises(PermissionDenied):
        services.site_transition(actor=manager, site_id=site.pk, to_state="active")


def test_a_step_outside_the_lifecycle_is_a_conflict(city, manager):
    site = services.site_create(
        actor=manager, data=services.SiteData(name="坞城宾馆", jurisdiction_id=city.xiaodian.pk)
    )
    with pytest.raises(Conflict) as exc:
        services.site_transition(actor=manager, site_id=site.pk, to_state="inspection")
    assert exc.value.code == "invalid_transition"
    site.refresh_from_db()
    assert site.state == "reserve"


def test_a_site_with_people_in_it_is_not_closed(site, manager):
    Room.objects.filter(site=site, number="201").update(status="occupied", occupants=1)
    with pytest.raises(Conflict) as exc:
        services.site_transition(actor=manager, site_id=site.pk, to_state="closed")
    assert exc.value.code == "site_not_empty"
    Room.objects.filter(site=site).update(status="awaiting_disinfection", occupants=0)
    assert (
        services.site_transition(actor=manager, site_id=site.pk, to_state="closed").state
        == "closed"
    )


def test_another_districts_manager_cannot_touch_the_site(site, yz_manager):
    with pytest.raises(NotFound):
        services.site_transition(actor=yz_manager, site_id=site.pk, to_state="standby")


def test_rooms_are_added_all_or_none(site, manager):
    with pytest.raises(ValidationFailed) as exc:
        services.rooms_add(
            actor=manager,
            site_id=site.pk,
            rooms=[services.RoomData("401", 4), services.RoomData("201", 2)],
        )
    assert "rooms.201" in exc.value.fields
    assert not Room.objects.filter(number="401").exists()
    assert (
        services.rooms_add(actor=manager, site_id=site.pk, rooms=[services.RoomData("401", 4)]) == 1
    )


def test_an_occupied_room_keeps_its_status(site, manager):
    room = Room.objects.get(site=site, number="201")
    Room.objects.filter(pk=room.pk).update(status="occupied", occupants=1)
    with pytest.raises(Conflict):
        services.room_set_status(actor=manager, room_id=room.pk, status="maintenance")
    with pytest.raises(ValidationFailed):
        services.room_set_status(actor=manager, room_id=room.pk, status="occupied")
    other = Room.objects.get(site=site, number="202")
    assert services.room_set_status(
        actor=manager, room_id=other.pk, status="maintenance"
    ).status == ("maintenance")
