"""A clean process for the export benchmark: ``python -m bench.child export|floor``.

Prints one JSON line: seconds, rows, bytes, resident memory before and at peak.
The parent points ``DATABASE_URL`` at the benchmark database.
"""

from __future__ import annotations

import csv
import json
import os
import resource
import sys
import time
from typing import Any


def rss_mb() -> float:
    """Current resident set size (Linux /proc; falls back to the peak)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Sink:
    def __init__(self) -> None:
        self.bytes = 0

    def write(self, value: str) -> None:
        self.bytes += len(value.encode())


def export() -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    user = get_user_model().objects.get(username="bench_commander")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    # Warm up (imports, first queries) on a tiny export, then measure.
    grid = user.staff.jurisdiction.children.first()
    assert grid is not None
    warm: Any = client.get(f"/api/v1/people/export.csv?jurisdiction_id={grid.pk}&key_group=drivers")
    for _chunk in warm.streaming_content:
        pass
    base = peak = rss_mb()
    rows = size = 0
    started = time.perf_counter()
    cpu = time.process_time()
    response: Any = client.get("/api/v1/people/export.csv")
    assert response.status_code == 200, response
    for chunk in response.streaming_content:
        rows += chunk.count(b"\n")
        size += len(chunk)
        peak = max(peak, rss_mb())
    seconds = time.perf_counter() - started
    return _report(seconds, rows - 1, size, base, peak, time.process_time() - cpu)


def floor() -> dict[str, Any]:
    from django.db import connection

    base = peak = rss_mb()
    sink = _Sink()
    writer = csv.writer(sink)
    rows = 0
    started = time.perf_counter()
    cpu = time.process_time()
    with connection.chunked_cursor() as cur:
        cur.execute(
            "SELECT id, name, sex, birth_date, doc_type, doc_masked, phone_masked, scope_path, "
            "home_unit, household_id, limited_mobility, language FROM core_person "
            "WHERE merged_into_id IS NULL"
        )
        while True:
            batch = cur.fetchmany(2000)
            if not batch:
                break
            for row in batch:
                writer.writerow(row)
            rows += len(batch)
            peak = max(peak, rss_mb())
    seconds = time.perf_counter() - started
    return _report(seconds, rows, sink.bytes, base, peak, time.process_time() - cpu)


def _report(
    seconds: float, rows: int, size: int, base: float, peak: float, cpu: float
) -> dict[str, Any]:
    return {
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "rows": rows,
        "bytes": size,
        "rss_base_mb": round(base, 1),
        "rss_peak_mb": round(peak, 1),
        "rss_increase_mb": round(peak - base, 1),
    }


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    import django

    django.setup()
    mode = sys.argv[1] if len(sys.argv) > 1 else "export"
    result = export() if mode == "export" else floor()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
