"""Venues and their signed venue codes (场所码).

A venue code is a QR payload ``v.<key version>.<{"v": venue id, "s": serial}>.<HMAC>``
signed by the server (``fangkong.core.signing``). The code row records the key
version it was signed with; revoking it refuses every scan of the printed code
from then on. Reissuing a code is revoke + issue: a new serial, a new payload.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions, signing
from fangkong.core.audit import audit_record, diff
from fangkong.core.errors import Conflict, ValidationFailed
from fangkong.core.models import Jurisdiction
from fangkong.core.types import Actor, acting_user
from fangkong.investigation.models import Venue, VenueCode
from fangkong.investigation.selectors.venues import access_venue_by_id, access_venue_code_by_id

VENUE_TOKEN_KIND = "v"  # noqa: S105 - a token prefix, not a secret
_CODE = VenueCode._meta.db_table
_VENUE = Venue._meta.db_table

_EDITABLE = ("name", "name_en", "category", "address", "capacity", "building_id")


def _building_in_scope(
    actor: Actor, building_id: Any, *, field: str = "building_id"
) -> Jurisdiction:
    building = Jurisdiction.objects.filter(pk=building_id).first() if building_id else None
    if building is None or not permissions.in_scope(actor, building.path):
        raise ValidationFailed(fields={field: _("Unknown building.")})
    if building.level != Jurisdiction.Level.BUILDING:
        raise ValidationFailed(fields={field: _("A venue must be placed in a building.")})
    return building


def _clean_venue(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out = dict(data)
    if "name" in out:
        out["name"] = (out["name"] or "").strip()
        if not out["name"]:
            errors["name"] = _("A name is required.")
    if "name_en" in out:
        out["name_en"] = (out["name_en"] or "").strip()
    if "address" in out:
        out["address"] = (out["address"] or "").strip()
    if "category" in out and out["category"] not in Venue.Category.values:
        errors["category"] = _("Unknown venue category “%(value)s”.") % {"value": out["category"]}
    if "capacity" in out:
        if out["capacity"] is None or int(out["capacity"]) < 0:
            errors["capacity"] = _("The capacity cannot be negative.")
    if errors:
        raise ValidationFailed(fields=errors)
    return out


def _snapshot(venue: Venue) -> dict[str, Any]:
    return {k: getattr(venue, k) for k in _EDITABLE}


def venue_create(
    *,
    actor: Actor,
    name: str,
    category: str,
    building_id: int,
    name_en: str = "",
    address: str = "",
    capacity: int = 0,
) -> Venue:
    permissions.require(actor, "venue.manage")
    data = _clean_venue(
        {
            "name": name,
            "name_en": name_en,
            "category": category,
            "address": address,
            "capacity": capacity,
        }
    )
    building = _building_in_scope(actor, building_id)
    with transaction.atomic():
        venue = Venue.objects.create(building=building, scope_path=building.path, **data)
        audit_record(
            actor=actor,
            action="venue.create",
            obj=venue,
            scope_path=venue.scope_path,
            changes=diff({}, _snapshot(venue)),
        )
    return venue


def venue_update(*, actor: Actor, venue_id: int, reason: str = "", **changes: Any) -> Venue:
    """Change some of a venue's details (only the keys given)."""
    permissions.require(actor, "venue.manage")
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise ValidationFailed(fields={k: _("This field cannot be changed.") for k in unknown})
    data = _clean_venue(changes)
    with transaction.atomic():
        venue = access_venue_by_id(actor, venue_id, for_update=True)
        before = _snapshot(venue)
        fields = [k for k in data if k != "building_id"]
        if "building_id" in data:
            building = _building_in_scope(actor, data["building_id"])
            venue.building = building
            venue.scope_path = building.path
            fields += ["building", "scope_path"]
        for key in fields:
            if key in data:
                setattr(venue, key, data[key])
        venue.save(update_fields=[*fields, "updated_at"])
        audit_record(
            actor=actor,
            action="venue.update",
            obj=venue,
            scope_path=venue.scope_path,
            changes=diff(before, _snapshot(venue)),
            reason=reason,
        )
    return venue


# --- Venue codes --------------------------------------------------------------


def venue_code_token(code: VenueCode) -> str:
    """The QR payload of a code (deterministic: the same code prints the same QR)."""
    if code.key_version != signing.current_key_version():
        raise Conflict(
            _("This code was signed with an older key; reissue it to print a new one."),
            code="key_rotated",
        )
    return signing.sign(VENUE_TOKEN_KIND, {"v": code.venue_id, "s": code.serial})


