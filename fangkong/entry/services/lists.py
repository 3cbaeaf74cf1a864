"""Risk-area lists published by other regions: imported (CSV or JSON) as a new
version, published (the region's previous version withdrawn), withdrawn.

A file is all or nothing: any bad row refuses the whole file with each row's
number, column and message (``core.tabular``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.tabular import (
    FileRejected,
    ImportRejected,
    RowError,
    decode_text,
    read_table,
)
from fangkong.core.types import Actor, acting_user
from fangkong.entry.models import RiskArea, RiskLevel, RiskList
from fangkong.entry.places import known_code, normalise_code, squash
from fangkong.entry.services.common import audit

COLUMNS = ("admin_code", "province", "city", "district", "street", "place", "level")
LEVEL_WORDS = {
    "high": "high",
    "高": "high",
    "高风险": "high",
    "高风险区": "high",
    "medium": "medium",
    "中": "medium",
    "中风险": "medium",
    "中风险区": "medium",
    "low": "low",
    "低": "low",
    "低风险": "low",
    "低风险区": "low",
}
MAX_AREAS = 20_000


@dataclass
class ListMeta:
    region_code: str
    region_name: str
    source: str
    published_at: dt.datetime
    effective_from: dt.date
    effective_to: dt.date | None = None


def _meta_clean(meta: ListMeta) -> str:
    errors: dict[str, str] = {}
    try:
        region = normalise_code(meta.region_code)
    except ValueError:
        region = ""
    if not region or not known_code(region):
        errors["region_code"] = _("Give the administrative code of the publishing region.")
    if not meta.region_name.strip():
        errors["region_name"] = _("Give the name of the publishing region.")
    if not meta.source.strip():
        errors["source"] = _("Say where the list was published.")
    if meta.published_at > timezone.now():
        errors["published_at"] = _("The publication time is in the future.")
    if meta.effective_to is not None and meta.effective_to < meta.effective_from:
        errors["effective_to"] = _("The list ends before it starts.")
    if errors:
        raise ValidationFailed(fields=errors)
    return region


def _records(data: bytes, filename: str) -> list[tuple[int, dict[str, str]]]:
    text = decode_text(data)
    if filename.lower().endswith(".json") or text.lstrip().startswith(("[", "{")):
        try:
            parsed = json.loads(text)
        except ValueError:
            raise FileRejected(_("The file is not valid JSON.")) from None
        items = parsed.get("areas") if isinstance(parsed, dict) else parsed
        if not isinstance(items, list) or not items:
            raise FileRejected(_("The JSON file holds no list of areas."))
        out = []
        for i, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                raise FileRejected(_("Area %(n)s is not a JSON object.") % {"n": i})
            rec = {k: str(item.get(k) or "").strip() for k in COLUMNS}
            rec["admin_code"] = rec["admin_code"] or str(item.get("code") or "").strip()
            out.append((i, rec))
        return out
    table = read_table(text)
    missing = [c for c in ("level",) if c not in table.columns]
    if missing:
        raise FileRejected(_("The column “level” is missing."))
    code = "admin_code" if "admin_code" in table.columns else "code"
    return [
        (row, {c: table.cell(cells, code if c == "admin_code" else c) for c in COLUMNS})
        for row, cells in table.rows
    ]


def risk_list_import(*, actor: Actor, meta: ListMeta, data: bytes, filename: str = "") -> RiskList:
    """A new version (draft) of the region's list from a CSV or JSON file."""
    permissions.require(actor, "entry.lists")
    region = _meta_clean(meta)
    records = _records(data, filename)
    if len(records) > MAX_AREAS:
        raise FileRejected(_("A list has at most %(n)s areas.") % {"n": MAX_AREAS})
    errors: list[RowError] = []
    areas: list[RiskArea] = []
    seen: set[tuple[str, str]] = set()
    for row, rec in records:
        level = LEVEL_WORDS.get(rec["level"].lower())
        if level is None:
            errors.append(RowError(row, "level", _("The level is high, medium or low.")))
        code = ""
        try:
            code = normalise_code(rec["admin_code"])
        except ValueError:
            errors.append(
                RowError(row, "admin_code", _("An administrative code has 2 to 12 digits."))
            )
        if code and not known_code(code):
            errors.append(
                RowError(row, "admin_code", _("No place has the code %(code)s.") % {"code": code})
            )
        key = squash("".join(rec[c] for c in ("province", "city", "district", "street", "place")))
        if not code and not key:
            errors.append(RowError(row, "place", _("Give the area's code or its names.")))
        if (code, key) in seen:
            errors.append(RowError(row, "place", _("This area is listed twice in the file.")))
        seen.add((code, key))
        areas.append(
            RiskArea(
                admin_code=code,
                province=rec["province"][:60],
                city=rec["city"][:60],
                district=rec["district"][:60],
                street=rec["street"][:100],
                place=rec["place"][:200],
                level=level or RiskLevel.LOW,
                name_key=key[:400],
            )
        )
    if errors:
        raise ImportRejected(errors)
    with transaction.atomic():
        last = RiskList.objects.select_for_update().filter(region_code=region)
        version = (last.aggregate(v=Max("version"))["v"] or 0) + 1
        risk_list = RiskList.objects.create(
            region_code=region,
            region_name=meta.region_name.strip()[:100],
            version=version,
            source=meta.source.strip()[:300],
            published_at=meta.published_at,
            effective_from=meta.effective_from,
            effective_to=meta.effective_to,
            created_by=acting_user(actor),
        )
        for area in areas:
            area.risk_list = risk_list
        RiskArea.objects.bulk_create(areas, batch_size=2000)
        audit(actor, risk_list, "entry.list_import", version=version, areas=len(areas))
    return risk_list


