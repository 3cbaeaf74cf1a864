"""Helpers of the entry tests: a checkpoint, a published list, an itinerary."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from fangkong.core.identity import make_prc_id
from fangkong.entry import services
from fangkong.entry.models import Arrival, Checkpoint, RiskList

SHANGHAI_CSV = (
    "admin_code,province,city,district,street,place,level\n"
    "310104,上海市,上海市,徐汇区,,,高风险区\n"
    "310115,上海市,上海市,浦东新区,,,中风险区\n"
    ",上海市,上海市,闵行区,,七宝镇明珠小区,high\n"
)

_seq = {"n": 500}


def checkpoint(actor: Any, node: Any, *, name: str = "太原南站", kind: str = "rail") -> Checkpoint:
    return services.checkpoint_create(
        actor=actor,
        data=services.CheckpointData(
            name_zh=name, name_en="Taiyuan South", kind=kind, jurisdiction_id=node.pk, lanes=4
        ),
    )


def published_list(
    actor: Any, *, csv: str = SHANGHAI_CSV, effective_to: dt.date | None = None
) -> RiskList:
    today = timezone.localdate()
    risk_list = services.risk_list_import(
        actor=actor,
        meta=services.ListMeta(
            region_code="310000",
            region_name="上海市",
            source="上海发布",
            published_at=timezone.now() - dt.timedelta(hours=2),
            effective_from=today - dt.timedelta(days=10),
            effective_to=effective_to,
        ),
        data=csv.encode(),
        filename="shanghai.csv",
    )
    services.risk_list_publish(actor=actor, list_id=risk_list.pk)
    risk_list.refresh_from_db()
    return risk_list


def stay(place: str, code: str = "", *, days: int = 8, until: int = 0) -> list[dict[str, str]]:
    """One place from ``days`` days ago to ``until`` days ago."""
    today = timezone.localdate()
    return [
        {
            "place": place,
            "code": code,
            "from": (today - dt.timedelta(days=days)).isoformat(),
            "to": (today - dt.timedelta(days=until)).isoformat(),
        }
    ]


def traveller(name: str = "李四", **kw: Any) -> services.ArrivalData:
    _seq["n"] += 1
    doc = make_prc_id("310104", dt.date(1990, 3, 1), _seq["n"])
    return services.ArrivalData(doc_type="prc_id", doc_number=doc, name=name, **kw)


def register(officer: Any, cp: Checkpoint, data: services.ArrivalData) -> Arrival:
    arrival, _merged = services.arrival_register(actor=officer, checkpoint_id=cp.pk, data=data)
    return arrival
