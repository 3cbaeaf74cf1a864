"""A tiny benchmark framework.

Each ``bench/bench_<module>.py`` registers benchmarks with ``@benchmark("name")``;
a benchmark receives the run's ``Context`` and returns ``Figure`` rows. Every
figure carries its value, a *floor* (the same work done the cheapest way we
know, measured in the same run: raw SQL, raw inserts) and a target from the
issue. The runner prints one table and writes ``bench/results/<date>.json``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import pkgutil
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class Figure:
    name: str
    value: float | None
    unit: str
    floor: float | None = None
    target: float | None = None
    higher_is_better: bool = False
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """How far from the floor: value/floor (time) or floor/value (rates); 1.0 is the floor."""
        if self.value is None or not self.floor:
            return None
        if self.higher_is_better:
            return self.floor / self.value if self.value else None
        return self.value / self.floor

    @property
    def passed(self) -> bool | None:
        if self.value is None or self.target is None:
            return None
        if self.higher_is_better:
            return self.value >= self.target
        return self.value < self.target

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "passed": self.passed}


@dataclass
class Context:
    quick: bool
    say: Callable[[str], None] = print
    state: dict[str, Any] = field(default_factory=dict)

    def size(self, full: int, quick: int) -> int:
        return quick if self.quick else full


Benchmark = Callable[[Context], list[Figure]]
REGISTRY: dict[str, Benchmark] = {}


def benchmark(name: str) -> Callable[[Benchmark], Benchmark]:
    def register(fn: Benchmark) -> Benchmark:
        REGISTRY[name] = fn
        return fn

    return register


def discover() -> list[str]:
    """Import every ``bench/bench_*.py`` so their benchmarks register (in file order)."""
    folder = Path(__file__).resolve().parent
    for info in sorted(pkgutil.iter_modules([str(folder)]), key=lambda m: m.name):
        if info.name.startswith("bench_"):
            importlib.import_module(f"bench.{info.name}")
    return list(REGISTRY)


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(figures: list[Figure]) -> str:
    head = ["figure", "value", "floor", "ratio", "target", "pass/short"]
    rows = []
    for f in figures:
        verdict = {True: "pass", False: "SHORT", None: "-"}[f.passed]
        if f.value is None:
            verdict = "FAILED"
        target = (
            "-" if f.target is None else (">= " if f.higher_is_better else "< ") + _fmt(f.target)
        )
        rows.append(
            [
                f.name,
                f"{_fmt(f.value)} {f.unit}",
                f"{_fmt(f.floor)} {f.unit}" if f.floor is not None else "-",
                "-" if f.ratio is None else f"{f.ratio:.2f}x",
                f"{target} {f.unit}" if f.target is not None else "-",
                verdict,
            ]
        )
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)), line]
    for r in rows:
        out.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
    return "\n".join(out)


def write_results(
    figures: list[Figure],
    *,
    quick: bool,
    database: str,
    seconds: float,
    folder: Path = RESULTS_DIR,
    today: dt.date | None = None,
) -> Path:
    """Write (or update) the day's file: figures of this run replace those of the
    same name, figures of other benchmarks run earlier that day are kept."""
    folder.mkdir(parents=True, exist_ok=True)
    day = today or dt.date.today()
    # FANGKONG_BENCH_RESULTS_TAG=investigation-postgresql writes <date>-<tag>.json
    # (one module's figures apart from the day's shared file).
    tag = os.environ.get("FANGKONG_BENCH_RESULTS_TAG", "").strip()
    path = folder / (f"{day.isoformat()}-{tag}.json" if tag else f"{day.isoformat()}.json")
    try:
        earlier = json.loads(path.read_text(encoding="utf-8")).get("figures", [])
    except (OSError, ValueError):
        earlier = []
    mine = [{**f.as_dict(), "quick": quick, "database": database} for f in figures]
    names = {f["name"] for f in mine}
    kept = [f for f in earlier if isinstance(f, dict) and f.get("name") not in names]
    try:
        load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    payload = {
        "date": day.isoformat(),
        "quick": quick,
        "database": database,
        "seconds": round(seconds, 1),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_at_end": load,
        },
        "figures": kept + mine,
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def run(
    names: list[str] | None = None,
    *,
    quick: bool = False,
    say: Callable[[str], None] = print,
    on_result: Callable[[list[Figure], float], None] | None = None,
) -> tuple[list[Figure], float]:
    """Run the chosen benchmarks (all by default) in registration order."""
    available = discover() if not REGISTRY else list(REGISTRY)
    chosen = names or available
    unknown = [n for n in chosen if n not in REGISTRY]
    if unknown:
        raise KeyError(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(available)}")
    ctx = Context(quick=quick, say=say)
    started = time.perf_counter()
    figures: list[Figure] = []
    for name in available:
        if name not in chosen:
            continue
        say(f"== {name}")
        try:
            got = REGISTRY[name](ctx)
        except Exception as exc:  # one broken benchmark must not lose the others' figures
            say(f"   {name} failed: {exc!r}")
            got = [Figure(f"{name}: failed", None, "", note=repr(exc)[:300])]
        figures.extend(got)
        say(table(got))
        if on_result is not None:
            on_result(figures, time.perf_counter() - started)
    return figures, time.perf_counter() - started


# --- The harness the benchmarks share -----------------------------------------------
# Bulk loading (COPY on PostgreSQL, executemany on SQLite), minimal people rows, and
# the HTTP pieces: a gunicorn server of the application, the CPU its processes used,
# and one load generator run as a separate process (``python -m bench.runner
# loadgen SPEC``; it needs no Django). Django is imported inside the functions that
# use it, so the load generator starts bare.

BASE_DIR = Path(__file__).resolve().parent.parent


def copy_rows(table: str, columns: list[str], rows: Any, *, fk_off: bool = False) -> None:
    """Bulk load in one transaction (joins the caller's): COPY (PostgreSQL) or
    executemany in chunks (SQLite). ``fk_off``: without foreign-key checks."""
    from django.db import connection, transaction

    cols = ", ".join(columns)
    if fk_off and connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("PRAGMA foreign_keys = OFF")
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            if fk_off:
                cur.execute("SET LOCAL session_replication_role = replica")
            with cur.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        insert = f"INSERT INTO {table} ({cols}) VALUES ({marks})"  # noqa: S608
        batch: list[Any] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 50_000:
                cur.executemany(insert, batch)
                batch = []
        if batch:
            cur.executemany(insert, batch)


def next_id(model: Any) -> int:
    """The id after the model's highest."""
    return int(model.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1


def people_load(
    n: int,
    *,
    tag: str,
    place: Callable[[int], tuple[int | None, str]],
    phone_encrypted: str = "",
    phone_masked: str = "",
    name: Callable[[int], str] = lambda i: "居民",
    limited_mobility: Callable[[int], bool] = lambda i: False,
) -> int:
    """``n`` minimal people (no encryption of documents: benchmark databases only),
    person ``i`` at ``place(i)`` = (home building id or None, tree path), named
    ``name(i)``; their document hashes ``<tag><i>``. Returns the first id (they are
    consecutive)."""
    from django.core.management.color import no_style
    from django.db import connection
    from django.utils import timezone

    from fangkong.core.models import Person

    created = connection.ops.adapt_datetimefield_value(timezone.now())
    first = next_id(Person)
    masked = tag[:1].upper() + "*****"

    def rows() -> Any:
        for i in range(n):
            home, path = place(i)
            yield (
                first + i,
                created,
                created,
                "other",
                "-",
                f"{tag}{i:08d}",
                masked,
                name(i),
                "U",
                phone_encrypted,
                "",
                phone_masked,
                home,
                path,
                "",
                limited_mobility(i),
                "zh-hans",
            )

    columns = [
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
        "home_id",
        "scope_path",
        "home_unit",
        "limited_mobility",
        "language",
    ]
    copy_rows(Person._meta.db_table, columns, rows())
    with connection.cursor() as cur:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Person]):
            cur.execute(sql)
    return first


