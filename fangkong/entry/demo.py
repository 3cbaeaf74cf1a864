"""Demo data of entry control: two checkpoints of the demo district (the
railway station and the airport), Shanghai's risk-area list in force, today's
arrivals in every category registered by the ``checkpoint_officer`` login (one
reported on the portal first, then merged on arrival), their arrival tests
taken at the checkpoint as screening tubes (all but the last arrival's), a place
waiting for review, one transfer to a quarantine site on the way and one overdue, and home
quarantines handed to the outbreak grid's worker. Through the services as the
demo logins; deterministic; idempotent (a second run adds nothing). Dates are
relative to today."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from fangkong.core.demo import demo_district, demo_login, outbreak_grids
from fangkong.core.identity import make_prc_id
from fangkong.core.models import Jurisdiction
from fangkong.entry import services
from fangkong.entry.models import Category, Checkpoint, Transfer
from fangkong.quarantine.selectors.shared import site_choices

DEPENDS_ON = ("quarantine",)  # an active quarantine site to transfer to

SHANGHAI = (
    "code,province,city,district,street,place,level\n"
    "310104,上海市,上海市,徐汇区,,,高风险区\n"
    "310115,上海市,上海市,浦东新区,,,中风险区\n"
    ",上海市,上海市,闵行区,七宝镇,明珠小区,高风险区\n"
)

# (name, birth year, sequence, places [(place, code, from days ago, to days ago)], extra)
TRAVELLERS: list[tuple[str, int, int, list[tuple[str, str, int, int]], dict[str, Any]]] = [
    (
        "陈建国",
        1975,
        11,
        [("上海市徐汇区", "310104", 9, 0)],
        {"transport": "train", "transport_number": "G1952"},
    ),
    (
        "林晓",
        1992,
        12,
        [("上海市闵行区七宝镇明珠小区", "", 9, 0)],
        {"transport": "flight", "transport_number": "MU5211"},
    ),
    (
        "黄海涛",
        1983,
        13,
        [("上海市浦东新区", "310115", 10, 0)],
        {"transport": "train", "transport_number": "G1954"},
    ),
    (
        "何静",
        1990,
        14,
        [("上海市浦东新区张江镇", "310115125", 8, 0)],
        {"transport": "flight", "transport_number": "FM9331"},
    ),
    (
        "郭伟",
        1987,
        15,
        [("上海市黄浦区", "310101", 9, 0)],
        {"transport": "train", "transport_number": "D2296"},
    ),
    (
        "马丽",
        1995,
        16,
        [("北京市海淀区", "110108", 9, 0)],
        {"transport": "train", "transport_number": "G607"},
    ),
    ("罗志强", 1979, 17, [("北京市朝阳区", "110105", 3, 0)], {"transport": "bus"}),
    ("宋佳", 1993, 18, [("云溪镇", "", 9, 0)], {"transport": "car", "plate": "冀A7K821"}),
    (
        "梁师傅",
        1972,
        19,
        [("上海市黄浦区", "310101", 9, 0)],
        {
            "traveller_class": "transit_driver",
            "plate": "沪D52718",
            "cargo": "冷链水果",
            "truck_destination": "西安",
            "stay_hours": 2,
        },
    ),
    (
        "韩师傅",
        1969,
        20,
        [("河北省石家庄市长安区", "130102", 9, 0)],
        {
            "traveller_class": "truck_driver",
            "plate": "冀A36F59",
            "cargo": "蔬菜",
            "truck_destination": "太原市小店区农产品市场",
            "stay_hours": 8,
        },
    ),
]


def _itinerary(places: list[tuple[str, str, int, int]]) -> list[dict[str, str]]:
    today = timezone.localdate()
    return [
        {
            "place": place,
            "code": code,
            "from": (today - dt.timedelta(days=start)).isoformat(),
            "to": (today - dt.timedelta(days=end)).isoformat(),
        }
        for place, code, start, end in places
    ]


def _homes() -> list[Jurisdiction]:
    grids = outbreak_grids(1)
    if not grids:
        return []
    return list(
        Jurisdiction.objects.subtree_of(grids[0].path).filter(level="building").order_by("path")[:4]
    )


def seed() -> str:
    if Checkpoint.objects.exists():
        return f"{Checkpoint.objects.count()} checkpoints already there"
    district = demo_district()
    if district is None:
        return "no city to put checkpoints in"
    commander = demo_login("city_commander")
    officer = demo_login("checkpoint_officer")
    demo_login("grid_worker")
    station = services.checkpoint_create(
        actor=commander,
        data=services.CheckpointData(
            name_zh="太原南站",
            name_en="Taiyuan South Station",
            kind="rail",
            jurisdiction_id=district.pk,
            staff_on_duty=12,
            throughput_per_hour=6000,
        ),
    )
    airport = services.checkpoint_create(
        actor=commander,
        data=services.CheckpointData(
            name_zh="武宿国际机场",
            name_en="Wusu International Airport",
            kind="airport",
            jurisdiction_id=district.pk,
            staff_on_duty=8,
            throughput_per_hour=2500,
            opens_at=dt.time(6, 0),
            closes_at=dt.time(23, 59),
        ),
    )
    today = timezone.localdate()
    risk_list = services.risk_list_import(
        actor=commander,
        meta=services.ListMeta(
            region_code="310000",
            region_name="上海市",
            source="上海市卫生健康委员会",
            published_at=timezone.now() - dt.timedelta(days=1),
            effective_from=today - dt.timedelta(days=12),
            effective_to=today + dt.timedelta(days=1),
        ),
        data=SHANGHAI.encode(),
        filename="shanghai.csv",
    )
    services.risk_list_publish(actor=commander, list_id=risk_list.pk)
    homes = _homes()
    first = TRAVELLERS[2]
    # One traveller reported on the portal before the trip (merged on arrival).
    reported_doc = make_prc_id("310115", dt.date(first[1], 5, 1), first[2])
    arrivals = []
    for i, (name, year, seq, places, extra) in enumerate(TRAVELLERS):
        region = places[0][1][:6] if places[0][1] else "310104"
        doc = make_prc_id(region.ljust(6, "0")[:6], dt.date(year, 5, 1), seq)
        if name == first[0]:
            doc = reported_doc
        data = services.ArrivalData(
            doc_type="prc_id",
            doc_number=doc,
            name=name,
            origin=places[0][0],
            itinerary=_itinerary(places),
            phone=f"1391234{5600 + seq}",
            home_id=homes[i % len(homes)].pk if homes and i < 5 else None,
            destination="小店区" if i < 5 else "",
            **extra,
        )
        arrival, _merged = services.arrival_register(
            actor=officer, checkpoint_id=(station if i % 2 == 0 else airport).pk, data=data
        )
        arrivals.append(arrival)
    sampled = _arrival_tests(officer, arrivals, today)
    sites = site_choices(commander)
    if sites:
        high = [a for a in arrivals if a.category == "centralised_quarantine"]
        moving = services.transfer_create(
            actor=officer,
            data=services.TransferData(
                checkpoint_id=high[0].checkpoint_id or station.pk,
                arrival_ids=[high[0].pk],
                vehicle_plate="晋A0T120",
                driver_name="刘师傅",
                escort_name="王护士",
                destination_kind="quarantine_site",
                destination_id=sites[0].id,
                destination_name="",
                window_minutes=90,
            ),
        )
        services.transfer_depart(actor=officer, transfer_id=moving.pk)
        if len(high) > 1:
            late = services.transfer_create(
                actor=officer,
                data=services.TransferData(
                    checkpoint_id=high[1].checkpoint_id or airport.pk,
                    arrival_ids=[high[1].pk],
                    vehicle_plate="晋A0T121",
                    driver_name="张师傅",
                    escort_name="李护士",
                    destination_kind="quarantine_site",
                    destination_id=sites[0].id,
                    destination_name="",
                    window_minutes=60,
                ),
            )
            services.transfer_depart(actor=officer, transfer_id=late.pk)
            services.transfer_deviation_record(
                actor=officer,
                transfer_id=late.pk,
                note="绕行：原定路线封闭，经小店区南内环街绕行",
            )
            # It left two hours ago (the demo's timeline), past its hour.
            left = timezone.now() - dt.timedelta(hours=2)
            Transfer.objects.filter(pk=late.pk).update(
                departed_at=left, due_at=left + dt.timedelta(minutes=60)
            )
            services.transfers_escalate()
    by_category: dict[str, int] = {}
    for a in arrivals:
        by_category[a.category] = by_category.get(a.category, 0) + 1
    return (
        f"2 checkpoints, Shanghai's list in force, {len(arrivals)} arrivals today "
        f"({', '.join(f'{Category(k).label} {v}' for k, v in sorted(by_category.items()))}), "
        f"{sampled} arrival tests taken (screening tubes waiting for the lab), "
        "transfers on the way"
    )


def _arrival_tests(officer: Any, arrivals: list[Any], today: dt.date) -> int:
    """The arrival tests taken at the checkpoints: single tubes for the higher-risk
    arrivals, the others pooled in one tube per checkpoint; the last arrival is left
    for the officer to scan."""
    done = 0
    for i, arrival in enumerate(arrivals[:-1]):
        test = arrival.tests.filter(state="due").order_by("number").first()
        if test is None:
            continue
        if test.single_tube:
            barcode = f"LD{today:%y%m%d}{i:03d}"
        else:
            barcode = f"LDP{today:%y%m%d}{arrival.checkpoint_id % 10:d}"
        services.arrival_test_sample(actor=officer, arrival_id=arrival.pk, barcode=barcode)
        done += 1
    return done
