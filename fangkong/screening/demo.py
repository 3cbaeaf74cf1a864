"""Demo data of the screening app: a lab, a sampling site per district (with
opening hours and queue states for the portal), door-to-door teams, and one open
round over the city in which the first residents of a grid were sampled and
reported negative. Idempotent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from fangkong.core.models import Jurisdiction, Person
from fangkong.core.synth import demo_staff
from fangkong.screening.models import Round, Site, Tube
from fangkong.screening.services import custody, results, rounds, sampling

# Around Taiyuan's centre (lat, lon); sites are spread a little from it.
CENTRE = (37.8706, 112.5489)
QUEUES = ["short", "medium", "long", "short"]


def seed() -> str:
    if Site.objects.exists():
        return f"{Site.objects.count()} sampling sites already there"
    city = Jurisdiction.objects.filter(level="city").order_by("path").first()
    if city is None:
        return "no city to screen"
    actor = demo_staff("screening-demo", city, "city_commander", "sampler", "lab_technician")
    lab = rounds.lab_create(
        actor=actor,
        name="市疾控中心实验室",
        code="demo-cdc",
        capacity_per_day=50_000,
        jurisdiction_id=city.pk,
    )
    lab.staff.add(actor)
    districts = list(Jurisdiction.objects.filter(level="district").order_by("path")[:8])
    sites = []
    for i, district in enumerate(districts):
        site = rounds.site_create(
            actor=actor,
            name=f"{district.name_zh}便民核酸采样点",
            jurisdiction_id=district.pk,
            lat=round(CENTRE[0] + 0.02 * (i % 3 - 1), 5),
            lon=round(CENTRE[1] + 0.02 * (i // 3 - 1), 5),
            opens_at=dt.time(7, 0),
            closes_at=dt.time(21, 0),
            lanes=4 + i % 3,
            address=f"{district.name_zh}人民广场东侧",
        )
        rounds.site_set_queue(actor=actor, site_id=site.pk, queue_state=QUEUES[i % len(QUEUES)])
        rounds.team_create(
            actor=actor,
            name=f"{district.name_zh}上门采样队",
            area_id=district.pk,
            door_to_door=True,
        )
        rounds.team_create(actor=actor, name=f"{district.name_zh}采样队", area_id=district.pk)
        sites.append(site)
    now = timezone.now()
    rnd = rounds.round_create(
        actor=actor,
        name="全员核酸第1轮（演示）",
        area_ids=[city.pk],
        starts_at=now - dt.timedelta(hours=3),
        ends_at=now + dt.timedelta(hours=21),
        pooling_ratio=10,
        lab_ids=[lab.pk],
    )
    grid = Jurisdiction.objects.subtree_of(city.path).filter(level="grid").order_by("path").first()
    sampled = 0
    if grid is not None and sites:
        people = list(
            Person.objects.active()
            .under(grid.path)
            .order_by("pk")
            .values_list("pk", flat=True)[:200]
        )
        at = now - dt.timedelta(hours=2)
        items: list[dict[str, Any]] = []
        for k, pid in enumerate(people):
            code = f"DEMO{k // 10:06d}"
            items.append(
                {"op": "scan", "tube": code, "person_id": pid, "at": at + dt.timedelta(seconds=k)}
            )
            if k % 10 == 9 or k == len(people) - 1:
                items.append({"op": "close", "tube": code, "at": at + dt.timedelta(seconds=k + 5)})
        report = sampling.sample_batch_submit(
            actor=actor, round_id=rnd.pk, items=items, site_id=sites[0].pk
        )
        sampled = report.count("ok")
        codes = list(Tube.objects.filter(round=rnd).values_list("barcode", flat=True))
        if codes:
            custody.box_pack(
                actor=actor, round_id=rnd.pk, barcode="DEMO-BOX-1", tube_barcodes=codes
            )
            custody.box_hand_over(actor=actor, barcode="DEMO-BOX-1", place=sites[0].name)
            custody.box_receive(actor=actor, lab_id=lab.pk, barcode="DEMO-BOX-1")
            results.results_import(
                actor=actor, lab_id=lab.pk, rows=[{"tube": c, "result": "negative"} for c in codes]
            )
    return (
        f"{len(sites)} sampling sites, 1 lab, round “{rnd.name}” with "
        f"{Round.objects.count()} round(s); {sampled} sampling operations"
    )
