"""``fangkong bench [--quick] [--only NAME]``: run the benchmarks under bench/.

They run on a fresh SQLite file under var/bench/ (the ``fangkong`` command sets
that up before settings load), or, when DATABASE_URL is given, on a fresh
``test_<name>`` database next to it on PostgreSQL. Never on the demo database.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection


class Command(BaseCommand):
    help = (
        "Run the benchmarks (bench/bench_*.py); print one table, write bench/results/<date>.json."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quick", action="store_true", help="reduced sizes (a few minutes)")
        parser.add_argument("--only", action="append", default=[], help="benchmark name (repeat)")
        parser.add_argument("--keep-db", action="store_true", help="keep the benchmark database")

    def say(self, msg: str) -> None:
        self.stdout.write(msg)
        self.stdout.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        base = Path(settings.BASE_DIR)
        if str(base) not in sys.path:
            sys.path.insert(0, str(base))
        from bench import runner

        fresh = os.environ.get("FANGKONG_BENCH_FRESH_DB", "")
        created_test_db = False
        name = str(connection.settings_dict["NAME"])
        if fresh:
            if Path(name).resolve() != Path(fresh).resolve():
                raise CommandError("The benchmark database is not the fresh file prepared for it.")
            call_command("migrate", interactive=False, verbosity=0)
        elif connection.vendor == "sqlite":
            if Path(name).resolve() == Path(settings.DEFAULT_SQLITE).resolve():
                raise CommandError("Refusing to benchmark on the demo database.")
            call_command("migrate", interactive=False, verbosity=0)
        else:
            # Never the configured database itself: a fresh test_<name> beside it.
            connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
            created_test_db = True
        database = f"{connection.vendor} {connection.settings_dict['NAME']}"
        self.say(f"Benchmark database: {database}")
        started = time.perf_counter()

        def save(figures: list[runner.Figure], seconds: float) -> None:
            # After every benchmark, so an interrupted run keeps what it measured.
            runner.write_results(
                figures, quick=options["quick"], database=connection.vendor, seconds=seconds
            )

        try:
            figures, seconds = runner.run(
                options["only"] or None, quick=options["quick"], say=self.say, on_result=save
            )
        except KeyError as exc:
            raise CommandError(str(exc.args[0])) from exc
        finally:
            if not options["keep_db"]:
                self._drop(fresh, created_test_db, name)
        self.say("")
        self.say(runner.table(figures))
        path = runner.write_results(
            figures, quick=options["quick"], database=connection.vendor, seconds=seconds
        )
        self.say(f"\nResults written to {path} ({time.perf_counter() - started:.0f} s).")

    def _drop(self, fresh: str, created_test_db: bool, name: str) -> None:
        if fresh:
            connection.close()
            for suffix in ("", "-wal", "-shm"):
                Path(fresh + suffix).unlink(missing_ok=True)
        elif created_test_db:
            connection.creation.destroy_test_db(name, verbosity=0)
