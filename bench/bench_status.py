"""Figures of issue 4 (risk status).

The data: 1,000,000 people (quick: 100,000) as minimal rows inserted directly (no
encryption: benchmark database only), each with a cached status row (90 % green,
8 % yellow, 2 % red).

(a) ``status_check_api``: ``GET /api/v1/status/check?token=...`` (and the same
    check behind a plain Django view, ``/status/check``) through gunicorn
    on 127.0.0.1, driven by a load generator in a separate process (asyncio, raw
    HTTP/1.1 keep-alive). Floor: a bare Django view returning a constant JSON on
    the same server (same middleware, same workers), measured in the same run.
    Closed loop (32 connections, as fast as the server answers): checks/s and its
    share of the floor's rate (target >= 70 %). Open loop at 1,000 checks/s: p99
    (target < 20 ms). Tokens of 5,000 people, each checked once before the
    measured runs so the measured path is the cached one.
(b) ``status_zone_recompute``: ``reasons_grant(kind="sealed_zone")`` for 100,000
    people (quick: 20,000) in one call: reasons inserted, effective status
    recomputed, one notify batch. Floor: the same reason rows inserted with
    executemany/COPY and the status rows updated by one raw UPDATE per chunk, in
    the same database (then rolled back). Target < 30 s.

Run: ``fangkong bench --only status_check_api`` (``--quick`` for reduced sizes).
The server and the load generator are ``bench.runner``'s.
"""

from __future__ import annotations

import os
import random
import socket
import time
from pathlib import Path
from typing import Any

from bench.runner import Context, Figure, Server, benchmark, get, run_line, server_env

SEED = 1004
BASE_DIR = Path(__file__).resolve().parent.parent
FLOOR_PATH = "/bench/floor"
CHECK_PATH = "/api/v1/status/check?token="
PLAIN_PATH = "/status/check?token="


# --- The data --------------------------------------------------------------------


def ensure_statuses(ctx: Context) -> dict[str, Any]:
    """People and one status row each (built once per run)."""
    if "statuses" in ctx.state:
        return dict(ctx.state["statuses"])
    from django.db import connection
    from django.utils import timezone

    from bench.bench_investigation_checkins import _buildings
    from bench.runner import copy_rows, people_load
    from fangkong.status.models import PersonStatus, StatusPolicy

    n = ctx.size(1_000_000, 100_000)
    buildings = _buildings()
    created = connection.ops.adapt_datetimefield_value(timezone.now())
    t0 = time.perf_counter()
    first = people_load(n, tag="stbench", place=lambda i: (None, buildings[i % len(buildings)][1]))

    def level(i: int) -> tuple[str, int]:
        r = i % 100
        return ("red", 40) if r < 2 else ("yellow", 20) if r < 10 else ("green", 0)

    copy_rows(
        PersonStatus._meta.db_table,
        ["person_id", "level", "severity", "valid_until", "changed_at"],
        ((first + i, *level(i), None, created) for i in range(n)),
    )
    # Every load comes from one address: lift the per-address limit (data).
    StatusPolicy.objects.update(check_rate_per_minute=1_000_000_000)
    ctx.say(f"  {n:,} people with a status row in {time.perf_counter() - t0:.1f} s")
    state = {"first": first, "people": n}
    ctx.state["statuses"] = state
    return dict(state)


# --- (a) the check API through gunicorn ----------------------------------------------


def _redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if url:
        return url
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.3) as s:
            s.sendall(b"PING\r\n")
            if s.recv(16).startswith(b"+PONG"):
                return "redis://127.0.0.1:6379/14"
    except OSError:
        pass
    return ""


