"""Hospitals: beds by type, admission, severity, transfer, discharge, capacity."""

from __future__ import annotations

import pytest

from fangkong.conftest import make_person, make_staff
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.quarantine import selectors, services
from fangkong.quarantine.selectors import shared

pytestmark = pytest.mark.django_db


@pytest.fixture
def medical(city):
    return make_staff("medical", city.city, "medical_officer")


@pytest.fixture
def hospital(city, medical):
    return services.hospital_create(
        actor=medical,
        name="太原市第四人民医院",
        kind="designated",
        jurisdiction_id=city.xiaodian.pk,
        beds={"general": 2, "icu": 1},
    )


def test_a_bed_of_the_type_must_be_free(city, medical, hospital):
    a, b, c = (make_person(city.xd_building, name=n) for n in ("甲", "乙", "丙"))
    for p in (a, b):
        services.patient_admit(
            actor=medical,
            hospital_id=hospital.pk,
            person_id=p.pk,
            bed_type="general",
            severity="mild",
        )
    with pytest.raises(Conflict) as exc:
        services.patient_admit(
            actor=medical,
            hospital_id=hospital.pk,
            person_id=c.pk,
            bed_type="general",
            severity="mild",
        )
    assert exc.value.code == "no_free_bed"
    with pytest.raises(Conflict):
        services.patient_admit(
            actor=medical,
            hospital_id=hospital.pk,
            person_id=a.pk,
            bed_type="icu",
            severity="severe",
        )


def test_a_critical_patient_moves_to_icu_and_the_beds_follow(city, medical, hospital):
    p = make_person(city.xd_building)
    adm = services.patient_admit(
        actor=medical,
        hospital_id=hospital.pk,
        person_id=p.pk,
        bed_type="general",
        severity="moderate",
    )
    services.patient_set_severity(
        actor=medical, admission_id=adm.pk, severity="critical", bed_type="icu", note="血氧下降"
    )
    row = selectors.hospital_list_for(medical)[0]
    beds = {b.code: (b.used, b.total, b.level) for b in row.beds}
    assert beds == {"general": (0, 2, "ok"), "icu": (1, 1, "critical")}
    assert [b.level for b in shared.hospital_beds(medical)] == ["ok", "critical"]
    assert list(adm.events.values_list("kind", flat=True)) == ["admitted", "severity"]


def test_a_transfer_ends_one_admission_and_opens_the_next(city, medical, hospital):
    shelter = services.hospital_create(
        actor=medical,
        name="方舱医院一号",
        kind="shelter",
        jurisdiction_id=city.yingze.pk,
        beds={"general": 100},
    )
    p = make_person(city.xd_building)
    adm = services.patient_admit(
        actor=medical, hospital_id=hospital.pk, person_id=p.pk, bed_type="general", severity="mild"
    )
    new = services.patient_transfer(
        actor=medical, admission_id=adm.pk, hospital_id=shelter.pk, note="轻症转方舱"
    )
    adm.refresh_from_db()
    assert adm.state == "transferred"
    assert new.previous_id == adm.pk
    done = services.patient_discharge(actor=medical, admission_id=new.pk, note="治愈出院")
    assert done.state == "discharged"


def test_beds_cannot_go_below_those_in_use(city, medical, hospital):
    p = make_person(city.xd_building)
    services.patient_admit(
        actor=medical, hospital_id=hospital.pk, person_id=p.pk, bed_type="icu", severity="critical"
    )
    with pytest.raises(Conflict):
        services.hospital_set_beds(actor=medical, hospital_id=hospital.pk, bed_type="icu", total=0)
    with pytest.raises(ValidationFailed):
        services.hospital_set_beds(actor=medical, hospital_id=hospital.pk, bed_type="ward", total=3)


def test_a_hospital_of_another_area_does_not_exist(city, hospital):
    yz_medical = make_staff("yzmedical", city.yingze, "medical_officer")
    with pytest.raises(NotFound):
        selectors.access_hospital_by_id(yz_medical, hospital.pk)
    assert shared.hospital_beds(yz_medical) == []