def child_env() -> dict[str, str]:
    """The environment of a child process (a server, a clean process) pointed at the
    benchmark database."""
    from django.db import connection

    env = dict(os.environ)
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{s['NAME']}"
    else:
        auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
        env["DATABASE_URL"] = (
            f"postgresql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        )
    env["DJANGO_SETTINGS_MODULE"] = "fangkong.settings"
    return env


def server_env(**extra: str) -> dict[str, str]:
    """A benchmark server's environment: the benchmark database, no login lock-outs
    (every request comes from one address), warnings only in the log."""
    env = child_env()
    env["FANGKONG_AXES_DISABLED"] = "1"
    env["LOG_LEVEL"] = "WARNING"
    env.update(extra)
    return env


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """gunicorn serving ``app`` (a WSGI spec such as ``fangkong.wsgi:application``) on
    127.0.0.1 with gthread workers; a context manager that waits until it listens and
    its workers have booted (then ``settle`` seconds more) and stops it on exit."""

    def __init__(
        self,
        app: str,
        *,
        env: dict[str, str],
        workers: int | None = None,
        threads: int | None = None,
        settle: float = 3.0,
    ) -> None:
        self.app = app
        self.env = env
        self.workers = workers or int(os.environ.get("FANGKONG_BENCH_GUNICORN_WORKERS", "3"))
        self.threads = threads or int(os.environ.get("FANGKONG_BENCH_GUNICORN_THREADS", "4"))
        self.settle = settle
        self.port = free_port()
        self.process: Any = None

    @property
    def shape(self) -> str:
        return f"gunicorn {self.workers}x{self.threads} gthread"

    def __enter__(self) -> Server:
        import subprocess
        import sys

        self.process = subprocess.Popen(  # noqa: S603 - our own server
            [
                str(Path(sys.executable).parent / "gunicorn"),
                self.app,
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--worker-class",
                "gthread",
                "--threads",
                str(self.threads),
                "--keep-alive",
                "30",
                "--log-level",
                "warning",
            ],
            cwd=BASE_DIR,
            env=self.env,
        )
        try:
            self._wait()
            self._until_idle()
        except BaseException:
            self.__exit__()
            raise
        time.sleep(self.settle)
        return self

    def _until_idle(self, seconds: float = 180) -> None:
        """Until the workers have booted: their CPU time stops growing (on a busy
        machine booting several workers takes long; the first answer proves only one)."""
        deadline = time.time() + seconds
        before = self.cpu_seconds()
        while time.time() < deadline:
            time.sleep(1.0)
            now = self.cpu_seconds()
            if now - before < 0.05 and len(family(self.process.pid)) > self.workers:
                return
            before = now

    def _wait(self, seconds: float = 60) -> None:
        import socket

        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc: object) -> None:
        import subprocess

        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.process = None

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server's processes so far (Linux /proc)."""
        return cpu_seconds(family(self.process.pid))

    def load(self, requests: list[Request], **options: Any) -> dict[str, Any]:
        """``http_load`` against this server, with the server's CPU time per request
        (``server_cpu_ms``) of the run."""
        cpu0 = self.cpu_seconds()
        result = http_load(self.port, requests, **options)
        result["server_cpu_ms"] = (self.cpu_seconds() - cpu0) / max(1, result["done"]) * 1000
        return result


