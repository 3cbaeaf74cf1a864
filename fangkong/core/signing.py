"""Signed, versioned QR payloads (venue codes, personal tokens).

A token is ``<kind>.<key version>.<payload>.<signature>``: the payload is compact
JSON in url-safe base64, the signature an HMAC-SHA256 (truncated to 128 bits)
over everything before it, with the key of that version from
``FANGKONG_SIGNING_KEYS``. Forged, tampered, expired or unknown-version tokens
raise ``BadToken`` with a translated message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core.errors import ValidationFailed

_VERSION = re.compile(r"0|[1-9][0-9]*")


class BadToken(ValidationFailed):
    code = "bad_token"


_KIND_MESSAGES = {
    "v": gettext_lazy("This is not a venue code."),
    "p": gettext_lazy("This is not a personal code."),
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(version: int) -> bytes | None:
    raw = settings.FANGKONG_SIGNING_KEYS.get(version)
    if raw is None:
        return None
    return hashlib.sha256(f"fangkong-signing:{version}:{raw}".encode()).digest()


def current_key_version() -> int:
    return max(settings.FANGKONG_SIGNING_KEYS)


def sign(kind: str, payload: dict[str, Any], *, ttl_seconds: int | None = None) -> str:
    version = current_key_version()
    body = dict(payload)
    if ttl_seconds is not None:
        body["exp"] = int(time.time()) + ttl_seconds
    encoded = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    head = f"{kind}.{version}.{encoded}"
    key = _key(version)
    assert key is not None
    sig = hmac.new(key, head.encode(), hashlib.sha256).digest()[:16]
    return f"{head}.{_b64(sig)}"


def verify(kind: str, token: str, *, field: str = "token") -> tuple[dict[str, Any], int]:
    """Return (payload, key version) of a valid token of ``kind``."""
    parts = (token or "").strip().split(".")
    if len(parts) != 4 or parts[0] != kind:
        raise BadToken(fields={field: _KIND_MESSAGES.get(kind, _("This is not a valid code."))})
    _kind, version_text, encoded, sig_text = parts
    # Only the form ``sign`` writes: the version in ASCII digits without sign,
    # space or leading zero, the signature in unpadded url-safe base64. Python's
    # int() and base64 accept other spellings of the same values ("01", "+1",
    # " 1", Arabic-Indic digits), which made one token many.
    if not _VERSION.fullmatch(version_text):
        raise BadToken(fields={field: _("This code is damaged.")})
    version = int(version_text)
    try:
        given = _unb64(sig_text)
    except ValueError:
        raise BadToken(fields={field: _("This code is damaged.")}) from None
    if _b64(given) != sig_text:
        raise BadToken(fields={field: _("This code is damaged.")})
    key = _key(version)
    if key is None:
        raise BadToken(
            fields={field: _("This code was signed with a retired key; ask for a new one.")}
        )
    expected = hmac.new(key, f"{kind}.{version}.{encoded}".encode(), hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(expected, given):
        raise BadToken(fields={field: _("This code is forged or damaged.")})
    try:
        payload = json.loads(_unb64(encoded))
    except ValueError:
        raise BadToken(fields={field: _("This code is damaged.")}) from None
    if not isinstance(payload, dict):
        raise BadToken(fields={field: _("This code is damaged.")})
    exp = payload.get("exp")
    if exp is not None and int(exp) < time.time():
        raise BadToken(fields={field: _("This code has expired; show a fresh one.")})
    return payload, version


# --- Personal tokens -------------------------------------------------------------

PERSON_TOKEN_KIND = "p"  # noqa: S105 - a prefix, not a secret
PERSON_TOKEN_TTL = 24 * 3600


def person_token(person_id: int, *, ttl_seconds: int = PERSON_TOKEN_TTL) -> str:
    """A personal QR token (shown on the resident's phone, scanned at venues and sites)."""
    return sign(PERSON_TOKEN_KIND, {"p": person_id}, ttl_seconds=ttl_seconds)


def person_id_from_token(token: str, *, field: str = "person_token") -> int:
    payload, _version = verify(PERSON_TOKEN_KIND, token, field=field)
    pid = payload.get("p")
    if not isinstance(pid, int):
        raise BadToken(fields={field: _("This code is damaged.")})
    return pid
