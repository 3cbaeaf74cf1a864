"""Field encryption and keyed lookup hashes for personal identifiers.

ID numbers and phone numbers are stored encrypted (MultiFernet: the first key of
``FANGKONG_FIELD_KEYS`` encrypts, every key decrypts, so keys can be rotated) and
found again through an HMAC of their normalised value (``FANGKONG_LOOKUP_KEY``).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
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


def sealed_phone(number: str) -> dict[str, str]:
    """A phone number as stored: encrypted, its lookup hash and its mask (the
    three ``phone_*`` columns, as people's). Empty for no number."""
    if not number:
        return {"phone_encrypted": "", "phone_hash": "", "phone_masked": ""}
    return {
        "phone_encrypted": encrypt(number),
        "phone_hash": lookup_hash("phone", number),
        "phone_masked": mask(number, 3, 4),
    }


# --- Encrypted columns of every app (for key rotation) -----------------------------


@dataclass(frozen=True)
class EncryptedColumn:
    """An encrypted column and the lookup hash that goes with it."""

    model: str  # "app_label.ModelName"
    encrypted: str
    hash_field: str
    kind: str  # the ``lookup_hash`` namespace


ENCRYPTED_COLUMNS: list[EncryptedColumn] = [
    EncryptedColumn("core.Person", "doc_number_encrypted", "doc_hash", "doc"),
    EncryptedColumn("core.Person", "phone_encrypted", "phone_hash", "phone"),
]


def register_encrypted(model: str, encrypted: str, hash_field: str, kind: str) -> None:
    """An app's encrypted column, re-encrypted by ``fangkong rotate_keys`` (call it
    in the app's ``AppConfig.ready``; core names no domain app)."""
    column = EncryptedColumn(model, encrypted, hash_field, kind)
    if column not in ENCRYPTED_COLUMNS:
        ENCRYPTED_COLUMNS.append(column)
