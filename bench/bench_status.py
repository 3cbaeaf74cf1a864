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
The load generator is this module run as a script (``python -m bench.bench_status
loadgen ...``); it needs no Django.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.runner import Context, Figure, benchmark

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

    from bench.bench_investigation_checkins import _buildings, _copy_rows
    from fangkong.core.models import Person
    from fangkong.status.models import PersonStatus, StatusPolicy

    n = ctx.size(1_000_000, 100_000)
    buildings = _buildings()
    created = connection.ops.adapt_datetimefield_value(timezone.now())
    first = int(Person.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    t0 = time.perf_counter()
    _copy_rows(
        Person._meta.db_table,
        [
            "id",
            "created_at",
            "updated_at",
            "doc_type",
            "doc_number_encrypted",
            "doc_hash",
            "doc_masked",
            "name",
            "sex",
            "phone_encrypted",
            "phone_hash",
            "phone_masked",
            "scope_path",
            "home_unit",
            "limited_mobility",
            "language",
        ],
        (
            (
                first + i,
                created,
                created,
                "other",
                "-",
                f"stbench{i:08d}",
                "S*****",
                "居民",
                "U",
                "",
                "",
                "",
                buildings[i % len(buildings)][1],
                "",
                False,
                "zh-hans",
            )
            for i in range(n)
        ),
    )

    def level(i: int) -> tuple[str, int]:
        r = i % 100
        return ("red", 40) if r < 2 else ("yellow", 20) if r < 10 else ("green", 0)

    _copy_rows(
        PersonStatus._meta.db_table,
        ["person_id", "level", "severity", "valid_until", "changed_at"],
        ((first + i, *level(i), None, created) for i in range(n)),
    )
    from django.core.management.color import no_style

    with connection.cursor() as cur:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Person]):
            cur.execute(sql)
    # Every load comes from one address: lift the per-address limit (data).
    StatusPolicy.objects.update(check_rate_per_minute=1_000_000_000)
    ctx.say(f"  {n:,} people with a status row in {time.perf_counter() - t0:.1f} s")
    state = {"first": first, "people": n}
    ctx.state["statuses"] = state
    return dict(state)


# --- (a) the check API through gunicorn ----------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


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


def _loadgen(port: int, paths: list[str], *, connections: int, rate: float, limit: float) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write("\n".join(paths))
        name = fh.name
    try:
        out = subprocess.run(  # noqa: S603 - our own module
            [
                sys.executable,
                "-m",
                "bench.bench_status",
                "loadgen",
                str(port),
                name,
                str(connections),
                str(rate),
                str(limit),
            ],
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            check=False,
            timeout=limit + 60,
        )
    finally:
        os.unlink(name)
    if out.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


