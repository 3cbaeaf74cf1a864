"""Intake and room allocation: one person per room, exceptions with approval."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format

from fangkong.core import events
from fangkong.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from fangkong.core.models import AuditEntry
from fangkong.quarantine import services
from fangkong.quarantine.models import ActivationProposal, Approval, Room, Stay
from fangkong.quarantine.tests.kit import (
    active_site,
    admit,
    all_pass,
    in_rooms,
    inspected_site,
    people,
)

pytestmark = pytest.mark.django_db


def test_an_admitted_person_waits_for_a_room_with_the_rules_end(city, manager, site):
    person = people(city, 1)[0]
    started = timezone.localdate() - dt.timedelta(days=1)
    stay = admit(manager, site, [person], started_on=started)[0]
    assert stay.state == Stay.State.PENDING
    assert stay.rule.quarantine_days == 7
    assert stay.planned_end == started + dt.timedelta(days=7)
    # Tests from the day of admission on (day 1 was yesterday, before it).
    assert [t.day_number for t in stay.tests.order_by("due_on")] == [2, 3, 5, 7]
    assert AuditEntry.objects.filter(action="quarantine.stay_admit", person_id=person.pk).exists()


def test_a_later_end_asked_by_the_sender_is_kept_and_flagged(city, manager, site):
    person = people(city, 1)[0]
    today = timezone.localdate()
    asked = today + dt.timedelta(days=14)
    stay = admit(manager, site, [person], started_on=today, requested_end=asked)[0]
    assert stay.planned_end == asked
    assert stay.requested_end == asked
    assert date_format(asked) in stay.note


def test_a_person_already_in_quarantine_is_not_admitted_twice(city, manager, site):
    person = people(city, 1)[0]
    admit(manager, site, [person])
    with pytest.raises(ValidationFailed) as exc:
        admit(manager, site, [person])
    assert "already in quarantine" in exc.value.fields["people.0"]
    assert Stay.objects.count() == 1


def test_a_site_that_is_not_active_takes_nobody(city, manager):
    standby = inspected_site(manager, city.xiaodian)
    with pytest.raises(Conflict):
        admit(manager, standby, people(city, 1))


def test_a_hand_over_opens_pending_stays_once_even_if_delivered_twice(city, manager, site):
    persons = people(city, 3)
    payload = dict(
        transfer_id=77,
        person_ids=[p.pk for p in persons],
        arrival_ids=[501, 502, 503],
        destination_kind="quarantine_site",
        destination_id=site.pk,
        at=timezone.now().isoformat(),
        category="inbound_traveller",
        planned_end=None,
    )
    with transaction.atomic():
        events.publish("transfer.handed_over", **payload)
    with transaction.atomic():
        events.publish("transfer.handed_over", **payload)
    stays = list(Stay.objects.order_by("arrival_id"))
    assert [s.arrival_id for s in stays] == [501, 502, 503]
    assert {s.state for s in stays} == {"pending"}
    assert {s.category.code for s in stays} == {"inbound_traveller"}
    assert {s.transfer_id for s in stays} == {77}


def test_a_hand_over_home_is_not_for_quarantine(city, site):
    person = people(city, 1)[0]
    events.publish(
        "transfer.handed_over",
        transfer_id=78,
        person_ids=[person.pk],
        arrival_ids=[1],
        destination_kind="home",
        destination_id=None,
        at=timezone.now().isoformat(),
        category="close_contact",
        planned_end=None,
    )
    assert not Stay.objects.exists()


def test_an_unknown_category_from_the_sender_is_admitted_as_other(city, site):
    person = people(city, 1)[0]
    events.publish(
        "transfer.handed_over",
        transfer_id=79,
        person_ids=[person.pk],
        arrival_ids=[9],
        destination_kind="quarantine_site",
        destination_id=site.pk,
        at=timezone.now().isoformat(),
        category="centralised",
        planned_end=None,
    )
    assert Stay.objects.get().category.code == "other"


def test_allocation_gives_one_clean_room_each_and_the_rest_wait(city, manager, commander):
    site = active_site(manager, commander, city.xiaodian, rooms=4)
    Room.objects.filter(site=site, number="201").update(status="maintenance")
    stays = admit(manager, site, people(city, 5))
    result = services.stays_allocate(actor=manager, site_id=site.pk)
    assert len(result.placed) == 3
    assert len(result.waiting) == 2
    rooms = [r for _s, r in result.placed]
    assert len(set(rooms)) == 3
    assert set(Room.objects.filter(pk__in=rooms).values_list("status", flat=True)) == {"occupied"}
    assert Stay.objects.filter(state="pending").count() == 2
    assert [s for s, _r in result.placed] == [s.pk for s in stays[:3]]


def test_a_room_that_is_not_clean_cannot_be_given(city, manager, site):
    stay = admit(manager, site, people(city, 1))[0]
    room = Room.objects.get(site=site, number="201")
    Room.objects.filter(pk=room.pk).update(status="awaiting_disinfection")
    with pytest.raises(Conflict) as exc:
        services.stay_assign_room(actor=manager, stay_id=stay.pk, room_id=room.pk)
    assert exc.value.code == "room_not_clean"
    stay.refresh_from_db()
    assert stay.room_id is None


def test_an_occupied_room_is_not_given_twice(city, manager, site):
    first, second = admit(manager, site, people(city, 2))
    room = Room.objects.get(site=site, number="201")
    services.stay_assign_room(actor=manager, stay_id=first.pk, room_id=room.pk)
    with pytest.raises(Conflict):
        services.stay_assign_room(actor=manager, stay_id=second.pk, room_id=room.pk)


def test_the_database_refuses_two_people_in_one_room_without_an_exception(city, manager, site):
    first, second = in_rooms(manager, site, people(city, 2))
    with pytest.raises(IntegrityError), transaction.atomic():
        Stay.objects.filter(pk=second.pk).update(room_id=first.room_id)


def test_a_minor_shares_the_guardians_room_only_after_another_persons_approval(
    city, manager, site, xiaodian_officer
):
    guardian = in_rooms(manager, site, people(city, 1))[0]
    child = admit(manager, site, people(city, 1))[0]
    approval = services.room_share_request(
        actor=manager,
        stay_id=child.pk,
        room_id=guardian.room_id,
        reason_kind="minor_guardian",
        reason="8岁儿童随母亲隔离",
    )
    assert Stay.objects.get(pk=child.pk).state == "pending"
    with pytest.raises(PermissionDenied):
        services.approval_decide(actor=manager, approval_id=approval.pk, approve=True)
    services.approval_decide(actor=xiaodian_officer, approval_id=approval.pk, approve=True)
    child.refresh_from_db()
    assert child.state == "in_room"
    assert child.room_id == guardian.room_id
    assert child.share_id == approval.pk
    assert Room.objects.get(pk=guardian.room_id).occupants == 2
    assert Approval.objects.get(pk=approval.pk).state == "used"


def test_a_share_request_needs_a_ground_and_a_reason(city, manager, site):
    guardian = in_rooms(manager, site, people(city, 1))[0]
    child = admit(manager, site, people(city, 1))[0]
    with pytest.raises(ValidationFailed) as exc:
        services.room_share_request(
            actor=manager,
            stay_id=child.pk,
            room_id=guardian.room_id,
            reason_kind="friends",
            reason="",
        )
    assert set(exc.value.fields) == {"reason_kind", "reason"}


def test_a_refusal_needs_a_reason(city, manager, site, xiaodian_officer):
    guardian = in_rooms(manager, site, people(city, 1))[0]
    child = admit(manager, site, people(city, 1))[0]
    approval = services.room_share_request(
        actor=manager,
        stay_id=child.pk,
        room_id=guardian.room_id,
        reason_kind="carer",
        reason="护理",
    )
    with pytest.raises(ValidationFailed):
        services.approval_decide(actor=xiaodian_officer, approval_id=approval.pk, approve=False)
    services.approval_decide(
        actor=xiaodian_officer, approval_id=approval.pk, approve=False, note="可安排相邻房间"
    )
    assert Approval.objects.get(pk=approval.pk).state == "refused"


def test_a_batch_placement_is_all_or_nothing(city, manager, commander, city_manager):
    active_site(manager, commander, city.xiaodian, rooms=4, name="一号点", tier=1)
    with pytest.raises(Conflict) as exc:
        services.stays_place(
            actor=city_manager,
            pool_id=city.city.pk,
            people=[services.AdmitData(p.pk, "inbound_traveller") for p in people(city, 5)],
        )
    assert exc.value.code == "not_enough_rooms"
    assert not Stay.objects.exists()
    assert not Room.objects.filter(status="occupied").exists()


def test_a_batch_placement_fills_the_first_tier_first(city, manager, commander, city_manager):
    second = active_site(manager, commander, city.xiaodian, rooms=4, name="二号点", tier=2)
    first = active_site(manager, commander, city.xiaodian, rooms=4, name="一号点", tier=1)
    result = services.stays_place(
        actor=city_manager,
        pool_id=city.city.pk,
        people=[services.AdmitData(p.pk, "inbound_traveller") for p in people(city, 6)],
    )
    sites = list(Stay.objects.order_by("id").values_list("site_id", flat=True))
    assert sites == [first.pk] * 4 + [second.pk] * 2
    assert len({r for _s, r in result.placed}) == 6


def test_a_full_pool_proposes_the_next_tier(
    city, manager, commander, city_manager, django_capture_on_commit_callbacks
):
    active_site(manager, commander, city.xiaodian, rooms=5, name="一号点", tier=1)
    standby = inspected_site(manager, city.xiaodian, name="二号点", tier=2)
    services.site_accept(actor=manager, site_id=standby.pk, results=all_pass())
    services.site_transition(actor=manager, site_id=standby.pk, to_state="standby")
    with django_capture_on_commit_callbacks(execute=True):
        services.stays_place(
            actor=city_manager,
            pool_id=city.city.pk,
            people=[services.AdmitData(p.pk, "close_contact") for p in people(city, 4)],
        )
    proposal = ActivationProposal.objects.get(state="open")
    assert proposal.site_id == standby.pk
    assert (proposal.occupied_rooms, proposal.total_rooms) == (4, 5)  # 80 %: the default rule
    services.proposal_decide(actor=commander, proposal_id=proposal.pk, accept=True)
    standby.refresh_from_db()
    assert standby.state == "active"


def test_stays_of_another_district_do_not_exist_for_its_manager(city, manager, site, yz_manager):
    stay = admit(manager, site, people(city, 1))[0]
    with pytest.raises(NotFound):
        services.stay_assign_room(
            actor=yz_manager, stay_id=stay.pk, room_id=Room.objects.get(site=site, number="201").pk
        )


def test_how_many_may_share_a_room_is_the_rule_s(city, manager, site, xiaodian_officer):
    from fangkong.quarantine.models import QuarantineRule

    guardian = in_rooms(manager, site, people(city, 1))[0]
    QuarantineRule.objects.filter(pk=guardian.rule_id).update(room_sharers=2)
    first, second = admit(manager, site, people(city, 2))
    decided = []
    for stay in (first, second):
        approval = services.room_share_request(
            actor=manager,
            stay_id=stay.pk,
            room_id=guardian.room_id,
            reason_kind="minor_guardian",
            reason="随母亲隔离的儿童",
        )
        decided.append(approval)
    services.approval_decide(actor=xiaodian_officer, approval_id=decided[0].pk, approve=True)
    with pytest.raises(Conflict) as exc:
        services.approval_decide(actor=xiaodian_officer, approval_id=decided[1].pk, approve=True)
    assert exc.value.code == "room_full"
    assert Room.objects.get(pk=guardian.room_id).occupants == 2
    assert Stay.objects.get(pk=second.pk).state == "pending"
