"""Figures of issue 5 (mass screening).

The data: a tree of 4 districts × 5 subdistricts × 5 communities × 4 grids × 5
buildings (400 grids, 2,000 buildings) and N residents (minimal rows inserted
directly: benchmark database only) in one round at 10-in-1: N links in N/10
tubes, N/10 results. Issue scale N = 5,000,000; run size: ``SCREENING_N``
(default 1,000,000; quick 20,000).

(a) ``screening_ingest``: the links through the import path
    (``sample_batch_submit``: open/scan/close items in batches of 2,000 tubes,
    every rule checked, custody and schedule bookkeeping), then the boxes received
    and the results through ``results_import`` (batches of 50,000 rows, negative,
    with their status facts); the clock runs only inside the two services. Floor:
    the rows the import wrote (tubes and links; result rows), read back and loaded
    again by COPY (PostgreSQL) / executemany (SQLite) into copies of the tables with
    their indexes and foreign keys, the cheaper of one transaction or the import's
    own batches. Target: >= 50 % of the floor's rate.
(b) ``screening_coverage``: ``coverage`` for all grids of the round (target < 10 s
    on PostgreSQL) and for one community (median of 7; target < 200 ms). Floor: the
    bare grouped SQL of the sampled links on a raw cursor.
(c) ``screening_positive``: 100 positive pools reported at once → pooled-positive
    reasons for every member and a retest task each. Target < 2 s.
(d) ``screening_scan_api``: ``POST /api/v1/screening/scan`` through gunicorn (token
    auth, personal codes) with a load generator in a separate process:
    requests/s and p99. PostgreSQL only. Target >= 500/s.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.runner import (
    Context,
    Figure,
    Request,
    Server,
    benchmark,
    copy_rows,
    median_rps,
    people_load,
    post,
    run_line,
    server_env,
)
from bench.runner import best as best_run

SEED = 5005
BASE_DIR = Path(__file__).resolve().parent.parent
RATIO = 10


def _tree() -> dict[str, Any]:
    from fangkong.core.services import jurisdiction_build

    node = None
    for level, name in (("province", "筛查基准省"), ("city", "筛查基准市")):
        node = jurisdiction_build(parent=node, level=level, name_zh=name)
    city = node
    assert city is not None
    districts, communities, grids, buildings = [], [], [], []
    for d in range(4):
        district = jurisdiction_build(parent=city, level="district", name_zh=f"筛{d}区")
        districts.append(district)
        for s in range(5):
            sub = jurisdiction_build(parent=district, level="subdistrict", name_zh=f"街道{s}")
            for c in range(5):
                com = jurisdiction_build(parent=sub, level="community", name_zh=f"社区{c}")
                communities.append(com)
                for g in range(4):
                    grid = jurisdiction_build(parent=com, level="grid", name_zh=f"网格{g}")
                    grids.append(grid)
                    for b in range(5):
                        buildings.append(
                            jurisdiction_build(parent=grid, level="building", name_zh=f"{b}号楼")
                        )
    return {
        "city": city,
        "districts": districts,
        "communities": communities,
        "grids": grids,
        "buildings": buildings,
    }


def _actor(city: Any) -> Any:
    from django.contrib.auth import get_user_model

    from fangkong.core.models import Role, StaffProfile

    user = get_user_model().objects.filter(username="bench_screener").first()
    if user is None:
        user = get_user_model().objects.create_user(
            username="bench_screener",
            password="x-bench-x",  # noqa: S106 - benchmark database only
        )
        profile = StaffProfile.objects.create(user=user, jurisdiction=city)
        profile.roles.set(
            Role.objects.filter(code__in=["city_commander", "sampler", "lab_technician"])
        )
    return user


def ensure_city(ctx: Context) -> dict[str, Any]:
    if "screening" in ctx.state:
        return dict(ctx.state["screening"])
    from django.db import connection, transaction
    from django.utils import timezone

    from fangkong.screening.services import rounds as round_services

    n = ctx.size(int(os.environ.get("SCREENING_N", "1000000")), 20_000)
    started = time.perf_counter()
    with transaction.atomic():
        tree = _tree()
    buildings = [(b.pk, b.path) for b in tree["buildings"]]
    p0 = people_load(
        n,
        tag="scr",
        place=lambda i: buildings[i % len(buildings)],
        name=lambda i: f"居民{i}",
        limited_mobility=lambda i: i % 97 == 0,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE core_person")
    actor = _actor(tree["city"])
    lab = round_services.lab_create(
        actor=actor,
        name="基准实验室",
        code=f"benchlab{p0}",
        capacity_per_day=n,
        jurisdiction_id=tree["city"].pk,
    )
    rnd = round_services.round_create(
        actor=actor,
        name="基准轮次",
        area_ids=[tree["city"].pk],
        starts_at=timezone.now() - dt.timedelta(hours=2),
        ends_at=timezone.now() + dt.timedelta(hours=22),
        pooling_ratio=RATIO,
        lab_ids=[lab.pk],
    )
    for g in tree["grids"][:40]:
        round_services.team_create(actor=actor, name=f"队{g.pk}", area_id=g.pk)
    ctx.say(
        f"  {n:,} residents in {len(tree['grids'])} grids, set up in "
        f"{time.perf_counter() - started:.1f} s"
    )
    state = {
        "n": n,
        "p0": p0,
        "tree": tree,
        "actor": actor,
        "round": rnd,
        "lab": lab,
        "buildings": buildings,
    }
    ctx.state["screening"] = state
    return dict(state)


def _items(p0: int, first_tube: int, tubes: int, at: dt.datetime) -> list[dict[str, Any]]:
    """A client's batch: each tube filled by one lane, a person every 6 seconds (each
    scan its own time, as a real sampling client sends them), then closed."""
    items: list[dict[str, Any]] = []
    step = dt.timedelta(seconds=6)
    for t in range(first_tube, first_tube + tubes):
        code = f"BT{t:08d}"
        when = at + dt.timedelta(seconds=t % 3600)
        for k in range(RATIO):
            items.append({"op": "scan", "tube": code, "person_id": p0 + t * RATIO + k, "at": when})
            when += step
        items.append({"op": "close", "tube": code, "at": when})
    return items


def _profiler() -> Any:
    """``FANGKONG_BENCH_PROFILE=1``: where the import path's time goes."""
    if not os.environ.get("FANGKONG_BENCH_PROFILE"):
        return None
    import cProfile

    prof = cProfile.Profile()
    prof.enable()
    return prof


