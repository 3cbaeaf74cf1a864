"""``fangkong import-tree FILE --as USERNAME [--under CODE | --under-id ID] [--dry-run]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from fangkong.core.audit import request_context
from fangkong.core.errors import ApplicationError
from fangkong.core.management.commands.import_people import staff_user
from fangkong.core.models import Jurisdiction
from fangkong.core.tabular import ImportRejected
from fangkong.core.tree_io import tree_import


class Command(BaseCommand):
    help = (
        "Import jurisdiction nodes from a CSV or GeoJSON file (columns code, parent_code, "
        "ref, parent_ref, level, name_zh, name_en, boundary), as a staff user. Existing "
        "nodes are updated, never moved; --dry-run shows what would change."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--as", dest="username", required=True, help="staff user name")
        parser.add_argument("--under", help="code of the node to place top-level rows under")
        parser.add_argument("--under-id", type=int, help="id of that node")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        path: Path = opts["file"]
        if not path.is_file():
            raise CommandError(_("No file %(path)s.") % {"path": path})
        actor = staff_user(opts["username"])
        under_id = opts["under_id"]
        if opts["under"]:
            node = Jurisdiction.objects.filter(code=opts["under"]).first()
            if node is None:
                raise CommandError(_("No node with code %(code)s.") % {"code": opts["under"]})
            under_id = node.pk
        try:
            with request_context(), path.open("rb") as f:
                result = tree_import(
                    actor=actor,
                    fileobj=f,
                    filename=path.name,
                    under_id=under_id,
                    dry_run=opts["dry_run"],
                )
        except ImportRejected as exc:
            for e in exc.result.errors:
                self.stderr.write(str(e))
            raise CommandError(str(exc.message)) from None
        except ApplicationError as exc:
            detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
            raise CommandError(f"{exc.message} {detail}".strip()) from None
        for o in result.overwrites:
            self.stdout.write(
                _("row %(row)s: %(node)s %(field)s: %(old)s → %(new)s")
                % {k: o[k] for k in ("row", "node", "field", "old", "new")}
            )
        summary = _("%(created)s created, %(updated)s updated, %(unchanged)s unchanged.") % {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        }
        if result.dry_run:
            summary = _("Dry run, nothing written: %(summary)s") % {"summary": summary}
        self.stdout.write(summary)