@benchmark("status_check_api")
def bench_check_api(ctx: Context) -> list[Figure]:
    from bench.bench_core import child_env
    from fangkong.status.tokens import status_token

    data = ensure_statuses(ctx)
    rng = random.Random(SEED)
    people = [data["first"] + rng.randrange(data["people"]) for _i in range(5000)]
    tokens = [status_token(pid) for pid in people]
    check_paths = [CHECK_PATH + t for t in tokens]
    n_closed = ctx.size(30_000, 6_000)
    n_open = ctx.size(20_000, 4_000)
    workers = int(os.environ.get("FANGKONG_BENCH_GUNICORN_WORKERS", "3"))
    port = _free_port()
    env = child_env()
    env["FANGKONG_AXES_DISABLED"] = "1"
    env["LOG_LEVEL"] = "WARNING"
    redis = _redis_url()
    if redis:
        env["REDIS_URL"] = redis
    cache_name = "Redis" if redis else "per-process memory"
    server = subprocess.Popen(  # noqa: S603 - our own server
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "bench.bench_status_server:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            "2",
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ],
        cwd=BASE_DIR,
        env=env,
    )
    try:
        _wait_for(port)
        time.sleep(3)
        if redis:
            import redis as redis_lib

            redis_lib.Redis.from_url(redis).flushdb()
        # Warm: every token once (fills the status cache), then the floor once.
        warm = _loadgen(port, check_paths, connections=16, rate=0, limit=120)
        if warm["statuses"].get("200", 0) < len(check_paths) * 0.99:
            raise RuntimeError(f"check API answered {warm['statuses']}")
        floor_paths = [FLOOR_PATH] * n_closed
        paths = [check_paths[i % len(check_paths)] for i in range(n_closed)]
        ctx.say(f"  gunicorn: {workers} gthread workers x 2 threads; cache: {cache_name}")
        floor = _loadgen(port, floor_paths, connections=32, rate=0, limit=90)
        check = _loadgen(port, paths, connections=32, rate=0, limit=90)
        plain_paths = [PLAIN_PATH + tokens[i % len(tokens)] for i in range(n_closed)]
        plain = _loadgen(port, plain_paths, connections=32, rate=0, limit=90)
        floor2 = _loadgen(port, floor_paths, connections=32, rate=0, limit=90)
        floor_rps = max(floor["rps"], floor2["rps"])
        paced = [check_paths[i % len(check_paths)] for i in range(n_open)]
        open_check = _loadgen(port, paced, connections=64, rate=1000, limit=60)
        open_floor = _loadgen(port, [FLOOR_PATH] * n_open, connections=64, rate=1000, limit=60)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    ctx.say(
        f"  closed loop: checks {check['rps']:.0f}/s (p50 {check['p50_ms']:.1f} ms, p99 "
        f"{check['p99_ms']:.1f} ms; {check['statuses']}), floor {floor['rps']:.0f}/s and "
        f"{floor2['rps']:.0f}/s (p99 {floor['p99_ms']:.1f} ms)"
    )
    ctx.say(
        f"  the same check as a plain Django view (/status/check): {plain['rps']:.0f}/s "
        f"(p99 {plain['p99_ms']:.1f} ms; {plain['statuses']})"
    )
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


# --- The load generator (a separate process; no Django) -------------------------------


async def _load(
    port: int, paths: list[str], connections: int, rate: float, limit: float
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    queue = list(reversed(paths))
    start = time.perf_counter()
    deadline = start + limit
    interval = 1.0 / rate if rate else 0.0
    issued = {"n": 0}

    async def client() -> None:
        reader = writer = None
        while queue and time.perf_counter() < deadline:
            if interval:
                # Open loop: request k is due at start + k * interval.
                due = start + issued["n"] * interval
                issued["n"] += 1
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            else:
                due = time.perf_counter()
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            if not queue:  # emptied by another client while this one waited
                break
            path = queue.pop()
            request = (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"
            ).encode()
            assert reader is not None
            try:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError):
                writer.close()
                reader = writer = None
                queue.append(path)
                continue
            lines = head.decode("latin-1").split("\r\n")
            status = lines[0].split(" ")[1]
            length, close = 0, False
            for line in lines[1:]:
                key, _sep, value = line.partition(":")
                if key.lower() == "content-length":
                    length = int(value.strip())
                elif key.lower() == "connection" and value.strip().lower() == "close":
                    close = True
            if length:
                await reader.readexactly(length)
            # Latency from when the request was due (open loop: includes queueing).
            latencies.append(time.perf_counter() - due)
            statuses[status] = statuses.get(status, 0) + 1
            if close:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    await asyncio.gather(*(client() for _i in range(connections)))
    seconds = time.perf_counter() - start
    latencies.sort()
    done = len(latencies)

    def pct(p: float) -> float:
        return latencies[min(done - 1, int(done * p))] * 1000 if done else 0.0

    return {
        "done": done,
        "seconds": seconds,
        "rps": done / seconds if seconds else 0.0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": statistics.fmean(latencies) * 1000 if done else 0.0,
        "statuses": statuses,
    }


def main(argv: list[str]) -> None:
    _cmd, port, path, connections, rate, limit = argv
    paths = Path(path).read_text().splitlines()
    result = asyncio.run(_load(int(port), paths, int(connections), float(rate), float(limit)))
    print(json.dumps(result))


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "loadgen":
    main(sys.argv[1:])
