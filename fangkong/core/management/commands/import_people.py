"""``fangkong import-people FILE --as USERNAME [--valid-only] [--errors OUT.csv]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from fangkong.core.audit import request_context
from fangkong.core.errors import ApplicationError
from fangkong.core.imports import people_import
from fangkong.core.tabular import ImportRejected


def staff_user(username: str) -> Any:
    try:
        return get_user_model().objects.get(username=username, is_active=True)
    except get_user_model().DoesNotExist:
        raise CommandError(_("No active user “%(name)s”.") % {"name": username}) from None


class Command(BaseCommand):
    help = (
        "Import people from a CSV (UTF-8 or GB18030) or XLSX file, as a staff user. "
        "Every row is checked first; by default nothing is imported if any row is "
        "invalid. With --valid-only the valid rows are imported and the rejected ones "
        "written to an error file (--errors, default FILE.errors.csv)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--as", dest="username", required=True, help="staff user name")
        parser.add_argument("--valid-only", action="store_true")
        parser.add_argument("--errors", type=Path, help="where to write the rejected rows")

    def handle(self, *args: Any, **opts: Any) -> None:
        path: Path = opts["file"]
        if not path.is_file():
            raise CommandError(_("No file %(path)s.") % {"path": path})
        actor = staff_user(opts["username"])
        errors_path: Path = opts["errors"] or path.with_name(path.name + ".errors.csv")
        mode = "valid_only" if opts["valid_only"] else "all_or_nothing"
        try:
            with request_context(), path.open("rb") as f:
                result = people_import(
                    actor=actor,
                    fileobj=f,
                    filename=path.name,
                    mode=mode,
                    on_progress=lambda msg: self.stderr.write(msg),
                )
        except ImportRejected as exc:
            rejected = exc.result
            for e in rejected.errors:
                self.stderr.write(str(e))
            if rejected.error_file:
                errors_path.write_bytes(rejected.error_file)
                self.stderr.write(_("The rejected rows are in %(path)s.") % {"path": errors_path})
            raise CommandError(str(exc.message)) from None
        except ApplicationError as exc:
            detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
            raise CommandError(f"{exc.message} {detail}".strip()) from None
        for e in result.errors:
            self.stderr.write(str(e))
        if result.error_file:
            errors_path.write_bytes(result.error_file)
            self.stderr.write(_("The rejected rows are in %(path)s.") % {"path": errors_path})
        self.stdout.write(
            _("Imported %(created)s people; %(rejected)s rows rejected (import %(id)s).")
            % {"created": result.created, "rejected": result.rejected, "id": result.import_id}
        )
        if result.rejected and not result.created:
            raise CommandError(_("Every row of the file was rejected; nothing was imported."))
