"""Daily monitoring, scheduled tests, suspicion, release criteria (frozen time),
early release with approval, extension and transfer out."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pypdf
import pytest
import time_machine
from django.utils import timezone

from fangkong.core.errors import Conflict, PermissionDenied, ValidationFailed
from fangkong.investigation.models import Case
from fangkong.quarantine import services
from fangkong.quarantine.models import HealthCheck, Room, Stay, StayTest
from fangkong.quarantine.tests.kit import active_site, in_rooms, people

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
START = dt.date(2022, 10, 6)


def at(day: int, hour: int = 9) -> dt.datetime:
    """Day ``day`` of a stay that began on 6 October 2022, local time."""
    return dt.datetime.combine(START + dt.timedelta(days=day - 1), dt.time(hour), tzinfo=SHANGHAI)


def check(manager, stay, day, slot="am", temperature="36.5", symptoms=()):
    return services.health_check_record(
        actor=manager,
        stay_id=stay.pk,
        taken_on=START + dt.timedelta(days=day - 1),
        slot=slot,
        data=services.CheckData(temperature=temperature, symptoms=list(symptoms)),
    )


def negative_all(manager, stay, upto_day):
    for t in StayTest.objects.filter(stay=stay, day_number__lte=upto_day):
        services.stay_test_record(actor=manager, test_id=t.pk, result="negative")


@pytest.fixture
def stay(city, manager, commander):
    with time_machine.travel(at(1), tick=False):
        site = active_site(manager, commander, city.xiaodian, rooms=4)
        return in_rooms(manager, site, people(city, 1), started_on=START)[0]


def test_two_checks_a_day_are_recorded_and_a_second_value_is_refused(stay, manager):
    with time_machine.travel(at(1, 15), tick=False):
        check(manager, stay, 1, "am")
        check(manager, stay, 1, "pm", "36.8")
        with pytest.raises(ValidationFailed) as exc:
            check(manager, stay, 1, "pm", "37.0")
    assert "already recorded" in next(iter(exc.value.fields.values()))
    assert [str(c.temperature) for c in HealthCheck.objects.order_by("slot")] == ["36.5", "36.8"]


def test_an_impossible_temperature_or_a_future_day_is_refused(stay, manager):
    with time_machine.travel(at(1), tick=False):
        with pytest.raises(ValidationFailed) as exc:
            check(manager, stay, 1, temperature="63.5")
        assert "not a possible body temperature" in next(iter(exc.value.fields.values()))
        with pytest.raises(ValidationFailed):
            check(manager, stay, 2)
        with pytest.raises(ValidationFailed):
            check(manager, stay, 1, symptoms=["hiccups"])
    assert not HealthCheck.objects.exists()


def test_a_fever_makes_the_person_a_suspected_case_in_investigation_once(stay, manager):
    with time_machine.travel(at(2, 15), tick=False):
        check(manager, stay, 2, "am", "38.2", ["dry_cough"])
        check(manager, stay, 2, "pm", "38.5")
    stay.refresh_from_db()
    assert stay.suspected_at is not None
    assert "38.2" in stay.suspected_reason
    case = Case.objects.get(person_id=stay.person_id)
    assert case.classification == "suspected"
    assert case.found_by == "contact_monitoring"
    assert Case.objects.filter(person_id=stay.person_id).count() == 1


def test_a_positive_test_makes_a_suspected_case_and_a_result_is_never_overwritten(stay, manager):
    test = StayTest.objects.get(stay=stay, day_number=1)
    with time_machine.travel(at(1, 18), tick=False):
        services.stay_test_record(actor=manager, test_id=test.pk, result="positive")
        with pytest.raises(Conflict) as exc:
            services.stay_test_record(actor=manager, test_id=test.pk, result="negative")
    assert exc.value.code == "result_conflict"
    assert Case.objects.get(person_id=stay.person_id).classification == "suspected"


def test_a_test_not_yet_due_takes_no_result(stay, manager):
    test = StayTest.objects.get(stay=stay, day_number=7)
    with time_machine.travel(at(1), tick=False), pytest.raises(ValidationFailed):
        services.stay_test_record(actor=manager, test_id=test.pk, result="negative")


def test_release_waits_for_the_days_and_the_negative_tests(stay, manager):
    with time_machine.travel(at(7, 18), tick=False):
        negative_all(manager, stay, 5)
        with pytest.raises(Conflict) as exc:
            services.stay_release(actor=manager, stay_id=stay.pk)
    assert exc.value.code == "criteria_not_met"
    assert any("runs until Oct. 12, 2022" in m for m in exc.value.fields.values())
    with time_machine.travel(at(8), tick=False):
        with pytest.raises(Conflict) as exc:
            services.stay_release(actor=manager, stay_id=stay.pk)
        assert any("no result yet" in m for m in exc.value.fields.values())
        negative_all(manager, stay, 7)
        released = services.stay_release(actor=manager, stay_id=stay.pk, note="期满解除")
    assert released.state == "released"
    assert released.certificate_number == "JC2022000001"
    room = Room.objects.get(pk=stay.room_id)
    assert (room.status, room.occupants) == ("awaiting_disinfection", 0)


def test_an_early_release_needs_another_persons_approval(stay, manager, xiaodian_officer):
    with time_machine.travel(at(3), tick=False):
        with pytest.raises(Conflict):
            services.stay_release(actor=manager, stay_id=stay.pk)
        approval = services.release_request_early(
            actor=manager,
            stay_id=stay.pk,
            reason_kind="medical",
            reason="需转诊透析，由医院接续管理",
        )
        with pytest.raises(PermissionDenied):
            services.approval_decide(actor=manager, approval_id=approval.pk, approve=True)
        services.approval_decide(actor=xiaodian_officer, approval_id=approval.pk, approve=True)
        released = services.stay_release(actor=manager, stay_id=stay.pk)
    assert released.state == "released"
    assert released.early_release_id == approval.pk


def test_an_extension_moves_the_end_and_adds_a_test_on_the_new_last_day(stay, manager):
    with time_machine.travel(at(6), tick=False):
        with pytest.raises(ValidationFailed) as exc:
            services.stay_extend(actor=manager, stay_id=stay.pk, days=0, reason="")
        assert set(exc.value.fields) == {"days", "reason"}
        extended = services.stay_extend(
            actor=manager, stay_id=stay.pk, days=3, reason="同楼层出现阳性"
        )
    assert extended.planned_end == START + dt.timedelta(days=10)
    assert StayTest.objects.filter(stay=stay, due_on=START + dt.timedelta(days=9)).exists()
    assert extended.extensions.get().previous_end == START + dt.timedelta(days=7)


def test_a_suspected_person_is_transferred_to_a_hospital_bed(stay, manager, city):
    medical = services.hospital_create(
        actor=_medical(city),
        name="太原市第四人民医院",
        kind="designated",
        jurisdiction_id=city.xiaodian.pk,
        beds={"general": 10, "icu": 2},
    )
    with time_machine.travel(at(2), tick=False):
        moved = services.stay_transfer_out(
            actor=manager, stay_id=stay.pk, hospital_id=medical.pk, reason="发热，转定点医院"
        )
    assert moved.state == "transferred"
    assert moved.transferred_to == "太原市第四人民医院"
    assert medical.admissions.get().from_stay_id == stay.pk
    assert Room.objects.get(pk=stay.room_id).status == "awaiting_disinfection"


def test_the_release_certificate_names_the_person_in_their_language(stay, manager):
    with time_machine.travel(at(8), tick=False):
        negative_all(manager, stay, 7)
        services.stay_release(actor=manager, stay_id=stay.pk)
        data, name = services.certificate_pdf(manager, stay.pk)
    text = pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text()
    person = Stay.objects.select_related("person").get(pk=stay.pk).person
    assert name == "JC2022000001.pdf"
    assert "解除集中隔离医学观察证明" in text
    assert person.name in text
    assert person.doc_masked in text
    assert "2022年10月6日" in text
    english, _n = services.certificate_pdf(manager, stay.pk, language="en")
    assert "Certificate of release" in pypdf.PdfReader(io.BytesIO(english)).pages[0].extract_text()


def _medical(city):
    from fangkong.conftest import make_staff

    return make_staff("medical", city.city, "medical_officer")


def test_no_certificate_before_release(stay, manager):
    with pytest.raises(Conflict):
        services.certificate_pdf(manager, stay.pk)


def test_the_day_is_counted_in_local_time(stay):
    assert stay.day_number(timezone.localdate()) >= 1
