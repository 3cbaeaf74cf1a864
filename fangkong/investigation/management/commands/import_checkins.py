"""``fangkong import-checkins FILE [--format csv|jsonl] --as USERNAME [--valid-only] [--json]``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from fangkong.core.audit import request_context
from fangkong.core.errors import ApplicationError
from fangkong.core.tabular import ImportRejected
from fangkong.investigation.services.checkins import checkins_ingest_file


class Command(BaseCommand):
    help = (
        "Import a check-in log of an external scanning system (CSV or JSON lines, "
        "UTF-8 or GBK) as a staff user with checkin.import. Columns: venue (id or "
        "venue code), person_id or doc_type + doc_number, time (ISO 8601 with time "
        "zone), optional left_at and external_ref. Every row is checked first; by "
        "default nothing is imported if any row is invalid (--valid-only imports the "
        "valid rows). Scans of one person at one venue within 10 minutes are one visit."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", choices=["csv", "jsonl"], default=None)
        parser.add_argument("--as", dest="username", required=True, help="staff user name")
        parser.add_argument("--valid-only", action="store_true")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **opts: Any) -> None:
        path: Path = opts["file"]
        if not path.is_file():
            raise CommandError(_("No file %(path)s.") % {"path": path})
        fmt = opts["format"] or ("jsonl" if path.suffix.lower() in (".jsonl", ".json") else "csv")
        try:
            actor = get_user_model().objects.get(username=opts["username"], is_active=True)
        except get_user_model().DoesNotExist:
            raise CommandError(
                _("No active user “%(name)s”.") % {"name": opts["username"]}
            ) from None
        try:
            with request_context():
                report = checkins_ingest_file(
                    path.read_bytes(),
                    fmt=fmt,
                    actor=actor,
                    valid_only=opts["valid_only"],
                    source_name=path.name,
                )
        except ImportRejected as exc:
            if opts["json"]:
                self.stdout.write(json.dumps(exc.result.as_dict(), ensure_ascii=False))
            else:
                for e in exc.errors:
                    self.stderr.write(f"{e.row}\t{e.column}\t{e.message}")
            raise CommandError(str(exc.message)) from None
        except ApplicationError as exc:
            detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
            raise CommandError(f"{exc.message} {detail}".strip()) from None
        if opts["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
        else:
            for e in report.errors:
                self.stderr.write(f"{e.row}\t{e.column}\t{e.message}")
        # Nothing imported: an empty log, or every row rejected (--valid-only).
        if report.rows == 0:
            raise CommandError(_("The file has no check-in rows; nothing was imported."))
        if report.errors and not (report.inserted or report.duplicates or report.extended):
            raise CommandError(_("Every row of the file was rejected; nothing was imported."))
        if opts["json"]:
            return
        self.stdout.write(
            _(
                "%(rows)s rows: %(inserted)s visits added, %(duplicates)s repeated scans "
                "merged, %(rejected)s rows rejected."
            )
            % {
                "rows": report.rows,
                "inserted": report.inserted,
                "duplicates": report.duplicates,
                "rejected": len(report.errors),
            }
        )
