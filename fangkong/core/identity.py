"""Validation and normalisation of identity documents and phone numbers."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import phonenumbers
from django.utils.translation import gettext as _
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from fangkong.core.errors import ValidationFailed

DOC_TYPES = ("prc_id", "passport", "other", "line_list")
_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}$")
_OTHER = re.compile(r"^[A-Z0-9\-]{3,32}$")


@dataclass(frozen=True)
class Document:
    doc_type: str
    number: str
    birth_date: dt.date | None = None
    sex: str | None = None  # "M" / "F" derived from a PRC ID


def normalise_document(doc_type: str, number: str, *, field: str = "doc_number") -> Document:
    """Validate a document number; for PRC IDs derive birth date and sex.

    Raises ValidationFailed naming ``field`` with a translated message.
    """
    if doc_type not in DOC_TYPES:
        raise ValidationFailed(
            fields={"doc_type": _("Unknown document type “%(value)s”.") % {"value": doc_type}}
        )
    raw = (number or "").strip().upper().replace(" ", "")
    if not raw:
        raise ValidationFailed(fields={field: _("A document number is required.")})
    if doc_type == "prc_id":
        return _prc_id(raw, field)
    pattern = _PASSPORT if doc_type == "passport" else _OTHER
    if not pattern.match(raw):
        raise ValidationFailed(
            fields={
                field: _("Use letters and digits only (%(min)s to %(max)s characters).")
                % {
                    "min": 5 if doc_type == "passport" else 3,
                    "max": 20 if doc_type == "passport" else 32,
                }
            }
        )
    return Document(doc_type, raw)


def _prc_id(raw: str, field: str) -> Document:
    """Check a resident ID: length, format, check digit, birth date, region code.

    The region must be a code known in any period: people keep the ID issued
    under a code that was later renamed or merged, and people born before a
    district existed may still hold its code, so the era is not checked.
    """
    number = ric.compact(raw)
    if len(number) != 18:
        msg = _("A resident ID number has 18 characters.")
    elif not (number[:17].isdigit() and (number[17].isdigit() or number[17] == "X")):
        msg = _("A resident ID number has 17 digits followed by a digit or X.")
    elif ric.calc_check_digit(number) != number[17]:
        msg = _("The check digit of this resident ID number is wrong; please re-type it.")
    else:
        try:
            birth = ric.get_birth_date(number)
        except ValidationError:
            birth = None
        if birth is None:
            msg = _("This resident ID number has an impossible birth date.")
        elif birth > dt.date.today():  # noqa: DTZ011 - a calendar date, not an instant
            msg = _("This resident ID number has a birth date in the future.")
        elif not _known_region(number[:6]):
            msg = _("This resident ID number starts with an unknown region code (%(code)s).") % {
                "code": number[:6]
            }
        else:
            sex = "M" if int(number[16]) % 2 == 1 else "F"
            return Document("prc_id", number, birth, sex)
    raise ValidationFailed(fields={field: msg})


@lru_cache(maxsize=8192)
def _known_region(code: str) -> bool:
    return bool(_region_db().info(code)[-1][1])


@lru_cache(maxsize=1)
def _region_db() -> Any:
    return numdb.get("cn/loc")


def normalise_phone(value: str, *, region: str = "CN", field: str = "phone") -> str:
    """Return the number in E.164 (``+8613812345678``) or raise ValidationFailed."""
    raw = (value or "").strip()
    if not raw:
        return ""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValidationFailed(
            fields={field: _("“%(value)s” is not a phone number.") % {"value": raw}}
        ) from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationFailed(
            fields={field: _("“%(value)s” is not a valid phone number.") % {"value": raw}}
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def make_prc_id(region: str, birth: dt.date, sequence: int) -> str:
    """Build a valid 18-character resident ID (used by the synthetic city and tests).

    ``sequence`` is 0–999; its parity decides the sex (odd = male).
    """
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")  # expects a placeholder check digit