def _profile_report(prof: Any, what: str) -> None:
    if prof is None:
        return
    import pstats

    prof.disable()
    print(f"--- profile: {what}")
    pstats.Stats(prof).sort_stats(
        os.environ.get("FANGKONG_BENCH_PROFILE_SORT", "cumulative")
    ).print_stats(40)


def _floor_tables(names: list[str], *, keys: bool = False) -> None:
    """Empty copies ``bench_<name>`` of ``screening_<name>`` with their indexes; with
    ``keys`` also their foreign keys (to the copies where they point among them)."""
    from django.db import connection

    def retarget(ddl: str) -> str:
        for other in names:
            ddl = ddl.replace(f'"screening_{other}"', f'"bench_{other}"')
            ddl = re.sub(rf"\bscreening_{other}\(", f"bench_{other}(", ddl)
        return ddl

    with connection.cursor() as cur:
        for name in reversed(names):
            cur.execute(f"DROP TABLE IF EXISTS bench_{name}")
        for name in names:
            if connection.vendor == "postgresql":
                cur.execute(
                    f"CREATE TABLE bench_{name} (LIKE screening_{name} INCLUDING DEFAULTS "
                    "INCLUDING INDEXES INCLUDING CONSTRAINTS INCLUDING IDENTITY)"
                )
                if keys:
                    cur.execute(
                        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                        "WHERE conrelid = %s::regclass AND contype = 'f'",
                        [f"screening_{name}"],
                    )
                    for conname, definition in cur.fetchall():
                        cur.execute(
                            f"ALTER TABLE bench_{name} ADD CONSTRAINT bench_{conname} "
                            + retarget(definition)
                        )
            else:
                cur.execute(
                    "SELECT sql FROM sqlite_master WHERE type='table' AND name=%s",
                    [f"screening_{name}"],
                )
                ddl = cur.fetchone()[0]
                ddl = ddl.replace(f'"screening_{name}"', f'"bench_{name}"', 1)
                if keys:
                    ddl = retarget(ddl)
                else:
                    ddl = re.sub(
                        r' REFERENCES "[^"]+" \("[^"]+"\)( DEFERRABLE INITIALLY DEFERRED)?',
                        "",
                        ddl,
                    )
                cur.execute(ddl)
                cur.execute(
                    "SELECT sql FROM sqlite_master WHERE type='index' AND tbl_name=%s "
                    "AND sql IS NOT NULL",
                    [f"screening_{name}"],
                )
                for (idx,) in cur.fetchall():
                    cur.execute(
                        idx.replace(f'"screening_{name}"', f'"bench_{name}"').replace(
                            'INDEX "', 'INDEX "bench_'
                        )
                    )


