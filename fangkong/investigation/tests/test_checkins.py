import datetime as dt

import pytest
import time_machine
from django.utils import translation

from fangkong.conftest import make_person
from fangkong.core import signing
from fangkong.core.errors import NotFound, PermissionDenied, ValidationFailed
from fangkong.core.models import AuditEntry, Household
from fangkong.investigation.models import CheckIn, Disease, DiseaseRules
from fangkong.investigation.services.checkins import (
    checkin_assist,
    checkin_purge_expired,
    checkin_scan,
)
from fangkong.investigation.services.venues import venue_code_issue, venue_code_revoke
from fangkong.investigation.tests.checkins_support import make_checkin, make_venue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


T0 = dt.datetime(2022, 10, 6, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def venue(city):
    return make_venue(city.xd_building)


@pytest.fixture
def code(venue, commander):
    return venue_code_issue(actor=commander, venue_id=venue.pk)


@pytest.fixture
def venue_token(code):
    return code[1]


@pytest.fixture
def resident(city):
    return make_person(city.xd_building, name="王五")


def test_a_self_scan_records_a_visit_at_server_time(venue, venue_token, resident):
    with time_machine.travel(T0, tick=False):
        result = checkin_scan(
            venue_token=venue_token, person_token=signing.person_token(resident.pk)
        )
    row = CheckIn.objects.get()
    assert (row.venue_id, row.person_id, row.time, row.last_scan_at) == (
        venue.pk,
        resident.pk,
        T0,
        T0,
    )
    assert row.source == CheckIn.Source.SCAN
    assert result.visits[0].id == row.pk and not result.visits[0].extended
    assert result.venue_name == venue.name


def test_a_second_scan_within_ten_minutes_extends_the_same_visit(venue_token, resident):
    token = signing.person_token(resident.pk)
    with time_machine.travel(T0, tick=False):
        checkin_scan(venue_token=venue_token, person_token=token)
    with time_machine.travel(T0 + dt.timedelta(minutes=9), tick=False):
        result = checkin_scan(venue_token=venue_token, person_token=token)
    assert result.visits[0].extended
    row = CheckIn.objects.get()
    assert row.time == T0 and row.last_scan_at == T0 + dt.timedelta(minutes=9)
    # Each scan extends the window from the last one.
    with time_machine.travel(T0 + dt.timedelta(minutes=18), tick=False):
        checkin_scan(venue_token=venue_token, person_token=token)
    assert CheckIn.objects.count() == 1


def test_a_scan_after_ten_minutes_is_a_new_visit(venue_token, resident):
    token = signing.person_token(resident.pk)
    with time_machine.travel(T0, tick=False):
        checkin_scan(venue_token=venue_token, person_token=token)
    with time_machine.travel(T0 + dt.timedelta(minutes=11), tick=False):
        result = checkin_scan(venue_token=venue_token, person_token=token)
    assert not result.visits[0].extended
    assert CheckIn.objects.count() == 2


def test_scans_at_another_venue_are_separate_visits(city, commander, venue_token, resident):
    other = make_venue(city.xd_building2, name="药店")
    _code, other_token = venue_code_issue(actor=commander, venue_id=other.pk)
    token = signing.person_token(resident.pk)
    with time_machine.travel(T0, tick=False):
        checkin_scan(venue_token=venue_token, person_token=token)
        checkin_scan(venue_token=other_token, person_token=token)
    assert CheckIn.objects.count() == 2


def test_forged_and_expired_personal_codes_are_refused_and_nothing_stored(venue_token, resident):
    with time_machine.travel(T0 - dt.timedelta(days=2), tick=False):
        expired = signing.person_token(resident.pk)
    forged = signing.person_token(resident.pk)[:-4] + "AAAA"
    for bad, words in ((expired, "expired"), (forged, "forged")):
        with pytest.raises(signing.BadToken) as exc:
            checkin_scan(venue_token=venue_token, person_token=bad)
        assert words in exc.value.fields["person_token"]
    assert not CheckIn.objects.exists()


def test_a_revoked_venue_code_is_refused_and_nothing_stored(code, commander, resident):
    venue_code_revoke(actor=commander, code_id=code[0].pk, reason="换新码")
    with pytest.raises(signing.BadToken) as exc:
        checkin_scan(venue_token=code[1], person_token=signing.person_token(resident.pk))
    assert "venue_token" in exc.value.fields
    assert not CheckIn.objects.exists()


def test_a_check_in_in_the_future_is_refused(venue_token, resident):
    with pytest.raises(ValidationFailed) as exc:
        checkin_scan(
            venue_token=venue_token,
            person_token=signing.person_token(resident.pk),
            when=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
        )
    assert "future" in exc.value.fields["time"]
    assert not CheckIn.objects.exists()


def test_a_personal_code_of_a_person_not_registered_is_refused(venue_token):
    with pytest.raises(ValidationFailed) as exc:
        checkin_scan(venue_token=venue_token, person_token=signing.person_token(987654))
    assert "person_token" in exc.value.fields
    assert not CheckIn.objects.exists()


def test_a_parent_checks_in_children_of_the_same_household(city, venue_token):
    home = Household.objects.create(building=city.xd_building, unit="101")
    parent = make_person(city.xd_building, name="母亲")
    child = make_person(city.xd_building, name="孩子")
    grandpa = make_person(city.xd_building, name="爷爷")
    for p in (parent, child, grandpa):
        p.household = home
        p.save(update_fields=["household"])
    result = checkin_scan(
        venue_token=venue_token,
        person_token=signing.person_token(parent.pk),
        dependants=[child.pk, signing.person_token(grandpa.pk)],
    )
    assert len(result.visits) == 3
    sources = dict(CheckIn.objects.values_list("person_id", "source"))
    assert sources == {parent.pk: "scan", child.pk: "dependant", grandpa.pk: "dependant"}


def test_a_stranger_cannot_be_checked_in_as_a_dependant(city, venue_token):
    home = Household.objects.create(building=city.xd_building, unit="101")
    parent = make_person(city.xd_building, name="母亲")
    parent.household = home
    parent.save(update_fields=["household"])
    stranger = make_person(city.xd_building, name="路人")
    with pytest.raises(ValidationFailed) as exc:
        checkin_scan(
            venue_token=venue_token,
            person_token=signing.person_token(parent.pk),
            dependants=[stranger.pk],
        )
    assert "household" in exc.value.fields["dependants"]
    assert not CheckIn.objects.exists()


def test_staff_check_in_a_person_by_document(city, grid_worker, venue, venue_token):
    person = make_person(city.yz_building, name="无手机老人", region="140106")
    from fangkong.core.crypto import decrypt

    doc = decrypt(person.doc_number_encrypted)
    result = checkin_assist(
        actor=grid_worker, venue_token=venue_token, doc_type="prc_id", doc_number=doc.lower()
    )
    row = CheckIn.objects.get()
    assert row.person_id == person.pk and row.source == CheckIn.Source.STAFF
    assert result.visits[0].id == row.pk


def test_staff_assisted_scan_of_an_unknown_document_is_refused(city, grid_worker, venue_token):
    with pytest.raises(ValidationFailed) as exc:
        checkin_assist(
            actor=grid_worker, venue_token=venue_token, doc_type="passport", doc_number="E1234567"
        )
    assert "doc_number" in exc.value.fields
    assert not CheckIn.objects.exists()


def test_staff_cannot_assist_at_a_venue_of_another_district(city, commander, yingze_officer):
    venue = make_venue(city.xd_building)
    _code, token = venue_code_issue(actor=commander, venue_id=venue.pk)
    with pytest.raises(NotFound):
        checkin_assist(
            actor=yingze_officer, venue_token=token, doc_type="passport", doc_number="E1234567"
        )


def test_staff_without_checkin_assist_cannot_scan_for_others(investigator, venue_token):
    with pytest.raises(PermissionDenied):
        checkin_assist(
            actor=investigator, venue_token=venue_token, doc_type="passport", doc_number="E1234567"
        )


def test_check_ins_past_the_retention_period_are_deleted_and_the_deletion_logged(venue, resident):
    now = dt.datetime(2022, 11, 1, 3, 15, tzinfo=dt.UTC)
    old = make_checkin(venue, resident, now - dt.timedelta(days=29))
    older = make_checkin(venue, resident, now - dt.timedelta(days=40))
    kept = make_checkin(venue, resident, now - dt.timedelta(days=27))
    assert checkin_purge_expired(now=now, batch_size=1) == 2
    assert list(CheckIn.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not CheckIn.objects.filter(pk__in=[old.pk, older.pk]).exists()
    entry = AuditEntry.objects.get(action="checkin.purge")
    assert entry.actor_username == "system"
    assert entry.changes["deleted"] == [None, 2]
    assert entry.changes["cutoff"][1].startswith("2022-10-04")


def test_the_longest_retention_among_active_diseases_applies(venue, resident):
    now = dt.datetime(2022, 11, 1, 3, 15, tzinfo=dt.UTC)
    measles = Disease.objects.get(code="measles")
    base = DiseaseRules.objects.filter(disease=measles).order_by("-version")[0]
    base.pk = None
    base.version = 2
    base.effective_from = dt.date(2022, 10, 1)
    base.checkin_retention_days = 45
    base.save()
    kept = make_checkin(venue, resident, now - dt.timedelta(days=40))
    assert checkin_purge_expired(now=now) == 0
    assert CheckIn.objects.filter(pk=kept.pk).exists()
    # A disease no longer active does not hold data back.
    measles.active = False
    measles.save(update_fields=["active"])
    assert checkin_purge_expired(now=now) == 1
