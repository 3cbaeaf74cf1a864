"""``fangkong export-tree --format csv|geojson [--root CODE] [--as USER] [-o FILE]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from fangkong.core.errors import ApplicationError
from fangkong.core.management.commands.import_people import staff_user
from fangkong.core.models import Jurisdiction
from fangkong.core.tree_io import tree_export, tree_export_unscoped


class Command(BaseCommand):
    help = (
        "Export the jurisdiction tree (or the subtree of --root) as CSV or GeoJSON. "
        "With --as the export is limited to that staff user's area."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["csv", "geojson"], default="csv")
        parser.add_argument("--root", help="official code of the subtree's top node")
        parser.add_argument("--root-id", type=int, help="id of the subtree's top node")
        parser.add_argument("--as", dest="username", help="export as this staff user")
        parser.add_argument("-o", "--output", type=Path, help="file to write (default stdout)")

    def handle(self, *args: Any, **opts: Any) -> None:
        root_id = opts["root_id"]
        if opts["root"]:
            node = Jurisdiction.objects.filter(code=opts["root"]).first()
            if node is None:
                raise CommandError(_("No node with code %(code)s.") % {"code": opts["root"]})
            root_id = node.pk
        try:
            if opts["username"]:
                chunks = tree_export(
                    actor=staff_user(opts["username"]), fmt=opts["format"], root_id=root_id
                )
            else:
                root = None
                if root_id is not None:
                    root = Jurisdiction.objects.filter(pk=root_id).first()
                    if root is None:
                        raise CommandError(_("No node with id %(id)s.") % {"id": root_id})
                chunks = tree_export_unscoped(root=root, fmt=opts["format"])
        except ApplicationError as exc:
            raise CommandError(str(exc.message)) from None
        output: Path | None = opts["output"]
        if output is None:
            for chunk in chunks:
                self.stdout.write(chunk, ending="")
            self.stdout.flush()
            return
        with output.open("w", encoding="utf-8", newline="") as f:
            for chunk in chunks:
                f.write(chunk)
        self.stderr.write(_("Written to %(path)s.") % {"path": output})