def _rows_written(table: str, columns: list[str], where: str, params: list[Any]) -> list[Any]:
    """The rows the import path wrote, as the floor will load them again: in id
    order, values in the form the database client sends (SQLite: the stored text of
    datetimes), so the floor's clock holds only the load."""
    from django.db import connection

    cols = ", ".join("CAST(ct_values AS TEXT)" if c == "ct_values" else c for c in columns)
    with connection.cursor() as cur:
        cur.execute(f"SELECT {cols} FROM {table} WHERE {where} ORDER BY id", params)
        rows = cur.fetchall()
    if connection.vendor != "postgresql":
        # The adapter's own text for a naive datetime (what the import stored).
        rows = [tuple(str(v) if isinstance(v, dt.datetime) else v for v in r) for r in rows]
    return rows


def _bulk_load(batches: list[list[tuple[str, list[str], list[Any]]]]) -> float:
    """Seconds to bulk-load the batches, one transaction each (COPY on PostgreSQL,
    executemany elsewhere). A batch: (table, columns, rows) in order."""
    from django.db import transaction

    started = time.perf_counter()
    for batch in batches:
        with transaction.atomic():
            for table, columns, rows in batch:
                copy_rows(table, columns, rows)
    return time.perf_counter() - started


def _floor(
    tubes: list[Any],
    links: list[Any],
    reports: list[Any],
    *,
    tube_batch: int,
    report_batch: int,
) -> dict[str, float]:
    """The bulk-load floor of the same rows (those the import wrote, read back) into
    copies of the tables with their indexes and foreign keys, checked at commit as
    the import's are: once in one transaction, once in the import's own batches
    (``tube_batch`` tubes with their links; ``report_batch`` result rows). The
    cheaper of the two is the floor."""
    from django.db import connection

    names = ["tube", "tubemember", "resultreport"]
    tube_cols = [f.column for f in _tube_fields()]
    link_cols = list(LINK_COLUMNS)
    report_cols = list(REPORT_COLUMNS)
    tube_idx = tube_cols.index("id")
    batch_of: dict[int, int] = {}
    link_batches: list[tuple[list[Any], list[Any]]] = []
    for k in range(0, len(tubes), tube_batch):
        part = tubes[k : k + tube_batch]
        for row in part:
            batch_of[row[tube_idx]] = len(link_batches)
        link_batches.append((part, []))
    for row in links:
        link_batches[batch_of[row[0]]][1].append(row)
    plans = {
        "links, one transaction": [
            [("bench_tube", tube_cols, tubes), ("bench_tubemember", link_cols, links)]
        ],
        "links, the import's batches": [
            [("bench_tube", tube_cols, t), ("bench_tubemember", link_cols, m)]
            for t, m in link_batches
        ],
        "results, one transaction": [[("bench_resultreport", report_cols, reports)]],
        "results, the import's batches": [
            [("bench_resultreport", report_cols, reports[k : k + report_batch])]
            for k in range(0, len(reports), report_batch)
        ],
    }
    out: dict[str, float] = {}
    for what, plan in plans.items():
        _settle_keys()
        if what.startswith("results"):
            # Into the tubes of the last links load (the reports point to them).
            with connection.cursor() as cur:
                cur.execute(
                    "TRUNCATE bench_resultreport"
                    if connection.vendor == "postgresql"
                    else "DELETE FROM bench_resultreport"
                )
        else:
            _floor_tables(names, keys=True)
        out[what] = _bulk_load(plan)
    _settle_keys()
    with connection.cursor() as cur:
        for name in ("resultreport", "tubemember", "tube"):
            cur.execute(f"DROP TABLE IF EXISTS bench_{name}")
    return out


