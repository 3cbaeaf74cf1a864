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
