"""``fangkong synth --residents N --seed S [--districts D]``: build the synthetic city."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fangkong.core.errors import ApplicationError
from fangkong.core.synth import synthetic_city_build


class Command(BaseCommand):
    help = "Build a deterministic synthetic Taiyuan (tree, households, residents, venues)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--residents", type=int, default=20_000)
        parser.add_argument("--seed", type=int, default=2022)
        parser.add_argument("--districts", type=int, default=10, help="1-10 real districts")

    def handle(self, *args: Any, **options: Any) -> None:
        def say(msg: str) -> None:
            if options["verbosity"] >= 1:
                self.stdout.write(msg)
                self.stdout.flush()

        try:
            result = synthetic_city_build(
                residents=options["residents"],
                seed=options["seed"],
                districts=options["districts"],
                progress=say,
            )
        except ApplicationError as exc:
            detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items()) or str(exc.message)
            raise CommandError(detail) from exc
        say(
            self.style.SUCCESS(
                f"Synthetic city built: {result.residents:,} residents in "
                f"{result.households:,} households, {result.jurisdictions:,} nodes, "
                f"{result.venues:,} venues in {result.seconds:.1f} s "
                f"({result.per_second:,.0f} residents/s; {result.cpu_seconds:.1f} s of CPU)."
            )
        )