@benchmark("status_check_api")
def bench_check_api(ctx: Context) -> list[Figure]:
    from fangkong.status.tokens import status_token

    data = ensure_statuses(ctx)
    rng = random.Random(SEED)
    people = [data["first"] + rng.randrange(data["people"]) for _i in range(5000)]
    tokens = [status_token(pid) for pid in people]
    check_paths = [CHECK_PATH + t for t in tokens]
    n_closed = ctx.size(30_000, 6_000)
    n_open = ctx.size(20_000, 4_000)
    env = server_env()
    redis = _redis_url()
    if redis:
        env["REDIS_URL"] = redis
    cache_name = "Redis" if redis else "per-process memory"
    app = "bench.bench_status_server:application"
    # A second server without the fast paths in front of Django (the API is then
    # ninja behind the whole middleware stack), loaded in its turn.
    with (
        Server(app, env=env, threads=2) as server,
        Server(app, env={**env, "FANGKONG_FASTPATHS": "0"}, threads=2) as without,
    ):
        if redis:
            import redis as redis_lib

            redis_lib.Redis.from_url(redis).flushdb()
        # Warm: every token once (fills the status cache), then the floor once.
        warm = server.load([get(p) for p in check_paths], connections=16, seconds=120)
        if warm["statuses"].get("200", 0) < len(check_paths) * 0.99:
            raise RuntimeError(f"check API answered {warm['statuses']}")
        floor_paths = [get(FLOOR_PATH)] * n_closed
        paths = [get(check_paths[i % len(check_paths)]) for i in range(n_closed)]
        ctx.say(f"  {server.shape}; cache: {cache_name}")
        floor = server.load(floor_paths, seconds=90)
        check = server.load(paths, seconds=90)
        plain_paths = [get(PLAIN_PATH + tokens[i % len(tokens)]) for i in range(n_closed)]
        plain = server.load(plain_paths, seconds=90)
        without.load(paths[:2000], seconds=30)  # warm-up: every worker loaded
        api_plain = without.load(paths, seconds=90)
        floor2 = server.load(floor_paths, seconds=90)
        floor_rps = max(floor["rps"], floor2["rps"])
        paced = [get(check_paths[i % len(check_paths)]) for i in range(n_open)]
        open_check = server.load(paced, connections=64, rate=1000, seconds=60)
        open_floor = server.load([get(FLOOR_PATH)] * n_open, connections=64, rate=1000, seconds=60)
    ctx.say(
        f"  closed loop: checks {check['rps']:.0f}/s (p50 {check['p50_ms']:.1f} ms, p99 "
        f"{check['p99_ms']:.1f} ms; {check['statuses']}), floor {floor['rps']:.0f}/s and "
        f"{floor2['rps']:.0f}/s (p99 {floor['p99_ms']:.1f} ms)"
    )
    ctx.say(
        f"  the same check as a plain Django view (/status/check): {plain['rps']:.0f}/s "
        f"(p99 {plain['p99_ms']:.1f} ms; {plain['statuses']})"
    )
    ctx.say(run_line("the API without its fast path", api_plain))
    ctx.say(
        f"  open loop at 1,000/s: checks {open_check['rps']:.0f}/s p50 "
        f"{open_check['p50_ms']:.1f} ms p99 {open_check['p99_ms']:.1f} ms; floor p99 "
        f"{open_floor['p99_ms']:.1f} ms; load average {os.getloadavg()[0]:.1f}"
    )
    return [
        Figure(
            "status check API (cached path)",
            check["rps"],
            "checks/s",
            floor=floor_rps,
            target=0.7 * floor_rps,
            higher_is_better=True,
            note=f"floor: constant-JSON Django view, same server; {people_note(data)}; "
            f"cache {cache_name}",
        ),
        Figure(
            "status check, plain Django view (no API framework)",
            plain["rps"],
            "checks/s",
            floor=floor_rps,
            target=0.7 * floor_rps,
            higher_is_better=True,
            note="/status/check: same code behind a plain view; same server and run",
        ),
        Figure(
            "status check API without its fast path (plain Django)",
            api_plain["rps"],
            "checks/s",
            floor=floor_rps,
            target=0.7 * floor_rps,
            higher_is_better=True,
            note="FANGKONG_FASTPATHS=0: ninja behind the whole middleware stack; server CPU "
            f"{api_plain['server_cpu_ms']:.2f} ms/check (with the fast path "
            f"{check['server_cpu_ms']:.2f}, plain view {plain['server_cpu_ms']:.2f}, constant "
            f"view {floor['server_cpu_ms']:.2f})",
        ),
        Figure(
            "status check API p99 at 1,000 checks/s",
            open_check["p99_ms"],
            "ms",
            floor=open_floor["p99_ms"],
            target=20.0,
            note=f"achieved {open_check['rps']:.0f}/s; floor = constant view at 1,000/s",
        ),
    ]


def people_note(data: dict[str, Any]) -> str:
    return f"{data['people']:,} people with a status row"


# --- (b) recomputing after a zone is declared ----------------------------------------


@benchmark("status_zone_recompute")
def bench_zone_recompute(ctx: Context) -> list[Figure]:
    from django.db import connection, transaction
    from django.utils import timezone

    from fangkong.status.models import PersonStatus, Reason
    from fangkong.status.services import reasons_grant

    data = ensure_statuses(ctx)
    n = ctx.size(100_000, 20_000)
    ids = list(range(data["first"], data["first"] + n))
    t0 = time.perf_counter()
    created = reasons_grant(
        kind="sealed_zone", person_ids=ids, source_type="zones.zone", source_id=900_000
    )
    seconds = time.perf_counter() - t0
    reds = PersonStatus.objects.filter(person_id__in=ids[:1000], level="red").count()
    assert created == n and reds == 1000, (created, reds)
    # Floor: the same rows written the cheapest way, then rolled back.
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    table = Reason._meta.db_table
    cols = [
        "person_id",
        "level",
        "kind",
        "source_type",
        "source_id",
        "starts_at",
        "negatives",
        "ended_how",
        "created_at",
    ]
    rows = [(pid, "red", "sealed_zone", "zones.zone", 900_001, now, "[]", "", now) for pid in ids]
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        marks = ", ".join(["%s"] * len(cols))
        cur.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", rows)
        st = PersonStatus._meta.db_table
        for i in range(0, n, 2000):
            part = ids[i : i + 2000]
            cur.execute(
                f"UPDATE {st} SET level = 'red', severity = 40, changed_at = %s "  # noqa: S608
                f"WHERE person_id IN ({', '.join(['%s'] * len(part))})",
                [now, *part],
            )
        floor = time.perf_counter() - t0
        transaction.set_rollback(True)
    ctx.say(
        f"  {n:,} people: reasons_grant {seconds:.1f} s (floor {floor:.1f} s: raw insert + "
        f"raw update, no notify)"
    )
    return [
        Figure(
            f"recompute after a zone is declared ({n:,} people)",
            seconds,
            "s",
            floor=floor,
            target=30.0 if n >= 100_000 else None,
            note="reasons inserted, status recomputed, cache written, one notify batch",
        )
    ]
