"""The quarantine benchmarks run end to end at a tiny size (the real figures come
from ``fangkong bench --only quarantine_allocation --only quarantine_orders``)."""

import sys
from pathlib import Path

import pytest
from django.db import connection

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from bench import bench_quarantine  # noqa: E402
from bench.runner import Context  # noqa: E402


class Tiny(Context):
    def size(self, full: int, quick: int) -> int:
        return max(2, quick // 10)


@pytest.mark.django_db(transaction=True)
def test_the_quarantine_benchmarks_run(monkeypatch):
    from fangkong.conftest import load_shipped_defaults

    load_shipped_defaults()
    if connection.vendor != "postgresql":
        # SQLite's shared in-memory test database: one client at a time.
        monkeypatch.setattr(bench_quarantine, "CLIENTS", 1)
    ctx = Tiny(quick=True, say=lambda m: None)
    figures = bench_quarantine.bench_allocation(ctx) + bench_quarantine.bench_orders(ctx)
    assert [f.value is not None for f in figures] == [True, True, True, True], [
        f.note for f in figures
    ]
    assert figures[2].value == 0
    assert all(f.floor is not None for f in figures if f.unit == "s")
