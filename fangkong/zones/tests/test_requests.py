"""Door-step service requests: zone and medical rules, handling, confirmation, SLA, teams."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from fangkong.conftest import make_staff
from fangkong.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from fangkong.zones import selectors, services
from fangkong.zones.jobs import escalate_overdue_service_requests
from fangkong.zones.models import ServiceRequest
from fangkong.zones.tests.zonekit import declare, residents


def test_a_resident_of_a_sealed_zone_files_groceries_through_the_portal(
    city, xiaodian_officer, commander
):
    person = residents(city, 1)[0]
    zone = declare(xiaodian_officer, commander, [city.xd_building])
    req = services.service_request_create(
        person_id=person.pk, kind="groceries", items=[{"name": "大米", "qty": 2}, "鸡蛋"]
    )
    assert req.zone == zone and req.via == "portal"
    assert req.items == [{"name": "大米", "qty": 2}, {"name": "鸡蛋", "qty": 1}]
    assert req.due_at - req.created_at <= dt.timedelta(hours=12, seconds=1)
    mine = selectors.requests_for_resident(person.pk)
    assert mine[0]["kind"] == "groceries" and mine[0]["status"] == "open"


def test_out_of_any_zone_groceries_are_refused_but_medical_care_is_accepted(city):
    person = residents(city, 1)[0]
    with pytest.raises(ValidationFailed) as exc:
        services.service_request_create(person_id=person.pk, kind="groceries", text="米")
    assert "no zone" in exc.value.fields["kind"]
    req = services.service_request_create(person_id=person.pk, kind="dialysis", text="每周三次透析")
    assert req.zone is None
    assert services.service_request_create(person_id=person.pk, kind="medicines", text="降压药")


def test_emergencies_are_due_in_minutes(city):
    person = residents(city, 1)[0]
    req = services.service_request_create(person_id=person.pk, kind="emergency", text="胸痛")
    assert req.priority == 1
    assert req.due_at - req.created_at <= dt.timedelta(minutes=15, seconds=1)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"kind": "teleport", "text": "x"}, "kind"),
        ({"kind": "medicines", "text": ""}, "text"),
        ({"kind": "medicines", "items": [{"name": "", "qty": 1}]}, "items"),
        ({"kind": "medicines", "items": [{"name": "药", "qty": 0}]}, "items"),
        ({"kind": "medicines", "text": "x" * 2001}, "text"),
    ],
)
def test_bad_requests_are_refused(city, kwargs, field):
    person = residents(city, 1)[0]
    with pytest.raises(ValidationFailed) as exc:
        services.service_request_create(person_id=person.pk, **kwargs)
    assert field in exc.value.fields
    assert ServiceRequest.objects.count() == 0


def test_staff_file_for_residents_of_their_area_only(city, grid_worker, yingze_officer):
    person = residents(city, 1)[0]
    req = services.service_request_create(
        actor=grid_worker, person_id=person.pk, kind="medicines", text="胰岛素", via="staff"
    )
    assert req.via == "staff"
    with pytest.raises(NotFound):
        services.service_request_create(
            actor=yingze_officer, person_id=person.pk, kind="medicines", text="x"
        )


def test_a_team_member_takes_and_completes_a_request_and_the_resident_confirms(
    city, xiaodian_officer, commander
):
    member = make_staff("teammember", city.xd_grid, "zone_team_member")
    person = residents(city, 1)[0]
    declare(xiaodian_officer, commander, [city.xd_building])
    req = services.service_request_create(person_id=person.pk, kind="medicines", text="降压药")
    with pytest.raises(Conflict):
        services.service_request_confirm(person_id=person.pk, request_id=req.pk)
    services.service_request_assign(actor=member, request_id=req.pk)
    services.service_request_complete(actor=member, request_id=req.pk, note="已送达")
    services.service_request_confirm(person_id=person.pk, request_id=req.pk)
    req.refresh_from_db()
    assert req.status == "confirmed" and req.assignee == member
    assert [e.status for e in req.events.all()] == ["open", "assigned", "done", "confirmed"]
    with pytest.raises(NotFound):  # someone else's request
        services.service_request_confirm(person_id=person.pk + 999, request_id=req.pk)


def test_overdue_requests_are_escalated_once(city):
    person = residents(city, 1)[0]
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False):
        req = services.service_request_create(person_id=person.pk, kind="emergency", text="胸痛")
        other = services.service_request_create(person_id=person.pk, kind="dialysis", text="透析")
    with time_machine.travel(t0 + dt.timedelta(minutes=10), tick=False):
        assert escalate_overdue_service_requests.call_local() == 0
    with time_machine.travel(t0 + dt.timedelta(minutes=16), tick=False):
        assert escalate_overdue_service_requests.call_local() == 1
        assert escalate_overdue_service_requests.call_local() == 0
        req.refresh_from_db()
        other.refresh_from_db()
        assert req.escalated_at is not None and req.overdue
        assert other.escalated_at is None and not other.overdue


def test_a_team_shows_its_gaps(city, xiaodian_officer, commander):
    zone = declare(xiaodian_officer, commander, [city.xd_building])
    team = selectors.team_of(zone)
    assert not team["complete"] and len(team["gaps"]) == 4
    for role in ("leader", "medical", "police", "community"):
        services.team_member_add(
            actor=xiaodian_officer,
            zone_id=zone.pk,
            role=role,
            name=f"{role}-王",
            phone="13800000000",
            shift="白班",
        )
    assert selectors.team_of(zone)["complete"]
    with pytest.raises(ValidationFailed):
        services.team_member_add(actor=xiaodian_officer, zone_id=zone.pk, role="chef", name="")


def test_team_rosters_of_another_district_do_not_exist(
    city, xiaodian_officer, commander, yingze_officer, grid_worker
):
    zone = declare(xiaodian_officer, commander, [city.xd_building])
    with pytest.raises(NotFound):
        services.team_member_add(actor=yingze_officer, zone_id=zone.pk, role="leader", name="x")
    with pytest.raises(PermissionDenied):
        services.team_member_add(actor=grid_worker, zone_id=zone.pk, role="leader", name="x")


def test_the_supplies_view_counts_residents_households_and_items(city, xiaodian_officer, commander):
    people = residents(city, 3)
    zone = declare(xiaodian_officer, commander, [city.xd_building])
    services.service_request_create(
        person_id=people[0].pk, kind="groceries", items=[{"name": "大米", "qty": 2}]
    )
    services.service_request_create(
        person_id=people[1].pk, kind="groceries", items=[{"name": "大米", "qty": 1}]
    )
    data = selectors.supplies_for(commander, zone.pk)
    assert data["residents"] == 3
    assert data["items"] == [("大米", 3)]
