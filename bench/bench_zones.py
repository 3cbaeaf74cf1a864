"""Figures of issue 6 (zoned control).

The city: a tree of 10 districts > 100 subdistricts > 500 communities > 2,000
grids > 20,000 buildings, and 5,000,000 residents (quick: 50,000 residents in
2,000 buildings) as minimal person rows loaded with COPY (PostgreSQL) or
executemany (SQLite), each with one shared encrypted phone so SMS are really
queued (benchmark database only). 1,000 confirmed cases among them.

(a) ``zones_declare``: a district officer proposes a high-risk zone of 50,000
    residents (quick: 5,000) — five communities — and the city commander
    approves it: the status service grants ``sealed_zone`` to every resident (one
    recompute pass) and notify queues the SMS batch. Floor: the bare INSERT
    (COPY/executemany) of the same reason rows and the same message rows, in the
    same database, rolled back. Target < 30 s on PostgreSQL.
(b) ``zones_lifting``: the daily lifting evaluation over 500 zones in force
    (quick: 50), one grid each, a third of each level, declared eight days ago.
    Floor: the same reads (residents per zone, last case, the residents of
    high-level zones, their latest results) as raw SQL on a cursor. Target < 10 s.
(c) ``zones_map``: the whole city's zone map data for the commander (those
    500 zones' units as GeoJSON, outlines, case points), cold then cached.
    Floor: a cache read of an equal-size payload. Target < 1 s (cached).

Run: ``fangkong bench --only zones_declare --only zones_lifting --only zones_map``
(``--quick`` for reduced sizes); on PostgreSQL with ``DATABASE_URL=...``.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Any

from bench.runner import Context, Figure, benchmark

SEED = 1006
DISTRICTS, SUBS, COMMUNITIES, GRIDS = 10, 10, 5, 4
BUILDINGS_PER_GRID = 10


def _tree(ctx: Context) -> dict[str, Any]:
    """The jurisdiction tree, written level by level with bulk_create."""
    from django.db import transaction
    from django.utils import timezone

    from fangkong.core.models import Jurisdiction, path_segment

    districts = ctx.size(DISTRICTS, 1)
    subs = ctx.size(SUBS, 10)
    now = timezone.now()
    with transaction.atomic():
        province = Jurisdiction.objects.create(
            level="province",
            name_zh="基准省",
            code="B40000",
            path=path_segment(90),
            depth=1,
            next_child_index=1,
        )
        city = Jurisdiction.objects.create(
            parent=province,
            level="city",
            name_zh="基准市",
            code="B40100",
            path=province.path + path_segment(0),
            depth=2,
            next_child_index=districts,
        )
        layers = [[city]]
        plan = [
            ("district", districts, "区"),
            ("subdistrict", subs, "街道"),
            ("community", COMMUNITIES, "社区"),
            ("grid", GRIDS, "网格"),
            ("building", BUILDINGS_PER_GRID, "号楼"),
        ]
        children = {plan[j][0]: plan[j + 1][1] for j in range(len(plan) - 1)}
        for depth, (level, k, suffix) in enumerate(plan, start=3):
            rows = []
            for parent in layers[-1]:
                for i in range(k):
                    rows.append(
                        Jurisdiction(
                            parent_id=parent.pk,
                            level=level,
                            name_zh=f"{i + 1}{suffix}",
                            path=parent.path + path_segment(i),
                            depth=depth,
                            next_child_index=children.get(level, 0),
                            created_at=now,
                        )
                    )
            Jurisdiction.objects.bulk_create(rows, batch_size=2000)
            layers.append(
                list(
                    Jurisdiction.objects.filter(level=level, path__startswith=city.path).order_by(
                        "path"
                    )
                )
            )
    return {
        "city": city,
        "districts": layers[1],
        "communities": layers[3],
        "grids": layers[4],
        "buildings": [(b.pk, b.path) for b in layers[5]],
    }


def ensure_zone_city(ctx: Context) -> dict[str, Any]:
    if "zone_city" in ctx.state:
        return ctx.state["zone_city"]
    from django.db import connection

    from bench.runner import people_load
    from fangkong.core.crypto import encrypt

    n = ctx.size(5_000_000, 50_000)
    t0 = time.perf_counter()
    tree = _tree(ctx)
    buildings = tree["buildings"]
    per = n // len(buildings)
    ctx.say(f"  tree: {len(buildings):,} buildings; loading {n:,} residents")
    first = people_load(
        n,
        tag="znbench",
        place=lambda i: buildings[min(i // per, len(buildings) - 1)],
        phone_encrypted=encrypt("+8613800138000"),
        phone_masked="+86*******8000",
    )
    _cases(first, n, buildings, per)
    with connection.cursor() as cur:  # as the synthetic city does after loading
        cur.execute("ANALYZE")
    users = _users(tree)
    ctx.say(f"  {n:,} residents in {time.perf_counter() - t0:.1f} s")
    state = {**tree, **users, "people": n, "first": first, "per_building": per}
    ctx.state["zone_city"] = state
    return state


def _cases(first: int, n: int, buildings: list[tuple[int, str]], per: int) -> None:
    """1,000 confirmed cases spread over the city, reported 1-20 days ago."""
    import random

    from django.utils import timezone

    from fangkong.investigation.models import Case, Disease
    from fangkong.investigation.services.rules import rules_in_force

    rng = random.Random(SEED)
    disease = Disease.objects.get(code="covid19")
    today = timezone.localdate()
    rules = rules_in_force(disease, today)
    rows = []
    for k in range(min(1000, n // 50)):
        i = rng.randrange(n)
        _home, path = buildings[min(i // per, len(buildings) - 1)]
        rows.append(
            Case(
                number=f"ZB{k:06d}",
                person_id=first + i,
                disease=disease,
                rules=rules,
                classification="confirmed",
                report_date=today - dt.timedelta(days=rng.randint(1, 20)),
                found_by="screening",
                scope_path=path,
            )
        )
    Case.objects.bulk_create(rows, batch_size=1000)


def _users(tree: dict[str, Any]) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from fangkong.core.models import Role, StaffProfile

    def staff(name: str, node: Any, role: str) -> Any:
        user = get_user_model().objects.create_user(username=name, password="bench-password-1")  # noqa: S106
        profile = StaffProfile.objects.create(user=user, jurisdiction=node, display_name=name)
        profile.roles.set(Role.objects.filter(code=role))
        return user

    return {
        "officer": staff("zb-officer", tree["districts"][0], "district_officer"),
        "commander": staff("zb-commander", tree["city"], "city_commander"),
    }


# --- (a) Declaring a zone --------------------------------------------------------------


def _floor_declare(person_ids: list[int]) -> float:
    """COPY/executemany of the same reason rows and message rows, rolled back."""
    import uuid

    from django.db import connection, transaction
    from django.utils import timezone

    from bench.runner import copy_rows
    from fangkong.notify.models import Batch, Message, MessageTemplate
    from fangkong.status.models import Reason

    created = connection.ops.adapt_datetimefield_value(timezone.now())
    template = MessageTemplate.objects.get(code="zone_declared", language="zh-hans")

    class Rollback(Exception):
        pass

    t0 = time.perf_counter()
    try:
        with transaction.atomic():
            batch = Batch.objects.create(
                purpose="zone-floor",
                template_code="zone_declared",
                total=len(person_ids),
                rate_per_minute=6000,
            )
            copy_rows(
                Reason._meta.db_table,
                [
                    "person_id",
                    "level",
                    "kind",
                    "source_type",
                    "source_id",
                    "starts_at",
                    "negatives",
                    "ended_how",
                    "created_at",
                ],
                (
                    (pid, "red", "sealed_zone", "zones.zone", 0, created, "[]", "", created)
                    for pid in person_ids
                ),
            )
            copy_rows(
                Message._meta.db_table,
                [
                    "created_at",
                    "updated_at",
                    "batch_id",
                    "person_id",
                    "purpose",
                    "dedup_key",
                    "legally_required",
                    "reference",
                    "template_id",
                    "template_version",
                    "language",
                    "body",
                    "status",
                    "skip_reason",
                    "attempts",
                    "provider_message_id",
                    "error",
                ],
                (
                    (
                        created,
                        created,
                        batch.pk,
                        pid,
                        "zone-floor",
                        "floor",
                        True,
                        uuid.uuid4().hex,
                        template.pk,
                        1,
                        "zh-hans",
                        "【防控】居民您好：您所在的基准社区已划为高风险区。",
                        "queued",
                        "",
                        0,
                        "",
                        "",
                    )
                    for pid in person_ids
                ),
            )
            elapsed = time.perf_counter() - t0
            raise Rollback
    except Rollback:
        pass
    return elapsed


@benchmark("zones_declare")
def bench_declare(ctx: Context) -> list[Figure]:
    from django.db import connection

    from fangkong.notify.models import Message
    from fangkong.status.models import Reason
    from fangkong.zones import services
    from fangkong.zones.services.zones import resident_ids

    city = ensure_zone_city(ctx)
    target_residents = ctx.size(50_000, 5_000)
    per_community = city["per_building"] * GRIDS * BUILDINGS_PER_GRID
    k = max(1, round(target_residents / per_community))
    units = [c for c in city["communities"] if c.path.startswith(city["districts"][0].path)][-k:]
    residents = len(resident_ids([u.path for u in units]))
    ctx.say(f"  zone: {len(units)} communities, {residents:,} residents")
    spent = {"status": 0.0, "notify": 0.0}

    def timed(key: str, fn: Any) -> Any:
        def wrapper(**kw: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(**kw)
            finally:
                spent[key] += time.perf_counter() - t

        return wrapper

    # The status reasons and the SMS batch are the subscribers' work, delivered
    # after the approval commits (inside proposal_approve's call).
    from fangkong.notify import listeners as notify_listeners
    from fangkong.status import facts as status_facts

    # (the handlers' own bindings of the services they call, replaced for the timing)
    real_grant = getattr(status_facts, "reasons_grant")  # noqa: B009
    real_sms = getattr(notify_listeners, "batch_create_system")  # noqa: B009
    setattr(status_facts, "reasons_grant", timed("status", real_grant))  # noqa: B010
    setattr(notify_listeners, "batch_create_system", timed("notify", real_sms))  # noqa: B010
    t0 = time.perf_counter()
    proposal = services.zone_propose_declare(
        actor=city["officer"], name="基准高风险区", level="high", node_ids=[u.pk for u in units]
    )
    t1 = time.perf_counter()
    if os.environ.get("FANGKONG_BENCH_PROFILE"):  # where the approval's time goes
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
    services.proposal_approve(
        actor=city["commander"], proposal_id=proposal.pk, decision_number="B-1"
    )
    if os.environ.get("FANGKONG_BENCH_PROFILE"):
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
    t2 = time.perf_counter()
    setattr(status_facts, "reasons_grant", real_grant)  # noqa: B010
    setattr(notify_listeners, "batch_create_system", real_sms)  # noqa: B010
    own = (t2 - t0) - spent["status"] - spent["notify"]
    ctx.say(
        f"  of which status reasons_grant {spent['status']:.2f} s, notify batch_create "
        f"{spent['notify']:.2f} s, zones itself {own:.2f} s"
    )
    reasons = Reason.objects.filter(source_type="zones.zone", source_id=proposal.zone_id).count()
    messages = Message.objects.filter(
        purpose="zone", dedup_key__startswith=f"zone-{proposal.zone_id}-"
    ).count()
    ctx.say(
        f"  propose {t1 - t0:.2f} s, approve {t2 - t1:.2f} s: "
        f"{reasons:,} reasons, {messages:,} SMS queued"
    )
    ids = resident_ids([u.path for u in units])
    floor = _floor_declare(ids)
    ctx.state["declared_zone"] = proposal.zone_id
    return [
        Figure(
            f"zones_declare: high-risk zone of {residents:,} residents (propose + approve)",
            t2 - t0,
            "s",
            floor=floor,
            target=30.0,
            note=f"{connection.vendor}; {reasons:,} reasons, {messages:,} SMS; "
            f"status {spent['status']:.1f} s + notify {spent['notify']:.1f} s + zones {own:.1f} s; "
            f"city of {city['people']:,}; "
            "floor = bare INSERT of the same reason and message rows",
        )
    ]


# --- (b) The daily lifting evaluation ------------------------------------------------------


def _zones(ctx: Context, city: dict[str, Any], count: int) -> list[int]:
    """``count`` zones in force, one grid each, levels in turn, declared 8 days ago."""
    from django.db import transaction
    from django.utils import timezone

    from fangkong.zones.models import Zone, ZoneLevel, ZoneUnit

    if "lifting_zones" in ctx.state:
        return ctx.state["lifting_zones"]
    levels = list(ZoneLevel.objects.order_by("-severity"))
    since = timezone.now() - dt.timedelta(days=8)
    grids = city["grids"][:count]
    with transaction.atomic():
        zones = Zone.objects.bulk_create(
            [
                Zone(
                    name=f"基准区{i}",
                    level=levels[i % len(levels)],
                    state=Zone.State.ACTIVE,
                    scope_path=g.path,
                    district_id=None,
                    declared_at=since,
                    in_force_since=since,
                    level_since=since,
                    resident_count=city["per_building"] * BUILDINGS_PER_GRID,
                )
                for i, g in enumerate(grids)
            ]
        )
        if not all(z.pk for z in zones):
            zones = list(Zone.objects.filter(name__startswith="基准区").order_by("id"))
        ZoneUnit.objects.bulk_create(
            [
                ZoneUnit(zone=z, node=g, path=g.path, active=True)
                for z, g in zip(zones, grids, strict=False)
            ]
        )
    ids = [z.pk for z in zones]
    ctx.state["lifting_zones"] = ids
    return ids


def _floor_lifting(zone_ids: list[int]) -> float:
    """The evaluation's reads as raw SQL: units, recent cases once, the residents
    of zones whose level needs test results, the result rows of those residents."""
    from django.db import connection
    from django.utils import timezone

    from fangkong.core.models import Person, path_upper_bound
    from fangkong.investigation.models import Case
    from fangkong.screening.models import TubeMember
    from fangkong.zones.models import ZoneUnit

    person = Person._meta.db_table
    case = Case._meta.db_table
    member = TubeMember._meta.db_table
    unit = ZoneUnit._meta.db_table
    since = timezone.localdate() - dt.timedelta(days=8)
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        marks = ", ".join(["%s"] * len(zone_ids))
        cur.execute(
            f"SELECT u.zone_id, u.path, l.lift_requires_all_negative FROM {unit} u "
            "JOIN zones_zone z ON z.id = u.zone_id JOIN zones_zonelevel l ON l.id = z.level_id "
            f"WHERE u.zone_id IN ({marks}) AND u.active",
            zone_ids,
        )
        units = cur.fetchall()
        cur.execute(
            f"SELECT scope_path, report_date FROM {case} "
            "WHERE report_date >= %s AND classification <> 'excluded'",
            [since],
        )
        cur.fetchall()
        ids: list[int] = []
        for _zid, path, tests in units:
            hi = path_upper_bound(path)
            if tests:
                cur.execute(
                    f"SELECT id FROM {person} WHERE scope_path >= %s AND scope_path < %s",
                    [path, hi],
                )
                ids.extend(r[0] for r in cur.fetchall())
        for k in range(0, len(ids), 5000):
            part = ids[k : k + 5000]
            marks = ", ".join(["%s"] * len(part))
            cur.execute(
                f"SELECT person_id, sampled_at FROM {member} WHERE person_id IN ({marks})", part
            )
            cur.fetchall()
    return time.perf_counter() - t0


@benchmark("zones_lifting")
def bench_lifting(ctx: Context) -> list[Figure]:
    from django.db import connection

    from fangkong.zones.models import LiftRecommendation
    from fangkong.zones.services import lifting_evaluate_all

    city = ensure_zone_city(ctx)
    count = ctx.size(500, 50)
    zone_ids = _zones(ctx, city, count)
    active = len(zone_ids) + (1 if "declared_zone" in ctx.state else 0)
    floor = _floor_lifting(zone_ids)
    if os.environ.get("FANGKONG_BENCH_PROFILE"):
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
    t0 = time.perf_counter()
    met = lifting_evaluate_all()
    elapsed = time.perf_counter() - t0
    if os.environ.get("FANGKONG_BENCH_PROFILE"):
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
    recs = LiftRecommendation.objects.count()
    ctx.say(f"  {active} zones evaluated in {elapsed:.2f} s: {recs} evaluations, {met} met")
    return [
        Figure(
            f"zones_lifting: daily evaluation of {active} zones",
            elapsed,
            "s",
            floor=floor,
            target=10.0,
            note=f"{connection.vendor}; "
            f"{city['per_building'] * BUILDINGS_PER_GRID:,} residents per zone; "
            "floor = the same reads as raw SQL",
        )
    ]


# --- (c) The map -------------------------------------------------------------------------


@benchmark("zones_map")
def bench_map(ctx: Context) -> list[Figure]:
    import json

    from django.core.cache import cache

    from fangkong.zones import selectors

    city = ensure_zone_city(ctx)
    _zones(ctx, city, ctx.size(500, 50))
    cache.clear()
    t0 = time.perf_counter()
    data = selectors.map_data(city["commander"])
    body = json.dumps(data)
    cold = time.perf_counter() - t0
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        json.dumps(selectors.map_data(city["commander"]))
        runs.append(time.perf_counter() - t)
    cached = sorted(runs)[len(runs) // 2]
    cache.set("zones:bench-floor", data, 300)
    floors = []
    for _ in range(5):
        t = time.perf_counter()
        json.dumps(cache.get("zones:bench-floor"))
        floors.append(time.perf_counter() - t)
    floor = sorted(floors)[len(floors) // 2]
    features = len(data["geojson"]["features"])
    ctx.say(
        f"  {features} unit features, {len(data['cases'])} case points, "
        f"{len(body) / 1e6:.1f} MB JSON; cold {cold:.2f} s"
    )
    return [
        Figure(
            f"zones_map: whole-city map data, cached ({features} units)",
            cached,
            "s",
            floor=floor,
            target=1.0,
            note=f"cold (first call) {cold:.3f} s; floor = cache read + JSON of the same payload",
        ),
    ]
