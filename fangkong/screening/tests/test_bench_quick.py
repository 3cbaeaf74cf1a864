"""The screening benchmarks run end to end at a tiny size (the real figures come
from ``fangkong bench --only screening_ingest ...``)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from bench import bench_screening  # noqa: E402
from bench.runner import Context  # noqa: E402


class Tiny(Context):
    def size(self, full: int, quick: int) -> int:
        return max(1, quick // 100)


@pytest.mark.django_db
def test_the_screening_benchmarks_run() -> None:
    ctx = Tiny(quick=True, say=lambda m: None)
    figures = (
        bench_screening.bench_ingest(ctx)
        + bench_screening.bench_coverage(ctx)
        + bench_screening.bench_positive(ctx)
        + bench_screening.bench_reminders(ctx)
    )
    assert all(f.value is not None for f in figures)
    assert figures[0].floor is not None
