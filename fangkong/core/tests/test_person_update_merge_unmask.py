import pytest

from fangkong.conftest import make_person
from fangkong.core.crypto import decrypt
from fangkong.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from fangkong.core.models import AuditEntry, Household, Person
from fangkong.core.selectors import person_list_for, person_timeline
from fangkong.core.services import person_merge, person_unmask, person_update

pytestmark = pytest.mark.django_db


def test_update_changes_the_phone_and_audits_masked_before_and_after(city, xiaodian_officer):
    p = make_person(city.xd_building, phone="13800138000")
    person_update(
        actor=xiaodian_officer,
        person_id=p.pk,
        data={"phone": "13900139000"},
        reason="resident called",
    )
    p.refresh_from_db()
    assert decrypt(p.phone_encrypted) == "+8613900139000"
    entry = AuditEntry.objects.get(action="person.update")
    assert entry.reason == "resident called"
    old, new = entry.changes["phone"]
    assert "*" in old and "*" in new and "13900139000" not in new


def test_moving_home_moves_the_person_into_the_new_scope(city, commander):
    p = make_person(city.xd_building)
    person_update(actor=commander, person_id=p.pk, data={"home_id": city.yz_building.pk})
    p.refresh_from_db()
    assert p.scope_path == city.yz_building.path


def test_a_district_officer_cannot_move_someone_out_of_their_district(city, xiaodian_officer):
    p = make_person(city.xd_building)
    with pytest.raises(NotFound):
        person_update(actor=xiaodian_officer, person_id=p.pk, data={"home_id": city.yz_building.pk})
    p.refresh_from_db()
    assert p.scope_path == city.xd_building.path


def test_update_refuses_a_document_already_registered(city, xiaodian_officer):
    a = make_person(city.xd_building)
    b = make_person(city.xd_building)
    with pytest.raises(Conflict):
        person_update(
            actor=xiaodian_officer,
            person_id=b.pk,
            data={"doc_number": decrypt(a.doc_number_encrypted)},
        )


def test_update_of_a_person_in_another_district_is_not_found(city, yingze_officer):
    p = make_person(city.xd_building)
    with pytest.raises(NotFound):
        person_update(actor=yingze_officer, person_id=p.pk, data={"name": "改名"})
    assert not AuditEntry.objects.filter(action="person.update").exists()


def test_update_refuses_unknown_fields(city, xiaodian_officer):
    p = make_person(city.xd_building)
    with pytest.raises(ValidationFailed) as exc:
        person_update(actor=xiaodian_officer, person_id=p.pk, data={"salary": 1})
    assert "salary" in exc.value.fields


def test_unmask_needs_the_capability(city, xiaodian_officer):
    p = make_person(city.xd_building)
    with pytest.raises(PermissionDenied):
        person_unmask(actor=xiaodian_officer, person_id=p.pk, reason="checking")


def test_unmask_needs_a_reason_and_is_audited(city, investigator):
    p = make_person(city.xd_building, phone="13800138000")
    with pytest.raises(ValidationFailed):
        person_unmask(actor=investigator, person_id=p.pk, reason="")
    out = person_unmask(actor=investigator, person_id=p.pk, reason="contact tracing call")
    assert out["doc_number"] == decrypt(p.doc_number_encrypted)
    assert out["phone"] == "+8613800138000"
    entry = AuditEntry.objects.get(action="person.unmask")
    assert entry.person_id == p.pk and entry.reason == "contact tracing call"
    assert entry.actor_username == "investigator"


def test_merge_keeps_both_histories_and_hides_the_duplicate(city, xiaodian_officer):
    keep = make_person(city.xd_building, name="王芳")
    dup = make_person(city.xd_building2, name="王芳", phone="13800138000", key_groups=["teachers"])
    hh = Household.objects.create(building=city.xd_building2, unit="2-301")
    Person.objects.filter(pk=dup.pk).update(household=hh)
    person_update(actor=xiaodian_officer, person_id=dup.pk, data={"home_unit": "301"})
    person_merge(
        actor=xiaodian_officer,
        keep_id=keep.pk,
        duplicate_id=dup.pk,
        reason="same person registered twice",
    )
    keep.refresh_from_db()
    dup.refresh_from_db()
    assert dup.merged_into_id == keep.pk
    assert keep.phone_masked == dup.phone_masked
    assert keep.household_id == hh.pk
    assert list(keep.key_groups.values_list("code", flat=True)) == ["teachers"]
    listed = person_list_for(xiaodian_officer)
    assert dup not in listed and keep in listed
    actions = [e.action for e in person_timeline(xiaodian_officer, keep)]
    assert "person.update" in actions  # the duplicate's history shows on the kept record
    assert actions.count("person.merge") == 2


def test_merge_refuses_the_same_record_twice(city, xiaodian_officer):
    a = make_person(city.xd_building)
    b = make_person(city.xd_building)
    person_merge(actor=xiaodian_officer, keep_id=a.pk, duplicate_id=b.pk, reason="dup")
    with pytest.raises(Conflict):
        person_merge(actor=xiaodian_officer, keep_id=a.pk, duplicate_id=b.pk, reason="dup")


def test_merge_across_districts_is_not_found_for_a_district_officer(city, xiaodian_officer):
    a = make_person(city.xd_building)
    b = make_person(city.yz_building, region="140106")
    with pytest.raises(NotFound):
        person_merge(actor=xiaodian_officer, keep_id=a.pk, duplicate_id=b.pk, reason="dup")
