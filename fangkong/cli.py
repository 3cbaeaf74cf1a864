"""The ``fangkong`` console command: the project's manage.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _bench_database(argv: list[str]) -> None:
    """Benchmarks never touch the demo database: a fresh SQLite file under var/bench/
    unless DATABASE_URL names one explicitly."""
    if os.environ.get("DATABASE_URL"):
        return
    import time

    from fangkong.envfile import var_dir

    folder = Path(var_dir()) / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bench-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.sqlite3"
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ["FANGKONG_BENCH_FRESH_DB"] = str(path)


def main() -> None:
    from fangkong import envfile

    argv = sys.argv
    command = argv[1] if len(argv) > 1 else ""
    # ``screenshots`` prepares the demo too: the file must exist before the
    # settings load, or the city is encrypted with other keys than the file's.
    if command in ("demo", "screenshots") and not envfile.is_production():
        _path, created = envfile.ensure()  # before settings load, so they use its keys
        if created:
            os.environ["FANGKONG_DEMO_ENV_CREATED"] = "1"
    if command == "bench":
        _bench_database(argv)
    envfile.load()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
