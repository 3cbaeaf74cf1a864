"""Field encryption and keyed lookup hashes for personal identifiers.

ID numbers and phone numbers are stored encrypted (MultiFernet: the first key of
``FANGKONG_FIELD_KEYS`` encrypts, every key decrypts, so keys can be rotated) and
found again through an HMAC of their normalised value (``FANGKONG_LOOKUP_KEY``).
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = settings.FANGKONG_FIELD_KEYS
    if not keys:
        raise ImproperlyConfigured("FANGKONG_FIELD_KEYS holds no key.")
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FANGKONG_FIELD_KEYS must be comma-separated Fernet keys "
            "(32 url-safe base64-encoded bytes each; see README)."
        ) from exc


@lru_cache(maxsize=1)
def _lookup_key() -> bytes:
    return str(settings.FANGKONG_LOOKUP_KEY).encode()


def reset_key_cache() -> None:
    """Forget cached keys (after settings change in tests or key rotation)."""
    _fernet.cache_clear()
    _lookup_key.cache_clear()


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored field could not be decrypted with any key in FANGKONG_FIELD_KEYS."
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt ``token`` with the newest key."""
    return _fernet().rotate(token.encode()).decode()


def lookup_hash(kind: str, value: str) -> str:
    """Keyed hash of a normalised identifier, namespaced by ``kind``."""
    msg = f"{kind}:{value}".encode()
    return hmac.new(_lookup_key(), msg, hashlib.sha256).hexdigest()


def mask(value: str, keep_start: int = 4, keep_end: int = 4) -> str:
    """``14010519900101123X`` -> ``1401**********123X``."""
    if len(value) <= keep_start + keep_end:
        return value[:1] + "*" * max(len(value) - 1, 0)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]
