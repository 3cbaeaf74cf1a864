"""Deliveries to sealed zones: from the residents' door-step requests (the zones'
facts) and planned distributions sized on the zone's residents, with proof of
delivery; the stock leaves the warehouse in the ledger with the proof; the zone's
days left."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from fangkong.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from fangkong.core.models import Person
from fangkong.supplies import rules, selectors, services
from fangkong.supplies.models import Delivery, Item, Movement, ZoneRequest
from fangkong.supplies.tests.kit import PNG, balance, grocery_request, move, postings_sum

pytestmark = pytest.mark.django_db


def residents(zone):
    return list(Person.objects.filter(scope_path__startswith=zone.scope_path).order_by("pk"))


def plan(actor, zone, wh, **kw):
    return services.delivery_plan(actor=actor, zone_id=zone.pk, warehouse_id=wh.pk, **kw)


def test_a_residents_grocery_request_in_a_sealed_zone_waits_for_a_delivery_once(officer, sealed):
    person = residents(sealed)[0]
    request_id = grocery_request(person)
    waiting = list(selectors.zone_request_list_for(officer))
    assert [(r.request_id, r.zone_id, r.wanted) for r in waiting] == [
        (request_id, sealed.pk, "大米5公斤、青菜")
    ]
    # The fact delivered again keeps one request.
    services.zone_request_receive(
        request_id=request_id,
        zone_id=sealed.pk,
        kind="groceries",
        text="x",
        due_at=timezone.now().isoformat(),
    )
    assert ZoneRequest.objects.count() == 1


def test_medical_requests_and_requests_closed_by_the_team_do_not_wait(officer, sealed):
    from fangkong.zones.services import service_request_cancel, service_request_create

    person = residents(sealed)[0]
    service_request_create(person_id=person.pk, kind="medicines", text="降压药")
    assert not ZoneRequest.objects.exists()
    request_id = grocery_request(person)
    team = services_team_user(sealed)
    service_request_cancel(actor=team, request_id=request_id, note="邻居代买")
    assert ZoneRequest.objects.get().state == ZoneRequest.State.CLOSED
    assert list(selectors.zone_request_list_for(officer)) == []


def services_team_user(zone):
    from fangkong.conftest import make_staff
    from fangkong.core.models import Jurisdiction

    return make_staff("team2", Jurisdiction.objects.get(path=zone.scope_path), "zone_team_member")


def test_a_delivery_for_requests_issues_its_stock_with_the_proof_and_the_requests_are_done(
    officer, team_member, sealed, store, grain
):
    from fangkong.zones.models import ServiceRequest

    move(officer, "receipt", store, grain, 100)
    people = residents(sealed)
    ids = [grocery_request(p) for p in people[:2]]
    delivery = plan(officer, sealed, store, request_ids=ids, lines=[(grain.pk, 10)])
    assert delivery.source == Delivery.Source.REQUESTS
    assert set(ZoneRequest.objects.values_list("state", flat=True)) == {"planned"}
    assert balance(store, grain) == 100  # nothing leaves before the proof
    services.delivery_dispatch(actor=officer, delivery_id=delivery.pk)
    done = services.delivery_record_proof(
        actor=team_member, delivery_id=delivery.pk, received_by="王建国", photo=PNG
    )
    assert done.state == Delivery.State.DELIVERED
    assert done.proof_photo_type == "image/png"
    assert balance(store, grain) == 90 == postings_sum(store, grain)
    issue = Movement.objects.get(delivery=delivery)
    assert (issue.kind, issue.quantity, issue.counterpart) == ("issue", 10, sealed.name)
    assert set(ZoneRequest.objects.values_list("state", flat=True)) == {"delivered"}
    # Zones heard the fact: the residents' requests are done, for them to confirm.
    assert set(ServiceRequest.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        "done"
    }


def test_a_planned_distribution_is_sized_on_the_residents_and_their_daily_need(
    officer, sealed, store
):
    delivery = plan(officer, sealed, store, days=3)
    need = rules.needs()
    lines = {ln["item_id"]: ln["quantity"] for ln in delivery.lines}
    grain = Item.objects.get(code="grain")
    assert lines[grain.pk] == 5  # 4 residents × 0.4 kg × 3 days = 4.8, rounded up
    assert all(lines[i] >= need[i] * 4 * 3 for i in lines)
    assert delivery.source == Delivery.Source.PLANNED and delivery.days == 3


def test_proof_without_enough_stock_writes_nothing(officer, sealed, store, grain):
    move(officer, "receipt", store, grain, 5)
    delivery = plan(officer, sealed, store, lines=[(grain.pk, 6)])
    with pytest.raises(Conflict) as exc:
        services.delivery_dispatch(actor=officer, delivery_id=delivery.pk)
    assert exc.value.code == "insufficient_stock"
    with pytest.raises(Conflict):
        services.delivery_record_proof(
            actor=officer, delivery_id=delivery.pk, received_by="王建国", proof_note="签字"
        )
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.PLANNED
    assert balance(store, grain) == 5
    assert not Movement.objects.filter(delivery=delivery).exists()


def test_bad_input_names_every_field(officer, yz_officer, sealed, store, grain):
    with pytest.raises(ValidationFailed) as exc:
        services.delivery_plan(
            actor=officer,
            zone_id=sealed.pk + 999,
            warehouse_id=store.pk + 999,
            lines=[(grain.pk, 0)],
            planned_for=timezone.localdate() - dt.timedelta(days=1),
        )
    assert set(exc.value.fields) == {"zone_id", "warehouse_id", "lines", "planned_for"}
    with pytest.raises(ValidationFailed) as exc:
        plan(officer, sealed, store)
    assert set(exc.value.fields) == {"lines"}
    with pytest.raises(ValidationFailed) as exc:
        plan(officer, sealed, store, lines=[(grain.pk, 1)], request_ids=[424242])
    assert set(exc.value.fields) == {"request_ids"}
    delivery = plan(officer, sealed, store, lines=[(grain.pk, 1)])
    with pytest.raises(ValidationFailed) as exc:
        services.delivery_record_proof(
            actor=officer,
            delivery_id=delivery.pk,
            received_by=" ",
            delivered_at=timezone.now() + dt.timedelta(hours=1),
        )
    assert set(exc.value.fields) == {"received_by", "proof_note", "delivered_at"}
    with pytest.raises(ValidationFailed) as exc:
        services.delivery_record_proof(
            actor=officer, delivery_id=delivery.pk, received_by="王", photo=b"GIF89a..."
        )
    assert set(exc.value.fields) == {"photo"}
    # Another district's officer: their own zones only; the delivery does not exist.
    with pytest.raises(ValidationFailed) as exc:
        services.delivery_plan(actor=yz_officer, zone_id=sealed.pk, warehouse_id=store.pk)
    assert {"zone_id", "warehouse_id"} <= set(exc.value.fields)
    with pytest.raises(NotFound):
        services.delivery_dispatch(actor=yz_officer, delivery_id=delivery.pk)


def test_a_zone_not_supplied_at_the_door_is_refused(
    city, officer, xiaodian_officer, commander, store, grain
):
    from fangkong.zones.tests.zonekit import declare

    medium = declare(xiaodian_officer, commander, [city.xd_building2], level="medium")
    with pytest.raises(ValidationFailed) as exc:
        plan(officer, medium, store, lines=[(grain.pk, 1)])
    assert set(exc.value.fields) == {"zone_id"}


def test_cancelling_puts_the_requests_back_and_a_closed_delivery_stays_closed(
    officer, sealed, store, grain, commander
):
    request_id = grocery_request(residents(sealed)[0])
    delivery = plan(officer, sealed, store, request_ids=[request_id], lines=[(grain.pk, 1)])
    with pytest.raises(ValidationFailed):
        services.delivery_cancel(actor=officer, delivery_id=delivery.pk, reason=" ")
    services.delivery_cancel(actor=officer, delivery_id=delivery.pk, reason="道路封闭")
    assert ZoneRequest.objects.get().state == ZoneRequest.State.WAITING
    with pytest.raises(Conflict):
        services.delivery_dispatch(actor=officer, delivery_id=delivery.pk)
    with pytest.raises(PermissionDenied):
        services.delivery_cancel(actor=commander, delivery_id=delivery.pk, reason="x")


def test_the_zones_days_left_count_what_was_delivered_against_its_residents_need(
    officer, sealed, store, grain
):
    move(officer, "receipt", store, grain, 1000)
    [row] = selectors.zone_supply_for(officer)
    first = {i.item.code: i for i in row.items}
    assert (first["grain"].days_left, first["grain"].level) == (Decimal(0), "alert")
    delivery = plan(officer, sealed, store, lines=[(grain.pk, 32)])
    [row] = selectors.zone_supply_for(officer)
    assert {i.item.code: i for i in row.items}["grain"].on_the_way == 32
    services.delivery_record_proof(
        actor=officer, delivery_id=delivery.pk, received_by="王建国", proof_note="签字确认"
    )
    [row] = selectors.zone_supply_for(officer)
    grain_row = {i.item.code: i for i in row.items}["grain"]
    # 32 kg for 4 residents × 0.4 kg a day = 20 days, on the day it came into force.
    assert (grain_row.delivered, grain_row.days_left, grain_row.level) == (32, Decimal(20), "ok")
    assert row.level == "alert"  # other items were not delivered


def test_another_districts_officer_sees_no_zone_request_or_delivery(
    officer, yz_officer, sealed, store, grain
):
    grocery_request(residents(sealed)[0])
    delivery = plan(officer, sealed, store, lines=[(grain.pk, 1)])
    assert selectors.zone_supply_for(yz_officer) == []
    assert list(selectors.zone_request_list_for(yz_officer)) == []
    assert list(selectors.delivery_list_for(yz_officer)) == []
    with pytest.raises(NotFound):
        selectors.access_delivery_by_id(yz_officer, delivery.pk)