def _access_list(actor: Actor, list_id: int) -> RiskList:
    risk_list = RiskList.objects.select_for_update().filter(pk=list_id).first()
    if risk_list is None:
        raise NotFound()
    return risk_list


def risk_list_publish(*, actor: Actor, list_id: int) -> dict[str, Any]:
    """Put a draft version in force; the region's version in force before is
    withdrawn. Recent arrivals are classified again against the lists now in force."""
    from fangkong.entry.services.classify import arrivals_reclassify

    permissions.require(actor, "entry.lists")
    with transaction.atomic():
        risk_list = _access_list(actor, list_id)
        if risk_list.state != RiskList.State.DRAFT:
            raise Conflict(_("Only a draft list can be put in force."), code="not_draft")
        withdrawn = RiskList.objects.filter(
            region_code=risk_list.region_code, state=RiskList.State.PUBLISHED
        ).update(state=RiskList.State.WITHDRAWN, updated_at=timezone.now())
        risk_list.state = RiskList.State.PUBLISHED
        risk_list.save(update_fields=["state", "updated_at"])
        audit(actor, risk_list, "entry.list_publish", version=risk_list.version)
        result = arrivals_reclassify(actor=actor)
    return {"list": risk_list, "withdrawn": withdrawn, **result}


def risk_list_withdraw(*, actor: Actor, list_id: int) -> dict[str, Any]:
    from fangkong.entry.services.classify import arrivals_reclassify

    permissions.require(actor, "entry.lists")
    with transaction.atomic():
        risk_list = _access_list(actor, list_id)
        if risk_list.state != RiskList.State.PUBLISHED:
            raise Conflict(_("Only a list in force can be withdrawn."), code="not_published")
        risk_list.state = RiskList.State.WITHDRAWN
        risk_list.save(update_fields=["state", "updated_at"])
        audit(actor, risk_list, "entry.list_withdraw", version=risk_list.version)
        result = arrivals_reclassify(actor=actor)
    return {"list": risk_list, **result}
