"""Personal status tokens: the QR payload a resident shows, rotating daily.

A token is a ``fangkong.core.signing`` token of kind ``s`` whose payload holds a
random nonce and the person id hidden under a keyed pad (HMAC of the nonce), so
the token reveals nothing by itself: not the id, not the name, not the level.
It expires at the end of the day (plus a short grace for midnight scans).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import secrets

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import signing
from fangkong.core.signing import BadToken

KIND = "s"
GRACE = dt.timedelta(hours=2)


@functools.lru_cache(maxsize=16)
def _pad_key(version: int, raw: str) -> bytes:
    return hashlib.sha256(f"fangkong-status-pad:{version}:{raw}".encode()).digest()


def _pad(version: int, nonce: str) -> int:
    raw = settings.FANGKONG_SIGNING_KEYS.get(version)
    if raw is None:
        raise BadToken(fields={"token": _("This code was signed with a retired key.")})
    key = _pad_key(version, str(raw))
    return int.from_bytes(hmac.new(key, nonce.encode(), hashlib.sha256).digest()[:8], "big")


def token_expiry(now: dt.datetime | None = None) -> dt.datetime:
    local = timezone.localtime(now or timezone.now())
    midnight = dt.datetime.combine(
        local.date() + dt.timedelta(days=1), dt.time.min, tzinfo=local.tzinfo
    )
    return midnight + GRACE


def status_token(person_id: int, *, now: dt.datetime | None = None) -> str:
    """Today's status token of a person (a fresh nonce each call)."""
    now = now or timezone.now()
    nonce = base64.urlsafe_b64encode(secrets.token_bytes(6)).decode()
    version = signing.current_key_version()
    hidden = person_id ^ _pad(version, nonce)
    ttl = int((token_expiry(now) - now).total_seconds())
    return signing.sign(KIND, {"n": nonce, "x": hidden}, ttl_seconds=ttl)


def person_id_from_status_token(token: str, *, field: str = "token") -> int:
    """The person of a valid token; ``BadToken`` for forged, tampered, expired ones."""
    payload, version = signing.verify(KIND, token, field=field)
    nonce, hidden = payload.get("n"), payload.get("x")
    if not isinstance(nonce, str) or not isinstance(hidden, int) or "exp" not in payload:
        raise BadToken(fields={field: _("This code is damaged.")})
    return hidden ^ _pad(version, nonce)
