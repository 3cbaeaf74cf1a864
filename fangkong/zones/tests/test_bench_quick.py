"""The zones benchmarks run end to end at a tiny size (the real figures come from
``fangkong bench --only zones_declare ...``)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from bench import bench_zones  # noqa: E402
from bench.runner import Context  # noqa: E402


class Tiny(Context):
    def size(self, full: int, quick: int) -> int:
        return max(1, quick // 10)


@pytest.mark.django_db
def test_the_zones_benchmarks_run(monkeypatch):
    ctx = Tiny(quick=True, say=lambda m: None)
    figures = (
        bench_zones.bench_declare(ctx) + bench_zones.bench_lifting(ctx) + bench_zones.bench_map(ctx)
    )
    assert [f.value is not None for f in figures] == [True, True, True]
    assert all(f.floor is not None for f in figures)
