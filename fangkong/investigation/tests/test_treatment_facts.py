"""A case follows its patient in hospital: the quarantine app's medical facts
(``patient.admitted``, ``patient.severity_changed``, ``patient.discharged``) say
where the case is treated, how severe it is and how it ended."""

from __future__ import annotations

import pytest
from django.utils import timezone

from fangkong.conftest import client_for, make_person, make_staff
from fangkong.core.errors import ValidationFailed
from fangkong.core.models import AuditEntry
from fangkong.investigation.models import Case
from fangkong.investigation.tests.casekit import new_case
from fangkong.quarantine import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def medical(city):
    return make_staff("medical", city.city, "medical_officer")


@pytest.fixture
def hospitals(city, medical):
    designated = services.hospital_create(
        actor=medical,
        name="太原市第四人民医院",
        kind="designated",
        jurisdiction_id=city.xiaodian.pk,
        beds={"general": 2, "icu": 1},
    )
    shelter = services.hospital_create(
        actor=medical,
        name="小店区方舱医院",
        kind="shelter",
        jurisdiction_id=city.xiaodian.pk,
        beds={"general": 5, "icu": 0},
    )
    return designated, shelter


def test_an_admission_takes_the_persons_case_and_the_case_says_where_it_is_treated(
    city, medical, hospitals, investigator
):
    designated, shelter = hospitals
    person = make_person(city.xd_building, name="张三")
    case = new_case(investigator, person)
    adm = services.patient_admit(
        actor=medical,
        hospital_id=shelter.pk,
        person_id=person.pk,
        bed_type="general",
        severity="mild",
    )
    assert adm.case_id == case.pk
    case.refresh_from_db()
    assert (case.treatment_facility, case.facility_name, case.severity) == (
        "shelter_hospital",
        "小店区方舱医院",
        "mild",
    )
    entry = AuditEntry.objects.get(action="case.treatment")
    assert entry.actor == medical

    moved = services.patient_transfer(actor=medical, admission_id=adm.pk, hospital_id=designated.pk)
    services.patient_set_severity(
        actor=medical, admission_id=moved.pk, severity="critical", bed_type="icu"
    )
    case.refresh_from_db()
    assert (case.treatment_facility, case.facility_name, case.severity) == (
        "designated_hospital",
        "太原市第四人民医院",
        "critical",
    )
    page = client_for(medical).get(f"/quarantine/hospitals/{designated.pk}/").content.decode()
    assert case.number in page  # the hospital sees which case it treats
    services.patient_discharge(actor=medical, admission_id=moved.pk, outcome="discharged")
    case.refresh_from_db()
    assert case.outcome == "recovered"
    assert case.outcome_date == timezone.localdate()


def test_a_case_of_someone_else_is_refused_and_nothing_is_written(
    city, medical, hospitals, investigator
):
    designated, _shelter = hospitals
    a, b = make_person(city.xd_building, name="甲"), make_person(city.xd_building, name="乙")
    other = new_case(investigator, b)
    with pytest.raises(ValidationFailed) as exc:
        services.patient_admit(
            actor=medical,
            hospital_id=designated.pk,
            person_id=a.pk,
            bed_type="general",
            severity="mild",
            case_id=other.pk,
        )
    assert "case_id" in exc.value.fields
    other.refresh_from_db()
    assert other.treatment_facility == "none"


def test_an_outcome_already_recorded_is_kept_and_a_patient_without_a_case_is_fine(
    city, medical, hospitals, investigator
):
    designated, _shelter = hospitals
    person = make_person(city.xd_building, name="李四")
    case = new_case(investigator, person)
    adm = services.patient_admit(
        actor=medical,
        hospital_id=designated.pk,
        person_id=person.pk,
        bed_type="general",
        severity="moderate",
    )
    Case.objects.filter(pk=case.pk).update(outcome="transferred", outcome_date=timezone.localdate())
    services.patient_discharge(actor=medical, admission_id=adm.pk, outcome="died")
    case.refresh_from_db()
    assert case.outcome == "transferred"

    nobody = make_person(city.xd_building, name="王五")
    lone = services.patient_admit(
        actor=medical,
        hospital_id=designated.pk,
        person_id=nobody.pk,
        bed_type="general",
        severity="mild",
    )
    assert lone.case_id is None
