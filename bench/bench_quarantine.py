"""Figures of issue 20 (quarantine sites and orders).

The city: 10 districts with 200 active quarantine sites and 40,000 clean rooms
(quick: 20 sites, 2,000 rooms) and 15,000 registered people (quick: 1,500),
written with bulk_create.

(a) ``quarantine_allocation``: a city dispatcher places 5,000 arrivals (quick:
    500) in one batch (``stays_place``: checks, stays with their rule's end and
    test schedule, rooms taken first tier first, audit rows). Floor: the same
    stay and test rows bulk-inserted and the same rooms flipped by one UPDATE,
    in the same database, rolled back. Target < 10 s. Then the same number of
    arrivals in four parallel batches from four clients (threads with their own
    connections, started together): wall time, and the check that no room was
    given twice (a figure of 0 double-booked rooms is the pass).
(b) ``quarantine_orders``: 1,000 quarantine orders (quick: 100) issued and
    printed as one PDF (numbers, audit rows, one page each in the person's
    language). Floor: reportlab drawing the same number of pages of the same
    text straight onto a canvas. Target < 60 s.

Run: ``fangkong bench --only quarantine_allocation --only quarantine_orders``
(``--quick`` for reduced sizes); on PostgreSQL with ``DATABASE_URL=...``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from bench.runner import Context, Figure, benchmark

DISTRICTS = 10
CLIENTS = 4  # parallel clients of the second allocation figure


def _city(ctx: Context) -> dict[str, Any]:
    if "quarantine_city" in ctx.state:
        return dict(ctx.state["quarantine_city"])
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from fangkong.core.models import Jurisdiction, Person, Role, StaffProfile, path_segment
    from fangkong.quarantine.models import Room, Site

    sites_n = ctx.size(200, 20)
    rooms_per = ctx.size(200, 100)
    people_n = ctx.size(15_000, 1_500)
    t0 = time.perf_counter()
    now = timezone.now()
    with transaction.atomic():
        province = Jurisdiction.objects.create(
            level="province", name_zh="隔离基准省", code="Q40000", path=path_segment(91), depth=1
        )
        city = Jurisdiction.objects.create(
            parent=province,
            level="city",
            name_zh="隔离基准市",
            code="Q40100",
            path=province.path + path_segment(0),
            depth=2,
            next_child_index=DISTRICTS,
        )
        districts = Jurisdiction.objects.bulk_create(
            [
                Jurisdiction(
                    parent=city,
                    level="district",
                    name_zh=f"第{d}区",
                    path=city.path + path_segment(d),
                    depth=3,
                )
                for d in range(DISTRICTS)
            ]
        )
        sites = Site.objects.bulk_create(
            [
                Site(
                    name=f"基准隔离点{i:03d}",
                    jurisdiction=districts[i % DISTRICTS],
                    scope_path=districts[i % DISTRICTS].path,
                    tier=1 + i // 20,
                    state=Site.State.ACTIVE,
                    accepted_at=now,
                    planned_rooms=rooms_per,
                    address=f"基准路{i}号",
                )
                for i in range(sites_n)
            ]
        )
        Room.objects.bulk_create(
            [
                Room(
                    site=s,
                    number=f"{2 + n // 40}{n % 40 + 1:02d}",
                    floor=2 + n // 40,
                    scope_path=s.scope_path,
                )
                for s in sites
                for n in range(rooms_per)
            ],
            batch_size=5000,
        )
        first = int(Person.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        Person.objects.bulk_create(
            [
                Person(
                    doc_type="other",
                    doc_number_encrypted="-",
                    doc_hash=f"qbench{first + i:09d}",
                    doc_masked="Q*****",
                    name=f"到达人员{i}",
                    scope_path=districts[i % DISTRICTS].path,
                    language="en" if i % 10 == 0 else "zh-hans",
                )
                for i in range(people_n)
            ],
            batch_size=5000,
        )
        people = list(
            Person.objects.filter(doc_hash__startswith="qbench")
            .order_by("id")
            .values_list("id", flat=True)
        )
        user = get_user_model().objects.create_user(username="bench_quarantine_dispatch")
        profile = StaffProfile.objects.create(user=user, jurisdiction=city, display_name="隔离调度")
        profile.roles.set(Role.objects.filter(code="quarantine_manager"))
    ctx.say(
        f"  {sites_n} sites, {sites_n * rooms_per:,} rooms, {people_n:,} people "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    state = {"city_id": city.pk, "people": people, "user_id": user.pk, "rooms": sites_n * rooms_per}
    ctx.state["quarantine_city"] = state
    return dict(state)


def _floor_allocation(ids: list[int]) -> float:
    """The same stays and tests bulk-inserted and the rooms flipped, rolled back."""
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from fangkong.quarantine.models import QuarantineRule, Room, Stay, StayCategory, StayTest

    category = StayCategory.objects.get(code="inbound_traveller")
    rule = QuarantineRule.objects.filter(category=category).order_by("-effective_from").first()
    assert rule is not None
    today = timezone.localdate()
    now = timezone.now()

    class Rollback(Exception):
        pass

    started = time.perf_counter()
    try:
        with transaction.atomic():
            rooms = list(
                Room.objects.filter(status="clean")
                .order_by("site__tier", "site_id", "floor", "number")
                .values_list("id", "site_id", "scope_path")[: len(ids)]
            )
            for i in range(0, len(rooms), 5000):
                Room.objects.filter(pk__in=[r[0] for r in rooms[i : i + 5000]]).update(
                    status="occupied", occupants=1
                )
            stays = Stay.objects.bulk_create(
                [
                    Stay(
                        person_id=pid,
                        site_id=site_id,
                        room_id=room_id,
                        scope_path=path,
                        state="in_room",
                        category=category,
                        rule=rule,
                        source="order",
                        started_on=today,
                        planned_end=today + dt.timedelta(days=rule.quarantine_days),
                        admitted_at=now,
                        roomed_at=now,
                    )
                    for pid, (room_id, site_id, path) in zip(ids, rooms, strict=False)
                ],
                batch_size=2000,
            )
            StayTest.objects.bulk_create(
                [
                    StayTest(stay=s, due_on=today + dt.timedelta(days=d - 1), day_number=d)
                    for s in stays
                    for d in rule.test_days
                ],
                batch_size=5000,
            )
            raise Rollback
    except Rollback:
        pass
    return time.perf_counter() - started


def _no_double_booking() -> tuple[int, int]:
    """(rooms given twice, rooms whose status disagrees with their stays)."""
    from django.db.models import Count

    from fangkong.quarantine.models import Room, Stay

    twice = (
        Stay.objects.filter(state="in_room", share__isnull=True)
        .values("room_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    occupied = Room.objects.filter(status="occupied").count()
    in_rooms = Stay.objects.filter(state="in_room").values("room_id").distinct().count()
    return twice, abs(occupied - in_rooms)


@benchmark("quarantine_allocation")
def bench_allocation(ctx: Context) -> list[Figure]:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from fangkong.quarantine import services

    state = _city(ctx)
    user = get_user_model().objects.get(pk=state["user_id"])
    # Two batches (one, then the parallel ones) must fit the rooms (tiny test sizes).
    n = min(ctx.size(5_000, 500), state["rooms"] // 3, len(state["people"]) // 3)
    batch = state["people"][:n]
    floor = _floor_allocation(batch)
    started = time.perf_counter()
    result = services.stays_place(
        actor=user,
        pool_id=state["city_id"],
        people=[services.AdmitData(pid, "inbound_traveller") for pid in batch],
    )
    seconds = time.perf_counter() - started
    assert len(result.placed) == n
    ctx.say(f"  one batch of {n:,}: {seconds:.2f} s (floor {floor:.2f} s)")

    clients = CLIENTS
    rest = state["people"][n : 2 * n]
    parts = [rest[i::clients] for i in range(clients)]
    errors: list[str] = []
    barrier = threading.Barrier(clients)

    def client(part: list[int]) -> None:
        try:
            me = get_user_model().objects.get(pk=state["user_id"])
            barrier.wait()
            services.stays_place(
                actor=me,
                pool_id=state["city_id"],
                people=[services.AdmitData(pid, "close_contact") for pid in part],
            )
        except Exception as exc:  # reported as the figure's note, never hidden
            errors.append(repr(exc)[:200])
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(p,)) for p in parts]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    parallel = time.perf_counter() - started
    twice, mismatched = _no_double_booking()
    ctx.say(
        f"  {clients} parallel batches: {parallel:.2f} s; "
        f"double-booked {twice}, mismatched {mismatched}"
    )
    return [
        Figure(
            f"allocation of {n:,} arrivals in one batch",
            seconds,
            "s",
            floor=floor,
            target=10.0,
            note=f"{len(result.placed):,} placed over {ctx.size(200, 20)} sites",
        ),
        Figure(
            f"allocation of {n:,} arrivals by {clients} parallel clients",
            None if errors else parallel,
            "s",
            floor=floor,
            target=10.0,
            note="; ".join(errors) or f"{clients} batches of {len(parts[0]):,}",
        ),
        Figure(
            "rooms given twice after the parallel batches",
            float(twice + mismatched),
            "rooms",
            target=1.0,
            note="0 passes: one person per room held",
        ),
    ]


def _floor_pdf(pages: int, text: str) -> float:
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    lines = [text[i : i + 38] for i in range(0, len(text), 38)]
    started = time.perf_counter()
    c = canvas.Canvas(io.BytesIO(), pagesize=A4)
    for _p in range(pages):
        c.setFont("STSong-Light", 11)
        y = 780
        for line in lines:
            c.drawString(60, y, line)
            y -= 18
        c.showPage()
    c.save()
    return time.perf_counter() - started


@benchmark("quarantine_orders")
def bench_orders(ctx: Context) -> list[Figure]:
    import io

    import pypdf
    from django.contrib.auth import get_user_model

    from fangkong.quarantine import services
    from fangkong.quarantine.models import DocumentTemplate, Stay

    state = _city(ctx)
    user = get_user_model().objects.get(pk=state["user_id"])
    n = ctx.size(1_000, 100)
    stay_ids = list(
        Stay.objects.filter(state="in_room").order_by("id").values_list("id", flat=True)[:n]
    )
    if len(stay_ids) < n:
        placed = services.stays_place(
            actor=user,
            pool_id=state["city_id"],
            people=[
                services.AdmitData(pid, "close_contact")
                for pid in state["people"][-(n - len(stay_ids)) :]
            ],
        )
        stay_ids += [s for s, _r in placed.placed]
    template = DocumentTemplate.objects.get(kind="order", language="zh-hans")
    floor = _floor_pdf(n, template.body)
    started = time.perf_counter()
    orders = services.orders_issue(actor=user, stay_ids=stay_ids)
    data = services.orders_pdf(orders)
    seconds = time.perf_counter() - started
    pages = len(pypdf.PdfReader(io.BytesIO(data)).pages)
    assert pages == n, pages
    ctx.say(f"  {n:,} orders: {seconds:.2f} s, {len(data) / 2**20:.1f} MB (floor {floor:.2f} s)")
    return [
        Figure(
            f"{n:,} quarantine orders issued and printed as PDF",
            seconds,
            "s",
            floor=floor,
            target=60.0,
            note=f"{pages:,} pages, {len(data) / 2**20:.1f} MB",
        )
    ]