def _settle_database(tables: list[str]) -> None:
    """Before a read or request figure: the database as it stands minutes after a
    bulk load, not during one. On PostgreSQL the writes of the loads before (the
    floor's copies among them) are checkpointed and the tables vacuumed and analysed,
    as autovacuum does once a table has taken that many inserts; otherwise the figure
    measures the checkpoint's I/O and the first readers setting hint bits. On SQLite
    the WAL is checkpointed. Inside a transaction (the quick test) only ANALYZE."""
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            for table in tables:
                cur.execute(
                    f"ANALYZE {table}"
                    if connection.in_atomic_block
                    else f"VACUUM (ANALYZE) {table}"
                )
            if not connection.in_atomic_block:
                cur.execute("CHECKPOINT")
        elif not connection.in_atomic_block:
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _settle_keys() -> None:
    """Inside an outer transaction (the benchmark's own test) the key checks of the
    last load are still pending on PostgreSQL: run them before its tables change."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute("SET CONSTRAINTS ALL DEFERRED")


LINK_COLUMNS = (
    "tube_id",
    "round_id",
    "person_id",
    "person_scope_path",
    "sampled_at",
    "sampled_by_id",
    "repeat",
)
REPORT_COLUMNS = (
    "created_at",
    "updated_at",
    "tube_barcode",
    "tube_id",
    "lab_id",
    "result",
    "ct_values",
    "reported_at",
    "reported_by_id",
    "status",
    "scope_path",
)


def _tube_fields() -> list[Any]:
    from fangkong.screening.models import Tube

    return list(Tube._meta.concrete_fields)


@benchmark("screening_ingest")
def bench_ingest(ctx: Context) -> list[Figure]:
    from django.utils import timezone

    from fangkong.screening.models import Tube
    from fangkong.screening.services.results import results_import
    from fangkong.screening.services.sampling import sample_batch_submit

    data = ensure_city(ctx)
    n, p0, actor, rnd, lab = data["n"], data["p0"], data["actor"], data["round"], data["lab"]
    n_tubes = n // RATIO
    at = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    per_batch, per_file = 2000, 50_000
    # (1) links through the import path (the clock runs only inside the service; the
    # items of the next batch are made outside it, as a client would send them).
    prof = _profiler()
    links_s = 0.0
    refused = 0
    for first in range(0, n_tubes, per_batch):
        items = _items(p0, first, min(per_batch, n_tubes - first), at)
        started = time.perf_counter()
        report = sample_batch_submit(actor=actor, round_id=rnd.pk, items=items)
        links_s += time.perf_counter() - started
        refused += report.count("refused")
    _profile_report(prof, "links")
    ctx.say(f"  links: {n:,} in {n_tubes:,} tubes in {links_s:.1f} s ({refused} refused)")
    # The rows written, for the floor: the tubes as the links left them, the links.
    tube_cols = [f.column for f in _tube_fields()]
    tubes = _rows_written(Tube._meta.db_table, tube_cols, "round_id = %s", [rnd.pk])
    links = _rows_written("screening_tubemember", list(LINK_COLUMNS), "round_id = %s", [rnd.pk])
    # Boxes received at the lab (set-up, not measured).
    Tube.objects.filter(round=rnd).update(state="received", lab=lab, received_at=timezone.now())
    # Keep 100 tubes without results for the positive-pool figure.
    keep = {f"BT{t:08d}" for t in range(n_tubes - min(100, n_tubes // 2), n_tubes)}
    rows = [
        {"tube": f"BT{t:08d}", "result": "negative"}
        for t in range(n_tubes)
        if f"BT{t:08d}" not in keep
    ]
    # Time spent in status's handler of the negative results (delivered after the
    # commit of each file, inside results_import's call).
    from fangkong.status import facts as status_facts

    spent = {"status": 0.0}
    original = getattr(status_facts, "negative_results_record")  # noqa: B009 (replaced below)

    def timed(*args: Any, **kw: Any) -> int:
        t0 = time.perf_counter()
        try:
            return original(*args, **kw)
        finally:
            spent["status"] += time.perf_counter() - t0

    setattr(status_facts, "negative_results_record", timed)  # noqa: B010
    prof = _profiler()
    started = time.perf_counter()
    applied = 0
    try:
        for k in range(0, len(rows), per_file):
            applied += results_import(
                actor=actor, lab_id=lab.pk, rows=rows[k : k + per_file]
            ).applied
    finally:
        setattr(status_facts, "negative_results_record", original)  # noqa: B010
    results_s = time.perf_counter() - started
    _profile_report(prof, "results")
    ctx.say(
        f"  results: {applied:,} applied in {results_s:.1f} s, of which "
        f"{spent['status']:.1f} s in status.negative_results_record"
    )
    reports = _rows_written("screening_resultreport", list(REPORT_COLUMNS), "lab_id = %s", [lab.pk])
    # The floor: the same rows bulk-loaded into copies of the tables (indexes and
    # foreign keys), in one transaction and in the import's batches.
    loads = _floor(tubes, links, reports, tube_batch=per_batch, report_batch=per_file)
    for what, seconds in loads.items():
        ctx.say(f"  floor, {what}: {seconds:.1f} s")
    floor_links = min(v for k, v in loads.items() if k.startswith("links"))
    floor_results = min(v for k, v in loads.items() if k.startswith("results"))
    del tubes, links, reports
    ctx.state["ingested"] = True
    total, floor = links_s + results_s, floor_links + floor_results
    return [
        Figure(
            "links ingest (import path)",
            n / links_s,
            "links/s",
            floor=n / floor_links,
            higher_is_better=True,
            note=f"{n:,} links, {n_tubes:,} tubes",
        ),
        Figure(
            "results ingest without the status facts",
            applied / max(results_s - spent["status"], 1e-9),
            "rows/s",
            floor=len(rows) / floor_results,
            higher_is_better=True,
            note="tube updates, result rows (the chain's reported links)",
        ),
        Figure(
            "results ingest (import path)",
            applied / results_s,
            "rows/s",
            floor=len(rows) / floor_results,
            higher_is_better=True,
            note="with status facts",
        ),
        Figure(
            "links + results ingest, share of the bulk-load floor",
            100 * floor / total,
            "%",
            target=50.0,
            higher_is_better=True,
            note=f"scale {n:,} residents; floor: the rows the import wrote, read back and "
            "bulk-loaded into copies of the tables with their indexes and foreign keys "
            "(the cheaper of one transaction or the import's batches)",
        ),
    ]


@benchmark("screening_coverage")
def bench_coverage(ctx: Context) -> list[Figure]:
    from django.db import connection

    from fangkong.screening.selectors.coverage import coverage

    data = ensure_city(ctx)
    if "ingested" not in ctx.state:
        bench_ingest(ctx)
        ctx.state["ingested"] = True
    actor, rnd, tree = data["actor"], data["round"], data["tree"]
    _settle_database(["screening_tubemember", "screening_tube", "core_person"])
    coverage(actor, rnd, level="grid")  # warm
    started = time.perf_counter()
    rows = coverage(actor, rnd, level="grid")
    all_s = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT substr(person_scope_path, 1, 24), count(*) FROM screening_tubemember "
            "WHERE round_id = %s GROUP BY 1",
            [rnd.pk],
        )
        cur.fetchall()
    floor_all = time.perf_counter() - started
    sampled = sum(r.sampled for r in rows)
    ctx.say(f"  all grids: {len(rows)} rows, {sampled:,} sampled, {all_s * 1000:.0f} ms")
    times = []
    rng = random.Random(SEED)
    for _i in range(7):
        com = rng.choice(tree["communities"])
        started = time.perf_counter()
        coverage(actor, rnd, level="grid", under=com)
        times.append(time.perf_counter() - started)
    one = statistics.median(times)
    return [
        Figure(
            "coverage, all grids",
            all_s,
            "s",
            floor=floor_all,
            target=10.0,
            note=f"{len(rows)} grids, {sampled:,} sampled",
        ),
        Figure("coverage, one community", one * 1000, "ms", target=200.0, note="median of 7"),
    ]


@benchmark("screening_positive")
def bench_positive(ctx: Context) -> list[Figure]:
    from fangkong.screening.models import Task, Tube
    from fangkong.screening.services.results import results_import

    data = ensure_city(ctx)
    if "ingested" not in ctx.state:
        bench_ingest(ctx)
        ctx.state["ingested"] = True
    actor, rnd, lab = data["actor"], data["round"], data["lab"]
    codes = list(
        Tube.objects.filter(round=rnd, result="")
        .order_by("pk")
        .values_list("barcode", flat=True)[:100]
    )
    rows = [{"tube": c, "result": "positive", "ct_values": {"ORF1ab": 30, "N": 31}} for c in codes]
    before = Task.objects.count()
    # Time spent inside the status service (reasons_grant_many), to tell the two apart.
    from fangkong.status import facts as status_facts

    spent = {"status": 0.0}
    original = getattr(status_facts, "reasons_grant_many")  # noqa: B009 (replaced below)

    def timed(**kw: Any) -> int:
        t0 = time.perf_counter()
        try:
            return original(**kw)
        finally:
            spent["status"] += time.perf_counter() - t0

    setattr(status_facts, "reasons_grant_many", timed)  # noqa: B010
    try:
        started = time.perf_counter()
        out = results_import(actor=actor, lab_id=lab.pk, rows=rows)
        seconds = time.perf_counter() - started
    finally:
        setattr(status_facts, "reasons_grant_many", original)  # noqa: B010
    tasks = Task.objects.count() - before
    ctx.say(
        f"  {len(codes)} positive pools: {out.consequences.get('reasons', 0)} reasons, "
        f"{tasks} retest tasks in {seconds * 1000:.0f} ms"
    )
    ctx.say(
        f"  of which status.reasons_grant_many (one call): {spent['status']:.2f} s; "
        f"screening's own work {seconds - spent['status']:.2f} s"
    )
    return [
        Figure(
            "100 positive pools: screening's own work (without status)",
            seconds - spent["status"],
            "s",
            target=2.0,
        ),
        Figure(
            "100 positive pools → reasons + retest tasks",
            seconds,
            "s",
            target=2.0,
            note=f"{tasks} tasks",
        ),
    ]


@benchmark("screening_reminders")
def bench_reminders(ctx: Context) -> list[Figure]:
    """Reminders to the untested of a round: the action (what the page or the API
    waits for) and the preparation of every message, with the floor of COPY /
    executemany of the same message rows. Issue scale: 500,000 untested."""
    from django.db import connection, transaction
    from django.utils import timezone

    from fangkong.core.crypto import encrypt
    from fangkong.core.models import Jurisdiction, Person, path_upper_bound
    from fangkong.notify import services as notify_services
    from fangkong.notify.models import Message
    from fangkong.screening.services import rounds as round_services
    from fangkong.screening.services.reminders import reminders_send

    data = ensure_city(ctx)
    actor, tree, n = data["actor"], data["tree"], data["n"]
    want = ctx.size(500_000, 10_000)
    city = tree["city"]
    subs = list(
        Jurisdiction.objects.filter(
            level="subdistrict", path__gte=city.path, path__lt=path_upper_bound(city.path)
        ).order_by("path")
    )
    per_sub = max(1, n // len(subs))
    areas = subs[: max(1, min(len(subs), -(-want // per_sub)))]
    # Everyone there gets a phone (one ciphertext for all: benchmark database only).
    phone = encrypt("+8613800138000")
    with transaction.atomic():
        for a in areas:
            Person.objects.filter(
                scope_path__gte=a.path, scope_path__lt=path_upper_bound(a.path)
            ).update(phone_encrypted=phone)
    rnd = round_services.round_create(
        actor=actor,
        name="提醒基准轮次",
        area_ids=[a.pk for a in areas],
        starts_at=timezone.now() - dt.timedelta(hours=1),
        ends_at=timezone.now() + dt.timedelta(hours=23),
        pooling_ratio=RATIO,
    )
    # The worker's part is run here, timed apart (never handed to a real queue).
    handed: list[Any] = []
    original = notify_services._after_commit
    notify_services._after_commit = lambda enqueue: handed.append(enqueue)
    try:
        started = time.perf_counter()
        batch = reminders_send(actor=actor, round_id=rnd.pk, node_id=city.pk)
        action_s = time.perf_counter() - started
    finally:
        notify_services._after_commit = original
    worker_s = 0.0
    if batch.status == "preparing":
        notify_services._after_commit = lambda enqueue: handed.append(enqueue)
        try:
            started = time.perf_counter()
            notify_services.batch_prepare(batch_id=batch.pk)
            worker_s = time.perf_counter() - started
        finally:
            notify_services._after_commit = original
    batch.refresh_from_db()
    messages = Message.objects.filter(batch=batch).count()
    ctx.say(
        f"  {batch.total:,} untested in {len(areas)} subdistricts: the action {action_s:.1f} s, "
        f"the worker's preparation {worker_s:.1f} s; {messages:,} messages, "
        f"{batch.queued:,} queued or deferred"
    )
    # Floor: the same message rows bulk-loaded into a copy of the table.
    cols = [str(f.column) for f in Message._meta.concrete_fields if f.column != "id"]
    rows = _rows_written(Message._meta.db_table, cols, "batch_id = %s", [batch.pk])
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_message")
        if connection.vendor == "postgresql":
            cur.execute(
                "CREATE TABLE bench_message (LIKE notify_message INCLUDING DEFAULTS "
                "INCLUDING INDEXES INCLUDING CONSTRAINTS INCLUDING IDENTITY)"
            )
        else:
            cur.execute(
                "SELECT sql FROM sqlite_master WHERE type='table' AND name='notify_message'"
            )
            cur.execute(cur.fetchone()[0].replace('"notify_message"', '"bench_message"', 1))
            cur.execute(
                "SELECT sql FROM sqlite_master WHERE type='index' AND tbl_name='notify_message' "
                "AND sql IS NOT NULL"
            )
            for (idx,) in cur.fetchall():
                cur.execute(
                    idx.replace('"notify_message"', '"bench_message"').replace(
                        'INDEX "', 'INDEX "bench_'
                    )
                )
    floor_s = _bulk_load([[("bench_message", cols, rows)]])
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_message")
    del rows
    return [
        Figure(
            "reminders: the action (queue the batch)",
            action_s,
            "s",
            note=f"{batch.total:,} untested people; what the page or the API waits for",
        ),
        Figure(
            "reminders: every message prepared",
            action_s + worker_s,
            "s",
            floor=floor_s,
            note="floor: the same message rows bulk-loaded into a copy of the table",
        ),
    ]


# --- The scan API through gunicorn --------------------------------------------------


@benchmark("screening_scan_api")
def bench_scan_api(ctx: Context) -> list[Figure]:
    """Rounds of the scan API, of its database floor and of the empty view,
    alternating (the machine is shared: best and median of the rounds), each round
    its own people and tubes. The database floor: the scan's own statement in
    autocommit on plain psycopg connections, as many at once as the server has threads
    (no HTTP, no Python web stack): what the database alone allows on this box."""
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.bench_investigation_checkins import EMPTY_PATH
    from fangkong.core import signing
    from fangkong.core.services import api_token_create, api_token_hash
    from fangkong.screening.models import Tube, TubeMember
    from fangkong.screening.services import rounds as round_services
    from fangkong.screening.wsgi import SCAN_PATH

    if connection.vendor != "postgresql":
        ctx.say("  skipped: the API figure is measured on PostgreSQL")
        return []
    data = ensure_city(ctx)
    actor, tree, p0, n = data["actor"], data["tree"], data["p0"], data["n"]
    rounds = ctx.size(3, 2)
    seconds = ctx.size(15, 4)
    per_run = ctx.size(15_000, 2_000)  # more than a run can send in its time
    rnd = round_services.round_create(
        actor=actor,
        name="接口基准轮次",
        area_ids=[tree["city"].pk],
        starts_at=timezone.now() - dt.timedelta(hours=1),
        ends_at=timezone.now() + dt.timedelta(hours=23),
        pooling_ratio=RATIO,
    )
    tubes_per_run = per_run // RATIO + 1
    runs_of = {"api": rounds, "plain": rounds, "floor": rounds}
    with transaction.atomic():
        Tube.objects.bulk_create(
            [
                Tube(
                    barcode=f"{kind}{rnd.pk}-{r}-{t}",
                    round=rnd,
                    capacity=RATIO,
                    scope_path=tree["city"].path,
                )
                for kind, count in runs_of.items()
                for r in range(count + 1)  # + the warm-up
                for t in range(tubes_per_run)
            ],
            batch_size=5000,
        )
    _token, clear = api_token_create(actor=actor, name="bench")
    _settle_database(["screening_tubemember", "screening_tube", "core_person"])
    # People from the whole city at random, none twice: each scan a first sampling.
    rng = random.Random(f"{SEED}-api")
    people = iter(rng.sample(range(n), min(n, len(runs_of) * (rounds + 1) * per_run)))

    def bodies(kind: str, r: int, *, tokens: bool) -> list[str]:
        out = []
        for i in range(per_run):
            pid = p0 + next(people)
            # Lanes work in parallel: consecutive scans go to different tubes.
            barcode = f"{kind}{rnd.pk}-{r}-{i % tubes_per_run}"
            if tokens:
                out.append(
                    json.dumps({"barcode": barcode, "person_token": signing.person_token(pid)})
                )
            else:
                out.append(json.dumps({"barcode": barcode, "person_id": pid}))
        return out

    env = server_env()
    results: dict[str, list[dict[str, Any]]] = {"api": [], "plain": [], "floor": [], "empty": []}
    token_hash = api_token_hash(clear)
    auth = (f"Authorization: Bearer {clear}",)
    app = "bench.bench_investigation_checkins:floor_wsgi()"

    def scans(kind: str, r: int) -> list[Request]:
        return [post(SCAN_PATH, b) for b in bodies(kind, r, tokens=True)]

    # Two servers, alike but for the fast paths in front of Django (off: the API is
    # ninja behind the whole middleware stack), loaded in turn.
    with (
        Server(app, env=env) as fast,
        Server(app, env={**env, "FANGKONG_FASTPATHS": "0"}) as plain,
    ):
        workers, threads = fast.workers, fast.threads
        # Warm-up: every worker loaded, every connection open.
        fast.load(scans("api", rounds)[:600], seconds=5, headers=auth)
        plain.load(scans("plain", rounds)[:600], seconds=5, headers=auth)
        _db_floor(
            env, bodies("floor", rounds, tokens=False)[:600], workers * threads, 5, token_hash
        )
        for r in range(rounds):
            for key in ("api", "plain", "floor", "empty"):
                if key == "floor":
                    cpu0 = fast.cpu_seconds()
                    result = _db_floor(
                        env,
                        bodies("floor", r, tokens=False),
                        workers * threads,
                        seconds,
                        token_hash,
                    )
                    result["server_cpu_ms"] = (
                        (fast.cpu_seconds() - cpu0) / max(1, result["done"]) * 1000
                    )
                elif key == "empty":
                    result = fast.load(
                        [post(EMPTY_PATH, "{}")] * per_run, seconds=seconds, headers=auth
                    )
                else:
                    server = fast if key == "api" else plain
                    result = server.load(scans(key, r), seconds=seconds, headers=auth)
                results[key].append(result)
                ctx.say(run_line(f"round {r + 1} {key:5}", result))
    stored = TubeMember.objects.filter(round=rnd).count()
    sent = sum(x["statuses"].get("200", 0) for x in results["api"])
    ctx.say(f"  {stored:,} links stored ({sent:,} API scans answered 200 in the rounds)")

    def best(key: str) -> dict[str, Any]:
        return best_run(results[key])

    def median(key: str) -> float:
        return median_rps(results[key])

    ratios = [
        f["rps"] / a["rps"]
        for a, f in zip(results["api"], results["floor"], strict=True)
        if a["rps"]
    ]
    note = f"gunicorn {workers}x{threads} gthread, 32 connections, {rounds} rounds of {seconds} s"
    return [
        Figure(
            "scan API (person into tube), best round",
            best("api")["rps"],
            "req/s",
            floor=best("floor")["rps"],
            target=500.0,
            higher_is_better=True,
            note=f"{note}; floor: the fast path's statement (autocommit) on "
            f"{workers * threads} plain connections",
        ),
        Figure(
            "scan API (person into tube), median round",
            median("api"),
            "req/s",
            floor=median("floor"),
            target=500.0,
            higher_is_better=True,
            note=f"per-round floor/API ratios {', '.join(f'{x:.2f}' for x in ratios)}; "
            f"empty view (Django + middleware only) median {median('empty'):.0f}/s",
        ),
        Figure(
            "scan API without its fast path (plain Django), best round",
            best("plain")["rps"],
            "req/s",
            floor=best("floor")["rps"],
            target=500.0,
            higher_is_better=True,
            note=f"FANGKONG_FASTPATHS=0: ninja behind the whole middleware stack; median "
            f"{median('plain'):.0f}/s; server CPU "
            f"{statistics.median(x['server_cpu_ms'] for x in results['plain']):.2f} ms/request",
        ),
        Figure(
            "scan API p99 (best round)",
            best("api")["p99_ms"],
            "ms",
            floor=best("floor")["p99_ms"],
            note="floor: the database floor's p99 in its best round",
        ),
        Figure(
            "scan API server CPU per request",
            statistics.median(x["server_cpu_ms"] for x in results["api"]),
            "ms",
            note="gunicorn processes only (median of rounds); empty view "
            f"{statistics.median(x['server_cpu_ms'] for x in results['empty']):.2f} ms",
        ),
    ]


def _run_child(mode: str, bodies: list[str], seconds: float, args: list[str]) -> dict[str, Any]:
    """``python -m bench.bench_screening <mode> <args[0]> <bodies file> <args[1:]...>``:
    a load in its own process; its last line of output is the JSON result."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        fh.write("\n".join(bodies))
        bodies_path = fh.name
    try:
        out = subprocess.run(  # noqa: S603 - our own module
            [sys.executable, "-m", "bench.bench_screening", mode, args[0], bodies_path, *args[1:]],
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            check=False,
            timeout=seconds + 120,
        )
    finally:
        os.unlink(bodies_path)
    if out.returncode != 0:
        raise RuntimeError(f"{mode} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _db_floor(
    env: dict[str, str], bodies: list[str], connections: int, seconds: float, token_hash: str
) -> dict[str, Any]:
    """The database floor in a child process (``dbfloor``): the scan's statement."""
    args = [env["DATABASE_URL"], str(connections), str(seconds), token_hash]
    return _run_child("dbfloor", bodies, seconds, args)


