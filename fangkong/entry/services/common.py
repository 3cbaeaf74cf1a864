"""Small helpers shared by the entry services."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core.audit import audit_record
from fangkong.core.errors import ValidationFailed
from fangkong.core.types import Actor
from fangkong.entry import places

# A mainland plate: province, letter, five characters (six for new-energy
# vehicles), an optional 挂 (trailer) or 学 (learner).
PLATE = re.compile(
    r"^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]"
    r"[A-HJ-NP-Z][A-HJ-NP-Z0-9]{4,5}[A-HJ-NP-Z0-9挂学]$"
)
MAX_STOPS = 60


def audit(
    actor: Actor, obj: Any, action: str, *, person_id: int | None = None, **changes: Any
) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=obj,
        scope_path=getattr(obj, "scope_path", ""),
        person_id=person_id,
        changes={k: [None, v] for k, v in changes.items()},
    )


def plate_clean(raw: str, *, field: str = "plate", required: bool = False) -> str:
    plate = re.sub(r"[\s·.\-]", "", raw or "").upper()
    if not plate:
        if required:
            raise ValidationFailed(fields={field: _("Give the plate number.")})
        return ""
    if not PLATE.match(plate):
        raise ValidationFailed(
            fields={
                field: _("“%(plate)s” is not a plate number (for example 晋A12345).")
                % {"plate": raw.strip()}
            }
        )
    return plate


def _date(value: Any, field: str, errors: dict[str, str]) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        errors[field] = _("Give a date (year-month-day).")
        return None


def itinerary_clean(raw: Any, *, arrival_on: dt.date) -> list[dict[str, str]]:
    """The itinerary as stored: ``[{"place", "code", "from", "to"}]`` in order.

    Refused: a stop without a place, an administrative code that names no
    division, dates in the future or after the arrival, a stop ending before it
    starts, stops out of order. Every bad field is reported at once."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list) or len(raw) > MAX_STOPS:
        raise ValidationFailed(
            fields={
                "itinerary": _("Give at most %(n)s places, each with its dates.") % {"n": MAX_STOPS}
            }
        )
    today = timezone.localdate()
    errors: dict[str, str] = {}
    out: list[dict[str, str]] = []
    previous: dt.date | None = None
    for i, stop in enumerate(raw):
        key = f"itinerary.{i}"
        if not isinstance(stop, dict):
            errors[key] = _("Each place of the itinerary needs a name and dates.")
            continue
        place = " ".join(str(stop.get("place") or "").split())[:200]
        if not place:
            errors[f"{key}.place"] = _("Say which place.")
        try:
            code = places.normalise_code(str(stop.get("code") or ""))
        except ValueError:
            code = ""
            errors[f"{key}.code"] = _("An administrative code has 2 to 12 digits.")
        if code and not places.known_code(code):
            errors[f"{key}.code"] = _("No place has the code %(code)s.") % {"code": code}
        start = _date(stop.get("from"), f"{key}.from", errors)
        end = _date(stop.get("to") or stop.get("from"), f"{key}.to", errors)
        if start and end:
            if end < start:
                errors[f"{key}.to"] = _("The stay ends before it starts.")
            if end > today or start > today:
                errors[f"{key}.to"] = _("The date is in the future.")
            elif end > arrival_on:
                errors[f"{key}.to"] = _("The date is after the arrival.")
            if previous is not None and start < previous:
                errors[f"{key}.from"] = _("The places are not in the order of the journey.")
            previous = start
            out.append(
                {"place": place, "code": code, "from": start.isoformat(), "to": end.isoformat()}
            )
    if errors:
        raise ValidationFailed(fields=errors)
    return out
