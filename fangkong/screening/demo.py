"""Demo data of the screening app, as the demo logins: the city CDC lab, a sampling
site per district (opening hours and queue states for the portal), door-to-door
teams; a finished round over the outbreak's grids three days ago (sampled,
transported, tested, one positive pool and its retest tasks, closed) and today's
city-wide round in progress (tubes tested, a box on the road, a tube still open).
Idempotent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from fangkong.core.demo import demo_district, demo_login, outbreak_grids
from fangkong.core.models import Jurisdiction, Person
from fangkong.core.types import Actor
from fangkong.screening.models import Round, Site, Task, Tube
from fangkong.screening.services import custody, results, rounds, sampling

# Taiyuan's centre (lat, lon): where a site goes when its district has no boundary.
CENTRE = (37.8706, 112.5489)
QUEUES = ["short", "medium", "long", "short"]
DEPENDS_ON = ("zones",)  # a round makes door-to-door tasks for sealed zones


def _centre(node: Jurisdiction, default: tuple[float, float]) -> tuple[float, float]:
    """A site near the middle of its district (the centre of the boundary's box)."""
    ring = ((node.boundary or {}).get("coordinates") or [[]])[0]
    if not ring:
        return default
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    return (round((min(lats) + max(lats)) / 2, 5), round((min(lons) + max(lons)) / 2, 5))


def _sample(
    actor: Actor,
    rnd: Round,
    site: Site,
    people: list[int],
    at: dt.datetime,
    prefix: str,
    ratio: int,
) -> list[str]:
    """Scan ``people`` into tubes of ``ratio`` (closing each), as one offline batch."""
    items: list[dict[str, Any]] = []
    for k, pid in enumerate(people):
        code = f"{prefix}{k // ratio:05d}"
        when = at + dt.timedelta(seconds=8 * k)
        items.append({"op": "scan", "tube": code, "person_id": pid, "at": when})
        if k % ratio == ratio - 1 or k == len(people) - 1:
            items.append({"op": "close", "tube": code, "at": when + dt.timedelta(seconds=5)})
    sampling.sample_batch_submit(actor=actor, round_id=rnd.pk, items=items, site_id=site.pk)
    return sorted({str(i["tube"]) for i in items})


def _people(paths: list[str]) -> list[int]:
    ids: list[int] = []
    for path in paths:
        ids += list(Person.objects.active().under(path).order_by("pk").values_list("pk", flat=True))
    return ids


def seed() -> str:
    if Site.objects.exists():
        n_sites, n_rounds = Site.objects.count(), Round.objects.count()
        return f"{n_sites} sampling sites and {n_rounds} rounds already there"
    city = Jurisdiction.objects.filter(level="city").order_by("path").first()
    home = demo_district()
    grids = outbreak_grids(6)
    if city is None or home is None or not grids:
        return "no city to screen"
    commander = demo_login("city_commander")
    sampler = demo_login("sampler")
    technician = demo_login("lab_technician")
    lab = rounds.lab_create(
        actor=commander,
        name="太原市疾病预防控制中心实验室",
        code="tycdc",
        capacity_per_day=50_000,
        jurisdiction_id=city.pk,
    )
    lab.staff.add(technician)
    districts = list(Jurisdiction.objects.filter(level="district").order_by("path")[:8])
    sites: dict[int, Site] = {}
    for i, district in enumerate(districts):
        site = rounds.site_create(
            actor=commander,
            name=f"{district.name_zh}便民核酸采样点",
            jurisdiction_id=district.pk,
            lat=_centre(district, CENTRE)[0],
            lon=_centre(district, CENTRE)[1],
            opens_at=dt.time(7, 0),
            closes_at=dt.time(21, 0),
            lanes=4 + i % 3,
            address=f"{district.name_zh}人民广场东侧",
        )
        rounds.site_set_queue(actor=commander, site_id=site.pk, queue_state=QUEUES[i % len(QUEUES)])
        rounds.team_create(
            actor=commander,
            name=f"{district.name_zh}上门采样队",
            area_id=district.pk,
            door_to_door=True,
        )
        rounds.team_create(actor=commander, name=f"{district.name_zh}采样队", area_id=district.pk)
        sites[district.pk] = site
    site = sites.get(home.pk) or next(iter(sites.values()))
    today = timezone.localdate()

    # A finished round over the outbreak's grids, three days ago.
    day = today - dt.timedelta(days=3)
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(7)))
    done = rounds.round_create(
        actor=commander,
        name=f"{home.name_zh}重点区域核酸筛查（{day:%m}月{day:%d}日）",
        area_ids=[g.pk for g in grids],
        starts_at=start,
        ends_at=start + dt.timedelta(hours=14),
        pooling_ratio=10,
        lab_ids=[lab.pk],
    )
    people = _people([g.path for g in grids])
    sampled = people[: len(people) * 9 // 10]  # a tenth not yet tested
    codes = _sample(sampler, done, site, sampled, start + dt.timedelta(hours=1), "FK-R1-", 10)
    custody.box_pack(actor=sampler, round_id=done.pk, barcode="BOX-R1-01", tube_barcodes=codes)
    custody.box_hand_over(
        actor=sampler, barcode="BOX-R1-01", place=site.name, at=start + dt.timedelta(hours=9)
    )
    custody.box_receive(
        actor=technician, lab_id=lab.pk, barcode="BOX-R1-01", at=start + dt.timedelta(hours=10)
    )
    positive = codes[len(codes) // 3]
    results.results_import(
        actor=technician,
        lab_id=lab.pk,
        rows=[
            {"tube": c, "result": "positive", "ct_values": {"ORF1ab": 31.2, "N": 29.8}}
            if c == positive
            else {"tube": c, "result": "negative"}
            for c in codes
        ],
    )
    rounds.round_close(actor=commander, round_id=done.pk)

    # Today's round over the city, in progress.
    now = timezone.now()
    start = now - dt.timedelta(hours=3)
    live = rounds.round_create(
        actor=commander,
        name=f"全市全员核酸筛查（{today:%m}月{today:%d}日）",
        area_ids=[city.pk],
        starts_at=start,
        ends_at=start + dt.timedelta(hours=24),
        pooling_ratio=10,
        lab_ids=[lab.pk],
    )
    later = _people([g.path for g in (grids[3:6] or grids)])[:300]
    codes = _sample(sampler, live, site, later, start + dt.timedelta(minutes=30), "FK-R2-", 10)
    tested, on_road = codes[:20], codes[20:28]
    custody.box_pack(actor=sampler, round_id=live.pk, barcode="BOX-R2-01", tube_barcodes=tested)
    custody.box_hand_over(actor=sampler, barcode="BOX-R2-01", place=site.name)
    custody.box_receive(actor=technician, lab_id=lab.pk, barcode="BOX-R2-01")
    results.results_import(
        actor=technician,
        lab_id=lab.pk,
        rows=[{"tube": c, "result": "negative"} for c in tested],
    )
    if on_road:
        custody.box_pack(
            actor=sampler, round_id=live.pk, barcode="BOX-R2-02", tube_barcodes=on_road
        )
        custody.box_hand_over(actor=sampler, barcode="BOX-R2-02", place=site.name)
    tasks = Task.objects.filter(state="open").count()
    return (
        f"{len(sites)} sampling sites, 1 lab; finished round “{done.name}” "
        f"({len(sampled)} sampled, 1 positive pool, {tasks} open retest tasks); "
        f"round in progress “{live.name}” ({len(later)} sampled, "
        f"{Tube.objects.filter(round=live, result='negative').count()} tubes negative)"
    )
