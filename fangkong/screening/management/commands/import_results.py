"""``fangkong import-results FILE --lab CODE --as USERNAME [--json]``: import a lab's
results (CSV: tube, result, optional reported_at and ct_<gene> columns)."""

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
from fangkong.screening.models import Lab
from fangkong.screening.services.results import csv_parse, results_import


class Command(BaseCommand):
    help = (
        "Import lab results from a CSV file (UTF-8 or GB18030) with columns tube, result "
        "(negative, positive, invalid), optionally reported_at and one ct_<gene> column per "
        "gene target. Every row is checked first: any problem and nothing is imported. "
        "Importing the same file again changes nothing; a different result for a tube "
        "is listed as a conflict for review."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--lab", required=True, help="lab code")
        parser.add_argument("--as", dest="username", required=True, help="staff user name")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **opts: Any) -> None:
        path: Path = opts["file"]
        if not path.is_file():
            raise CommandError(_("No file %(path)s.") % {"path": path})
        try:
            actor = get_user_model().objects.get(username=opts["username"], is_active=True)
        except get_user_model().DoesNotExist:
            raise CommandError(
                _("No active user “%(name)s”.") % {"name": opts["username"]}
            ) from None
        lab = Lab.objects.filter(code=opts["lab"]).first()
        if lab is None:
            raise CommandError(_("No lab with the code “%(code)s”.") % {"code": opts["lab"]})
        try:
            with request_context():
                report = results_import(
                    actor=actor, lab_id=lab.pk, rows=csv_parse(path.read_bytes()), source="csv"
                )
        except ImportRejected as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(str(exc.message)) from None
        except ApplicationError as exc:
            detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
            raise CommandError(f"{exc.message} {detail}".strip()) from None
        if opts["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
            return
        self.stdout.write(
            _(
                "%(rows)s rows: %(applied)s applied, %(dup)s unchanged, %(conflicts)s "
                "conflicts and %(held)s held for review."
            )
            % {
                "rows": report.rows,
                "applied": report.applied,
                "dup": report.duplicates,
                "conflicts": report.conflicts,
                "held": report.held,
            }
        )
