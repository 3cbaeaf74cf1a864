"""Four-ones team members' phone numbers (issue 22): stored encrypted, found by
keyed hash, shown masked on the page and in the API; the migration keeps every
number that was stored in clear."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection

from fangkong.conftest import client_for, migrated_back
from fangkong.core import crypto
from fangkong.core.errors import ValidationFailed
from fangkong.zones import services
from fangkong.zones.models import TeamMember
from fangkong.zones.tests.zonekit import declare


def row_values(member_id: int) -> str:
    """Every column of the member's row, as the database holds it."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT * FROM {TeamMember._meta.db_table} WHERE id = %s", [member_id])
        return json.dumps([str(v) for v in cur.fetchone()])


@pytest.mark.django_db
def test_a_members_number_is_encrypted_hashed_and_shown_masked(
    city: Any, xiaodian_officer: Any, commander: Any
) -> None:
    zone = declare(xiaodian_officer, commander, [city.xd_building])
    officer = client_for(xiaodian_officer)
    r = officer.post(
        f"/api/v1/zones/{zone.pk}/team",
        {"role": "leader", "name": "王组长", "phone": "138 0013 8000", "shift": "白班"},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    assert r.json()["phone"] == "+86*******8000"
    member = TeamMember.objects.get(pk=r.json()["id"])
    assert "13800138000" not in row_values(member.pk) and "0013" not in row_values(member.pk)
    assert crypto.decrypt(member.phone_encrypted) == "+8613800138000"
    assert TeamMember.objects.filter(phone_hash=crypto.lookup_hash("phone", "+8613800138000"))
    page = officer.get(f"/zones/{zone.pk}/").content.decode()
    assert "+86*******8000" in page and "13800138000" not in page
    with pytest.raises(ValidationFailed) as exc:
        services.team_member_add(
            actor=xiaodian_officer, zone_id=zone.pk, role="medical", name="李", phone="abc"
        )
    assert "phone" in exc.value.fields


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_every_number_encrypted(browser_city: Any) -> None:
    # Going back to zones 0003 also unapplies the apps that depend on later zones
    # migrations (supplies); they come back with the rest.
    with migrated_back([("zones", "0003_english_zone_sms")]) as (old, forward):
        Zone = old.get_model("zones", "Zone")
        Level = old.get_model("zones", "ZoneLevel")
        Member = old.get_model("zones", "TeamMember")
        zone = Zone.objects.create(name="旧区", level=Level.objects.first(), scope_path="")
        typed = {
            "13800000001": "+8613800000001",
            "0351-1234567": "+863511234567",
            "分机 12": "分机 12",
        }
        ids = {
            raw: Member.objects.create(zone=zone, role="leader", name="x", phone=raw).pk
            for raw in typed
        }
        blank = Member.objects.create(zone=zone, role="medical", name="y", phone="").pk
        forward()
        for raw, kept in typed.items():
            member = TeamMember.objects.get(pk=ids[raw])
            assert crypto.decrypt(member.phone_encrypted) == kept
            assert member.phone_hash == crypto.lookup_hash("phone", kept)
            assert member.phone_masked == crypto.mask(kept, 3, 4)
        assert TeamMember.objects.get(pk=blank).phone_encrypted == ""


@pytest.mark.django_db
def test_key_rotation_re_encrypts_the_team_numbers_too(
    city: Any, xiaodian_officer: Any, commander: Any, settings: Any
) -> None:
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    zone = declare(xiaodian_officer, commander, [city.xd_building])
    member = services.team_member_add(
        actor=xiaodian_officer, zone_id=zone.pk, role="leader", name="王", phone="13800000001"
    )
    old_key = settings.FANGKONG_FIELD_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.FANGKONG_FIELD_KEYS = [new_key, old_key]
    crypto.reset_key_cache()
    call_command("rotate_keys", verbosity=0)
    settings.FANGKONG_FIELD_KEYS = [new_key]  # the old key is retired
    crypto.reset_key_cache()
    member.refresh_from_db()
    assert crypto.decrypt(member.phone_encrypted) == "+8613800000001"
    settings.FANGKONG_LOOKUP_KEY = "another-lookup-key"
    crypto.reset_key_cache()
    call_command("rotate_keys", "--rehash", verbosity=0)
    member.refresh_from_db()
    assert member.phone_hash == crypto.lookup_hash("phone", "+8613800000001")
