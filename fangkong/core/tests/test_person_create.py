import datetime as dt

import pytest

from fangkong.conftest import make_person
from fangkong.core.crypto import decrypt
from fangkong.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from fangkong.core.identity import make_prc_id
from fangkong.core.models import AuditEntry, Person
from fangkong.core.services import PersonData, person_create

pytestmark = pytest.mark.django_db


def data(home_id, **kw):
    base = dict(
        doc_type="prc_id",
        doc_number=make_prc_id("140105", dt.date(1990, 3, 7), 123),
        name="李四",
        phone="138 0013 8000",
        home_id=home_id,
        key_groups=["cold_chain"],
    )
    base.update(kw)
    return PersonData(**base)


def test_it_registers_a_person_with_derived_birth_date_and_sex(city, xiaodian_officer):
    p = person_create(actor=xiaodian_officer, data=data(city.xd_building.pk))
    assert p.birth_date == dt.date(1990, 3, 7)
    assert p.sex == "M"  # sequence 123 is odd
    assert p.scope_path == city.xd_building.path
    assert [g.code for g in p.key_groups.all()] == ["cold_chain"]


def test_it_stores_identifiers_encrypted_and_masked(city, xiaodian_officer):
    doc = make_prc_id("140105", dt.date(1990, 3, 7), 123)
    p = person_create(actor=xiaodian_officer, data=data(city.xd_building.pk))
    raw = Person.objects.filter(pk=p.pk).values("doc_number_encrypted", "phone_encrypted").get()
    assert doc not in raw["doc_number_encrypted"]
    assert decrypt(raw["doc_number_encrypted"]) == doc
    assert decrypt(raw["phone_encrypted"]) == "+8613800138000"
    assert p.doc_masked == doc[:4] + "*" * 10 + doc[-4:]
    assert p.phone_masked.startswith("+86") and "*" in p.phone_masked


def test_it_refuses_a_bad_checksum_naming_the_field(city, xiaodian_officer):
    good = make_prc_id("140105", dt.date(1990, 3, 7), 123)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(ValidationFailed) as exc:
        person_create(actor=xiaodian_officer, data=data(city.xd_building.pk, doc_number=bad))
    assert "doc_number" in exc.value.fields
    assert Person.objects.count() == 0


def test_it_refuses_a_malformed_phone(city, xiaodian_officer):
    with pytest.raises(ValidationFailed) as exc:
        person_create(actor=xiaodian_officer, data=data(city.xd_building.pk, phone="12345"))
    assert "phone" in exc.value.fields


def test_it_refuses_a_duplicate_document(city, xiaodian_officer):
    person_create(actor=xiaodian_officer, data=data(city.xd_building.pk))
    with pytest.raises(Conflict) as exc:
        person_create(actor=xiaodian_officer, data=data(city.xd_building2.pk, name="王五"))
    assert exc.value.code == "duplicate_document"
    assert Person.objects.count() == 1


def test_it_hides_homes_outside_the_jurisdiction(city, xiaodian_officer):
    with pytest.raises(NotFound):
        person_create(actor=xiaodian_officer, data=data(city.yz_building.pk))


def test_a_user_without_the_capability_is_refused(city, auditor):
    with pytest.raises(PermissionDenied):
        person_create(actor=auditor, data=data(city.xd_building.pk))


def test_it_leaves_an_audit_row_with_masked_values(city, xiaodian_officer):
    p = person_create(actor=xiaodian_officer, data=data(city.xd_building.pk))
    entry = AuditEntry.objects.get(action="person.create")
    assert entry.person_id == p.pk
    assert entry.actor_username == "xiaodian"
    assert entry.actor_roles == "district_officer"
    assert "*" in entry.changes["doc_number"][1]
    assert "+8613800138000" not in str(entry.changes)


def test_make_person_helper_builds_a_valid_record(city):
    p = make_person(city.xd_building)
    assert p.pk and p.doc_type == "prc_id"