def venue_code_issue(*, actor: Actor, venue_id: int) -> tuple[VenueCode, str]:
    """Issue a new printed code for a venue; returns the code and its QR payload."""
    permissions.require(actor, "venue.manage")
    with transaction.atomic():
        venue = access_venue_by_id(actor, venue_id, for_update=True)
        last = VenueCode.objects.filter(venue=venue).aggregate(m=Max("serial"))["m"] or 0
        code = VenueCode.objects.create(
            venue=venue,
            serial=last + 1,
            key_version=signing.current_key_version(),
            issued_by=acting_user(actor),
        )
        token = venue_code_token(code)
        audit_record(
            actor=actor,
            action="venue_code.issue",
            obj=code,
            scope_path=venue.scope_path,
            changes={"venue": [None, venue.pk], "serial": [None, code.serial]},
        )
    return code, token


def venue_code_revoke(*, actor: Actor, code_id: int, reason: str) -> VenueCode:
    """Revoke a printed code: its scans are refused from now on."""
    permissions.require(actor, "venue.manage")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": _("Say why the code is revoked.")})
    with transaction.atomic():
        code = access_venue_code_by_id(actor, code_id, for_update=True)
        if code.revoked_at is not None:
            raise Conflict(_("This code is already revoked."), code="already_revoked")
        code.revoked_at = timezone.now()
        code.revoked_reason = reason[:300]
        code.save(update_fields=["revoked_at", "revoked_reason", "updated_at"])
        audit_record(
            actor=actor,
            action="venue_code.revoke",
            obj=code,
            scope_path=code.venue.scope_path,
            changes={"revoked_at": [None, code.revoked_at.isoformat()]},
            reason=reason,
        )
    return code


def venue_code_reissue(*, actor: Actor, code_id: int, reason: str) -> tuple[VenueCode, str]:
    """Revoke a printed code and issue its replacement, in one transaction."""
    with transaction.atomic():
        old = venue_code_revoke(actor=actor, code_id=code_id, reason=reason)
        return venue_code_issue(actor=actor, venue_id=old.venue_id)


# --- Reading a scanned code (hot path: one indexed query) ------------------------


@dataclass(frozen=True)
class ScannedVenue:
    venue_id: int
    serial: int
    scope_path: str
    name: str


def venue_token_payload(token: str, *, field: str = "venue_token") -> tuple[int, int, int]:
    """(venue id, serial, key version) of a venue code whose signature is valid."""
    payload, version = signing.verify(VENUE_TOKEN_KIND, token, field=field)
    venue_id, serial = payload.get("v"), payload.get("s")
    if not isinstance(venue_id, int) or not isinstance(serial, int):
        raise signing.BadToken(fields={field: _("This code is damaged.")})
    return venue_id, serial, version


def scanned_venue_from_row(
    venue_id: int, serial: int, version: int, row: Any, *, field: str = "venue_token"
) -> ScannedVenue:
    """Check a code's row (key version, revoked at, venue scope, venue name)."""
    if row is None or row[0] is None or row[0] != version:
        raise signing.BadToken(fields={field: _("This venue code is not known.")})
    if row[1] is not None:
        raise signing.BadToken(
            fields={field: _("This venue code has been revoked; scan the venue's new code.")},
            code="revoked",
        )
    return ScannedVenue(venue_id=venue_id, serial=serial, scope_path=row[2], name=row[3])


CODE_ROW_SQL = (
    f"SELECT c.key_version, c.revoked_at, v.scope_path, v.name FROM {_CODE} c "  # noqa: S608
    f"JOIN {_VENUE} v ON v.id = c.venue_id WHERE c.venue_id = %s AND c.serial = %s"
)


def venue_from_token(token: str, *, field: str = "venue_token") -> ScannedVenue:
    """Verify a scanned venue code: signature, key version and revocation (one
    indexed query, joined to the venue for its name and scope).

    Forged, damaged, retired-key and revoked codes raise ``BadToken`` (400) with a
    translated message naming ``field``.
    """
    venue_id, serial, version = venue_token_payload(token, field=field)
    with connection.cursor() as cur:  # raw: this runs on every scan
        cur.execute(CODE_ROW_SQL, [venue_id, serial])
        row = cur.fetchone()
    return scanned_venue_from_row(venue_id, serial, version, row, field=field)


def venue_code_qr_svg(token: str) -> str:
    """The QR image of a code's payload, as SVG (for printing)."""
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(token, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=4)
    data = img.to_string(encoding="unicode")
    return data if isinstance(data, str) else data.decode()


def venues_bulk_load(rows: list[dict[str, Any]]) -> int:
    """Trusted bulk loader (the synthetic city, which audits its whole run once):
    rows of Venue fields with ``building`` a Jurisdiction; ``scope_path`` is
    taken from the building. No permission check, no per-row audit."""
    venues = [Venue(**row, scope_path=row["building"].path) for row in rows]
    Venue.objects.bulk_create(venues, batch_size=1000)
    return len(venues)
