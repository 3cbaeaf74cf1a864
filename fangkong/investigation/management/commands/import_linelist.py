"""``fangkong import-linelist FILE --format ds4c|generic --as USERNAME [--disease covid19]
[--into CODE] [--json]``: import a case line list with its infector links."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from fangkong.core.audit import request_context
from fangkong.core.errors import ApplicationError
from fangkong.investigation.services.linelist import FORMATS, linelist_import


class Command(BaseCommand):
    help = (
        "Import a case line list (CSV, UTF-8 or GBK/GB18030) with an infector column: "
        "DS4C PatientInfo.csv as it is (--format ds4c) or a generic CSV with columns "
        "id, confirmed_date and optionally sex, age, birth_year, onset_date, infected_by, "
        "cluster, place, classification, released_date, deceased_date. Row problems are "
        "listed in the report; every other row imports. --json prints the report as one "
        "JSON object."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", dest="fmt", choices=FORMATS, default="generic")
        parser.add_argument("--as", dest="username", required=True, help="staff user name")
        parser.add_argument("--disease", default="covid19", help="disease code")
        parser.add_argument("--into", default=None, help="jurisdiction code the patients belong to")
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
        try:
            with request_context():
                report = linelist_import(
                    actor=actor,
                    data=path.read_bytes(),
                    fmt=opts["fmt"],
                    disease_code=opts["disease"],
                    into_code=opts["into"],
                )
        except ApplicationError as exc:
            detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
            raise CommandError(f"{exc.message} {detail}".strip()) from None
        if opts["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
        else:
            for e in report.errors:
                self.stderr.write(f"row {e['row']}: {e['kind']}: {e['message']}")
            for e in report.warnings:
                self.stderr.write(f"row {e['row']}: {e['kind']}: {e['message']}")
        # Nothing imported: an empty list, or every row rejected (rows imported
        # before are not a failure: importing the same list again is a no-op).
        if report.rows == 0:
            raise CommandError(_("The file has no case rows; nothing was imported."))
        if not report.cases_imported and any(
            e["kind"] != "already_imported" for e in report.errors
        ):
            raise CommandError(_("Every row of the file was rejected; nothing was imported."))
        if opts["json"]:
            return
        self.stdout.write(
            _(
                "%(rows)s rows: %(cases)s cases (%(to_complete)s to be completed), "
                "%(links)s infector links and %(possible)s possible sources imported, "
                "%(errors)s problems, %(warnings)s warnings; %(chains)s transmission chains "
                "(largest %(chain_largest)s cases) and %(clusters)s clusters of two or more "
                "cases (largest %(largest)s, %(named)s named events)."
            )
            % {
                "rows": report.rows,
                "cases": report.cases_imported,
                "to_complete": report.to_complete,
                "links": report.links_imported,
                "possible": report.possible_sources,
                "errors": len(report.errors),
                "warnings": len(report.warnings),
                "chains": report.chains.get("count", 0),
                "chain_largest": report.chains.get("largest", 0),
                "clusters": report.clusters.get("count", 0),
                "largest": report.clusters.get("largest", 0),
                "named": report.clusters.get("named", 0),
            }
        )