def dbfloor_main(argv: list[str]) -> None:
    """Threads on plain psycopg connections in autocommit, each scan the fast path's
    one prepared statement (the device's token checked, the tube locked, the person
    and their links, the rules, the link inserted and the count raised), committed as
    it ends."""
    import threading

    import django
    import psycopg

    django.setup()  # only to import the service's statement
    from fangkong.screening.services.sampling import SCAN_BY_TOKEN_PREPARED as statement

    url, path, connections, limit, token_hash = (
        argv[0],
        argv[1],
        int(argv[2]),
        float(argv[3]),
        argv[4],
    )
    work = [json.loads(line) for line in Path(path).read_text().splitlines() if line]
    work.reverse()
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    conns = [psycopg.connect(url, autocommit=True) for _i in range(connections)]
    for conn in conns:
        conn.execute(statement.prepare)  # prepared once on each, as the service does
    deadline = 0.0

    def worker(conn: Any) -> None:
        while time.perf_counter() < deadline:
            with lock:
                if not work:
                    return
                item = work.pop()
            t0 = time.perf_counter()
            with psycopg.ClientCursor(conn) as cur:  # the service's statement as it sends it
                params = {
                    "token_hash": token_hash,
                    "capability": "screening.sample",
                    "barcode": item["barcode"],
                    "person": item["person_id"],
                    "at": dt.datetime.now(dt.UTC),
                }
                cur.execute(statement.execute, [params[k] for k in statement.keys])
                status = "200" if cur.fetchone() is not None else "409"
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    deadline = started + limit
    pool = [threading.Thread(target=worker, args=(c,)) for c in conns]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    took = time.perf_counter() - started
    for c in conns:
        c.close()
    latencies.sort()
    done = len(latencies)
    print(
        json.dumps(
            {
                "done": done,
                "seconds": took,
                "rps": done / took if took else 0.0,
                "p50_ms": latencies[done // 2] * 1000 if done else None,
                "p99_ms": latencies[min(done - 1, int(done * 0.99))] * 1000 if done else None,
                "statuses": statuses,
            }
        )
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "dbfloor":
        dbfloor_main(sys.argv[2:])
