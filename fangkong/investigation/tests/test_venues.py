import pytest
from django.utils import translation

from fangkong.core import signing
from fangkong.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from fangkong.core.models import AuditEntry
from fangkong.investigation.models import Venue
from fangkong.investigation.services.venues import (
    venue_code_issue,
    venue_code_qr_svg,
    venue_code_reissue,
    venue_code_revoke,
    venue_code_token,
    venue_create,
    venue_from_token,
    venue_update,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def venue(city, xiaodian_officer):
    return venue_create(
        actor=xiaodian_officer,
        name="坞城菜市场",
        category="market",
        building_id=city.xd_building.pk,
        capacity=300,
    )


def test_it_creates_a_venue_in_a_building_of_the_officers_area(city, venue):
    assert venue.scope_path == city.xd_building.path
    assert venue.capacity == 300
    entry = AuditEntry.objects.get(action="venue.create")
    assert entry.object_id == str(venue.pk)
    assert entry.scope_path == city.xd_building.path


def test_it_refuses_a_building_of_another_district(city, xiaodian_officer):
    with pytest.raises(ValidationFailed) as exc:
        venue_create(
            actor=xiaodian_officer, name="x", category="shop", building_id=city.yz_building.pk
        )
    assert "building_id" in exc.value.fields
    assert not Venue.objects.exists()


def test_it_refuses_a_venue_placed_on_a_grid_rather_than_a_building(city, xiaodian_officer):
    with pytest.raises(ValidationFailed) as exc:
        venue_create(actor=xiaodian_officer, name="x", category="shop", building_id=city.xd_grid.pk)
    assert "building_id" in exc.value.fields


def test_it_refuses_an_unknown_category_and_an_empty_name(city, xiaodian_officer):
    with pytest.raises(ValidationFailed) as exc:
        venue_create(
            actor=xiaodian_officer, name=" ", category="casino", building_id=city.xd_building.pk
        )
    assert set(exc.value.fields) == {"name", "category"}


def test_staff_without_venue_manage_cannot_create_venues(city, investigator):
    with pytest.raises(PermissionDenied):
        venue_create(actor=investigator, name="x", category="shop", building_id=city.xd_building.pk)


def test_it_updates_a_venue_and_records_the_change(city, venue, xiaodian_officer):
    venue_update(
        actor=xiaodian_officer,
        venue_id=venue.pk,
        name="坞城新菜市场",
        building_id=city.xd_building2.pk,
        reason="搬迁",
    )
    venue.refresh_from_db()
    assert venue.name == "坞城新菜市场"
    assert venue.scope_path == city.xd_building2.path
    entry = AuditEntry.objects.get(action="venue.update")
    assert entry.changes["name"] == ["坞城菜市场", "坞城新菜市场"]
    assert entry.reason == "搬迁"


def test_a_venue_of_another_district_does_not_exist_for_an_officer(venue, yingze_officer):
    with pytest.raises(NotFound):
        venue_update(actor=yingze_officer, venue_id=venue.pk, name="x")


def test_an_issued_code_scans_to_its_venue(venue, xiaodian_officer):
    code, token = venue_code_issue(actor=xiaodian_officer, venue_id=venue.pk)
    assert token.startswith("v.")
    scanned = venue_from_token(token)
    assert (scanned.venue_id, scanned.serial) == (venue.pk, code.serial)
    assert scanned.name == venue.name
    assert venue_code_token(code) == token  # printing again gives the same QR
    assert AuditEntry.objects.filter(action="venue_code.issue").count() == 1


def test_a_revoked_code_is_refused_and_its_replacement_accepted(venue, xiaodian_officer):
    code, old_token = venue_code_issue(actor=xiaodian_officer, venue_id=venue.pk)
    new_code, new_token = venue_code_reissue(
        actor=xiaodian_officer, code_id=code.pk, reason="二维码被涂改"
    )
    assert new_code.serial == code.serial + 1
    with pytest.raises(signing.BadToken) as exc:
        venue_from_token(old_token)
    assert "revoked" in exc.value.fields["venue_token"]
    assert venue_from_token(new_token).serial == new_code.serial
    entry = AuditEntry.objects.get(action="venue_code.revoke")
    assert entry.reason == "二维码被涂改"


def test_revoking_needs_a_reason_and_happens_once(venue, xiaodian_officer):
    code, _token = venue_code_issue(actor=xiaodian_officer, venue_id=venue.pk)
    with pytest.raises(ValidationFailed):
        venue_code_revoke(actor=xiaodian_officer, code_id=code.pk, reason=" ")
    venue_code_revoke(actor=xiaodian_officer, code_id=code.pk, reason="丢失")
    with pytest.raises(Conflict):
        venue_code_revoke(actor=xiaodian_officer, code_id=code.pk, reason="again")


def test_forged_and_foreign_codes_are_refused(venue, xiaodian_officer):
    _code, token = venue_code_issue(actor=xiaodian_officer, venue_id=venue.pk)
    forged = signing.sign("v", {"v": venue.pk, "s": 99})  # a serial never issued
    personal = signing.person_token(1)
    for bad in (forged, personal, token[:-3] + "abc", "hello"):
        with pytest.raises(signing.BadToken):
            venue_from_token(bad)


def test_a_code_signed_with_a_retired_key_is_refused(settings, venue, xiaodian_officer):
    settings.FANGKONG_SIGNING_KEYS = {1: "old"}
    _code, token = venue_code_issue(actor=xiaodian_officer, venue_id=venue.pk)
    settings.FANGKONG_SIGNING_KEYS = {2: "new"}
    with pytest.raises(signing.BadToken) as exc:
        venue_from_token(token)
    assert "retired" in exc.value.fields["venue_token"]


def test_a_code_cannot_be_reprinted_after_key_rotation_but_can_be_reissued(
    settings, venue, xiaodian_officer
):
    settings.FANGKONG_SIGNING_KEYS = {1: "old"}
    code, _token = venue_code_issue(actor=xiaodian_officer, venue_id=venue.pk)
    settings.FANGKONG_SIGNING_KEYS = {1: "old", 2: "new"}
    with pytest.raises(Conflict):
        venue_code_token(code)
    new_code, token = venue_code_reissue(actor=xiaodian_officer, code_id=code.pk, reason="换钥")
    assert new_code.key_version == 2
    assert venue_from_token(token).serial == new_code.serial


def test_the_qr_image_is_an_svg():
    svg = venue_code_qr_svg("v.1.eyJ2IjoxfQ.abc")
    assert svg.lstrip().startswith("<?xml") or svg.lstrip().startswith("<svg")
    assert "<path" in svg