def family(pid: int) -> list[int]:
    """A process and its children (gunicorn's master and workers)."""
    out = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of live processes (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


# One request of a load: (method, path, body); the body is sent as JSON when given.
Request = tuple[str, str, str]


def get(path: str) -> Request:
    return ("GET", path, "")


def post(path: str, body: str) -> Request:
    return ("POST", path, body)


def http_load(
    port: int,
    requests: list[Request],
    *,
    seconds: float,
    connections: int = 32,
    rate: float = 0.0,
    headers: tuple[str, ...] = (),
    cycle: bool = False,
    unique: bool = False,
) -> dict[str, Any]:
    """Send ``requests`` over keep-alive HTTP/1.1 connections (a separate process) for
    at most ``seconds``: each once, in order (``cycle``: round and round until the
    time is up). Closed loop (as fast as the server answers) unless ``rate`` sets an
    open loop (request k due at start + k / rate; its latency counts from then).
    ``headers``: extra header lines (``"Authorization: Bearer ..."``); ``unique``: a
    distinct query string on every request (past any cache). Returns done, seconds,
    rps, p50_ms, p99_ms, mean_ms, statuses (count per status code) and bytes (the
    last body's size)."""
    import subprocess
    import sys
    import tempfile

    spec = {
        "port": port,
        "requests": requests,
        "seconds": seconds,
        "connections": connections,
        "rate": rate,
        "headers": list(headers),
        "cycle": cycle,
        "unique": unique,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(spec, fh)
        name = fh.name
    try:
        out = subprocess.run(  # noqa: S603 - our own module
            [sys.executable, "-m", "bench.runner", "loadgen", name],
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            check=False,
            timeout=seconds + 120,
        )
    finally:
        os.unlink(name)
    if out.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


async def _load(spec: dict[str, Any]) -> dict[str, Any]:
    import asyncio
    import statistics

    port = int(spec["port"])
    requests = [tuple(r) for r in spec["requests"]]
    extra = "".join(f"{h}\r\n" for h in spec["headers"]).encode()
    rate = float(spec["rate"])
    interval = 1.0 / rate if rate else 0.0
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    size = [0]
    issued = [0]  # requests taken (cycle, unique query strings)
    slots = [0]  # open loop: due times handed out
    pending = list(reversed(range(len(requests))))
    start = time.perf_counter()
    deadline = start + float(spec["seconds"])

    def next_index() -> int | None:
        issued[0] += 1
        if spec["cycle"]:
            return (issued[0] - 1) % len(requests) if requests else None
        return pending.pop() if pending else None

    def encode(index: int) -> bytes:
        method, path, body = requests[index]
        if spec["unique"]:
            path += ("&" if "?" in path else "?") + f"n={issued[0]}"
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n"
        ).encode() + extra
        if not body:
            return head + b"\r\n"
        raw = body.encode()
        return (
            head
            + b"Content-Type: application/json\r\nContent-Length: "
            + str(len(raw)).encode()
            + b"\r\n\r\n"
            + raw
        )

    async def client() -> None:
        reader: Any = None
        writer: Any = None
        while time.perf_counter() < deadline:
            if interval:
                due = start + slots[0] * interval
                slots[0] += 1
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            index = next_index()
            if index is None:
                break
            sent = time.perf_counter()
            if not interval:
                due = sent
            try:
                writer.write(encode(index))
                head = await reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError):
                writer.close()
                reader = writer = None
                if not spec["cycle"]:
                    pending.append(index)
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
                size[0] = length
            latencies.append(time.perf_counter() - due)
            statuses[status] = statuses.get(status, 0) + 1
            if close:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    await asyncio.gather(*(client() for _i in range(int(spec["connections"]))))
    took = time.perf_counter() - start
    latencies.sort()
    done = len(latencies)

    def pct(p: float) -> float | None:
        return latencies[min(done - 1, int(done * p))] * 1000 if done else None

    return {
        "done": done,
        "seconds": took,
        "rps": done / took if took else 0.0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": statistics.fmean(latencies) * 1000 if done else 0.0,
        "statuses": statuses,
        "bytes": size[0],
    }


def best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the highest rate (the machine is shared: its quietest moment)."""
    return max(runs, key=lambda x: x["rps"])


def median_rps(runs: list[dict[str, Any]]) -> float:
    import statistics

    return float(statistics.median(x["rps"] for x in runs))


if __name__ == "__main__" and len(sys.argv) > 2 and sys.argv[1] == "loadgen":
    import asyncio

    print(json.dumps(asyncio.run(_load(json.loads(Path(sys.argv[2]).read_text())))))


def run_line(label: str, result: dict[str, Any]) -> str:
    """One load run as a line of the benchmark's log."""
    line = (
        f"  {label}: {result['rps']:.0f}/s, p50 {result['p50_ms'] or 0:.1f} ms, "
        f"p99 {result['p99_ms'] or 0:.1f} ms"
    )
    if "server_cpu_ms" in result:
        line += f", server CPU {result['server_cpu_ms']:.2f} ms/request"
    return f"{line}; {result['statuses']}"
