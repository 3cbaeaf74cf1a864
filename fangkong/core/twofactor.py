"""TOTP second factor for staff: enrol a device, confirm it with a code.

Writes in the service style (keyword-only, one transaction, an audit row).
"""

from __future__ import annotations

import qrcode
import qrcode.image.svg
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.types import Actor

DEVICE_NAME = "Fangkong"


def _scope(actor: Actor) -> str:
    profile = permissions.staff_profile(actor)
    return str(profile.jurisdiction.path) if profile else ""


def totp_device_pending(*, actor: Actor) -> TOTPDevice:
    """The user's unconfirmed device, created on first use (not audited: no effect yet)."""
    if not getattr(actor, "is_authenticated", False):
        raise NotFound()
    if user_has_device(actor, confirmed=True):
        raise Conflict(_("Two-factor sign-in is already on for this account."))
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=actor, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=actor, name=DEVICE_NAME, confirmed=False)
    return device


def totp_device_confirm(*, actor: Actor, token: str) -> TOTPDevice:
    """Turn two-factor sign-in on once the user proves their app shows the right code."""
    token = (token or "").strip().replace(" ", "")
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=actor, confirmed=False).first()
        if device is None:
            raise NotFound()
        if not token.isdigit() or not device.verify_token(token):
            raise ValidationFailed(
                fields={"token": _("This code is not right. Check the time on your phone.")}
            )
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_record(
            actor=actor,
            action="otp.enrol",
            obj=device,
            scope_path=_scope(actor),
            changes={"confirmed": [False, True]},
        )
    return device


def qr_svg(data: str) -> str:
    """An inline SVG QR code for ``data`` (an otpauth:// URI)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return str(image.to_string(encoding="unicode"))
