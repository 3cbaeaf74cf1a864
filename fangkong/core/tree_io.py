"""Import and export of the jurisdiction tree as CSV or GeoJSON.

File format (the same fields in both):

- ``code``: official code, when the node has one (unique in the whole tree);
- ``ref``: a label for a node without a code, unique in the file, so that other
  rows can name it as their parent (exports use the node's tree path);
- ``parent_code`` / ``parent_ref``: the parent, by code (a node of the file or one
  already in the database) or by ref (a node of the file). Neither: a top-level
  node, or a child of the node chosen at import (``under``);
- ``level``: province, city, district, subdistrict, community, grid, building
  (or 省, 市, 区/县, 街道/乡镇, 社区/村, 网格, 楼栋);
- ``name_zh``, ``name_en``;
- ``boundary``: a GeoJSON Polygon or MultiPolygon. In CSV a JSON text column; in
  GeoJSON the feature's geometry. Empty means "leave as it is".

CSV rows are numbered as in a spreadsheet (header = row 1); GeoJSON features from 1.

An import validates everything first (unknown parent, level order, duplicate
codes, cycles, geometry), then creates the new nodes parents first with
``jurisdiction_build`` in one transaction. Existing nodes are matched, not
duplicated: by code, else (for nodes without a code) by parent, level and
Chinese name. A matched node gets the file's names and boundary (reported as
overwrites; ``dry_run`` reports without writing). A node is never moved: a file
that gives an existing code another parent is an error.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import transaction
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import NotFound, ValidationFailed
from fangkong.core.models import Jurisdiction
from fangkong.core.selectors import access_jurisdiction_by_id
from fangkong.core.services import jurisdiction_build
from fangkong.core.sheets import csv_stream
from fangkong.core.tabular import (
    FileRejected,
    ImportRejected,
    RowError,
    csv_rows,
    decode_text,
    detect_encoding,
    open_upload,
    sniff_kind,
)
from fangkong.core.types import Actor

LEVELS = Jurisdiction.LEVEL_ORDER
EXPORT_COLUMNS = (
    "code",
    "parent_code",
    "ref",
    "parent_ref",
    "level",
    "name_zh",
    "name_en",
    "boundary",
)
_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("code", "编码", "代码", "区划代码"),
    "parent_code": ("parent_code", "上级编码", "上级代码"),
    "ref": ("ref",),
    "parent_ref": ("parent_ref",),
    "level": ("level", "层级", "级别"),
    "name_zh": ("name_zh", "名称", "中文名称"),
    "name_en": ("name_en", "英文名称"),
    "boundary": ("boundary", "边界"),
}
_HEADER_LOOKUP = {a: canon for canon, aliases in _ALIASES.items() for a in aliases}
_LEVEL_NAMES = {
    **{lv: lv for lv in LEVELS},
    "省": "province",
    "市": "city",
    "区": "district",
    "县": "district",
    "区县": "district",
    "街道": "subdistrict",
    "乡镇": "subdistrict",
    "乡": "subdistrict",
    "镇": "subdistrict",
    "社区": "community",
    "村": "community",
    "网格": "grid",
    "楼栋": "building",
    "楼": "building",
}
QUERY_CHUNK = 500
MAX_REPORTED_OVERWRITES = 500


@dataclass
class TreeRow:
    row: int
    code: str | None
    ref: str
    parent_code: str
    parent_ref: str
    level: str
    name_zh: str
    name_en: str
    boundary: dict[str, Any] | None  # None: leave unchanged / no boundary


@dataclass
class TreeImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    overwrites: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    import_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "dry_run": self.dry_run,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "overwrites": self.overwrites,
            "errors": [e.as_dict() for e in self.errors],
        }


# --- Geometry ---------------------------------------------------------------


def _position_ok(p: Any) -> bool:
    return (
        isinstance(p, list)
        and len(p) in (2, 3)
        and all(isinstance(c, int | float) and not isinstance(c, bool) for c in p)
        and all(math.isfinite(c) for c in p)
        and -180 <= p[0] <= 180
        and -90 <= p[1] <= 90
    )


def _polygon_ok(rings: Any) -> bool:
    if not isinstance(rings, list) or not rings:
        return False
    for ring in rings:
        if not isinstance(ring, list) or len(ring) < 4:
            return False
        if not all(_position_ok(p) for p in ring) or ring[0] != ring[-1]:
            return False
    return True


def geometry_problem(geom: Any) -> str | None:
    """Why ``geom`` is not a usable boundary, or None if it is one."""
    if not isinstance(geom, dict):
        return _("The boundary must be a GeoJSON geometry object.")
    kind = geom.get("type")
    coords = geom.get("coordinates")
    if kind == "Polygon":
        ok = _polygon_ok(coords)
    elif kind == "MultiPolygon":
        ok = isinstance(coords, list) and bool(coords) and all(_polygon_ok(p) for p in coords)
    else:
        return _("A boundary must be a Polygon or MultiPolygon, not “%(type)s”.") % {
            "type": str(kind)
        }
    if not ok:
        return _(
            "The boundary coordinates are malformed: each ring needs at least four "
            "[longitude, latitude] positions and must end where it starts."
        )
    return None


# --- Reading files -----------------------------------------------------------


def _norm(value: Any) -> str:
    return str(value if value is not None else "").replace("\ufeff", "").strip().strip("*").lower()


def _s(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _parse_fields(
    number: int, values: dict[str, Any], label: dict[str, str], errors: list[RowError]
) -> TreeRow:
    def err(column: str, message: str) -> None:
        errors.append(RowError(number, label.get(column, column), message))

    level_text = _s(values.get("level"))
    level = _LEVEL_NAMES.get(level_text.lower(), "")
    if not level_text:
        err("level", _("The level is required."))
    elif not level:
        err("level", _("Unknown level “%(value)s”.") % {"value": level_text})
    name_zh = _s(values.get("name_zh"))
    if not name_zh:
        err("name_zh", _("A Chinese name is required."))
    elif len(name_zh) > 200:
        err("name_zh", _("A name has at most 200 characters."))
    name_en = _s(values.get("name_en"))
    if len(name_en) > 200:
        err("name_en", _("A name has at most 200 characters."))
    code = _s(values.get("code"))
    if len(code) > 32:
        err("code", _("A code has at most 32 characters."))
    ref = _s(values.get("ref"))
    if len(ref) > 64:
        err("ref", _("A ref has at most 64 characters."))
    parent_code, parent_ref = _s(values.get("parent_code")), _s(values.get("parent_ref"))
    if parent_code and parent_ref:
        err("parent_ref", _("Give the parent by code or by ref, not both."))
    boundary = values.get("boundary")
    if isinstance(boundary, str):
        text = boundary.strip()
        boundary = None
        if text:
            try:
                boundary = json.loads(text)
            except ValueError:
                err("boundary", _("The boundary is not valid JSON."))
                boundary = None
            else:
                if boundary is None:
                    err("boundary", _("The boundary must be a GeoJSON geometry object."))
    if boundary is not None:
        problem = geometry_problem(boundary)
        if problem:
            err("boundary", problem)
            boundary = None
    return TreeRow(
        row=number,
        code=code or None,
        ref=ref,
        parent_code=parent_code,
        parent_ref=parent_ref,
        level=level,
        name_zh=name_zh,
        name_en=name_en,
        boundary=boundary,
    )


def _read_csv(f: IO[bytes], errors: list[RowError]) -> list[TreeRow]:
    rows = csv_rows(f, detect_encoding(f))
    first = next(rows, None)
    if first is None:
        raise FileRejected(_("The file is empty."))
    _n, headers = first
    index: dict[str, int] = {}
    label: dict[str, str] = {}
    for i, header in enumerate(headers):
        canon = _HEADER_LOOKUP.get(_norm(header))
        if canon is None:
            continue
        if canon in index:
            raise FileRejected(_("The column “%(column)s” appears twice.") % {"column": header})
        index[canon], label[canon] = i, header.replace("\ufeff", "").strip()
    missing = [c for c in ("level", "name_zh") if c not in index]
    if missing:
        raise FileRejected(
            _("Required columns are missing: %(columns)s.") % {"columns": ", ".join(missing)},
            extra={"missing_columns": missing},
        )
    out = []
    for number, cells in rows:
        values = {c: cells[i] if i < len(cells) else "" for c, i in index.items()}
        out.append(_parse_fields(number, values, label, errors))
    return out


def _read_geojson(f: IO[bytes], errors: list[RowError]) -> list[TreeRow]:
    text = decode_text(f.read())
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise FileRejected(
            _("The file is not valid GeoJSON (%(detail)s).") % {"detail": str(exc)[:120]}
        ) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise FileRejected(_("The GeoJSON file must hold one FeatureCollection."))
    features = doc.get("features")
    if not isinstance(features, list):
        raise FileRejected(_("The FeatureCollection has no list of features."))
    if not features:
        raise FileRejected(_("The file has no features."))
    out = []
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            errors.append(RowError(number, "type", _("This is not a GeoJSON Feature.")))
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            errors.append(RowError(number, "properties", _("The properties must be an object.")))
            continue
        values = {c: props.get(c) for c in EXPORT_COLUMNS if c != "boundary"}
        values["boundary"] = feature.get("geometry")
        out.append(_parse_fields(number, values, {"boundary": "geometry"}, errors))
    return out


def read_tree_file(fileobj: Any, *, filename: str) -> tuple[list[TreeRow], list[RowError]]:
    f = open_upload(fileobj, filename=filename)
    sniff_kind(f, filename=filename, allow_xlsx=False)
    head = f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    f.seek(0)
    errors: list[RowError] = []
    if head.startswith(b"{"):  # the content decides, not the file name
        rows = _read_geojson(f, errors)
    else:
        rows = _read_csv(f, errors)
    if not rows and not errors:
        raise FileRejected(_("The file has a header row but no data rows."))
    return rows, errors


# --- Import -------------------------------------------------------------------


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(items), QUERY_CHUNK):
        yield items[i : i + QUERY_CHUNK]


class _Plan:
    """Everything decided before the first write."""

    def __init__(self, rows: list[TreeRow], errors: list[RowError], scope: str) -> None:
        self.rows, self.errors, self.scope = rows, errors, scope
        # For each row index: parent as ("row", i), ("node", Jurisdiction) or None.
        self.parent: list[tuple[str, Any] | None] = [None] * len(rows)
        self.match: list[Jurisdiction | None] = [None] * len(rows)
        self.order: list[int] = []
        self.depth: list[int] = []
        self.bad: set[int] = set()

    def fail(self, i: int, column: str, message: str) -> None:
        self.errors.append(RowError(self.rows[i].row, column, message))
        self.bad.add(i)


def _plan(
    rows: list[TreeRow], errors: list[RowError], scope: str, under: Jurisdiction | None
) -> _Plan:
    plan = _Plan(rows, errors, scope)
    bad_rows = {e.row for e in errors}
    plan.bad = {i for i, r in enumerate(rows) if r.row in bad_rows}
    by_code: dict[str, int] = {}
    by_ref: dict[str, int] = {}
    for i, r in enumerate(rows):
        for key, table, column in ((r.code, by_code, "code"), (r.ref, by_ref, "ref")):
            if not key:
                continue
            if key in table:
                plan.fail(
                    i,
                    column,
                    _("“%(value)s” is already used by row %(row)s of this file.")
                    % {"value": key, "row": rows[table[key]].row},
                )
            else:
                table[key] = i
    # Existing nodes named by code (to match, or as parents outside the file).
    wanted = sorted(
        {r.code for r in rows if r.code} | {r.parent_code for r in rows if r.parent_code}
    )
    db: dict[str, Jurisdiction] = {}
    for chunk in _chunks(wanted):
        for node in Jurisdiction.objects.filter(code__in=chunk):
            db[node.code or ""] = node

    def visible(node: Jurisdiction) -> bool:
        return node.path.startswith(scope)

    for i, r in enumerate(rows):
        if r.parent_code:
            if r.parent_code in by_code:
                plan.parent[i] = ("row", by_code[r.parent_code])
            elif r.parent_code in db and (
                visible(db[r.parent_code])
                # The top of the importer's own area names its parent above it: fine
                # as long as the node already exists there (it is matched, not created).
                or (r.code in db and db[r.code].parent_id == db[r.parent_code].pk)
            ):
                plan.parent[i] = ("node", db[r.parent_code])
            else:
                plan.fail(
                    i,
                    "parent_code",
                    _("Unknown parent “%(code)s”: it is neither in the file nor in your area.")
                    % {"code": r.parent_code},
                )
        elif r.parent_ref:
            if r.parent_ref in by_ref:
                plan.parent[i] = ("row", by_ref[r.parent_ref])
            else:
                plan.fail(
                    i,
                    "parent_ref",
                    _("Unknown parent ref “%(ref)s”: no row of the file has it.")
                    % {"ref": r.parent_ref},
                )
        elif under is not None:
            plan.parent[i] = ("node", under)
        elif scope:
            plan.fail(
                i,
                "parent_code",
                _("This node has no parent. Give its parent, or choose the node to import under."),
            )
    # Cycles and depth (parents first); -1 marks a row in or below a cycle.
    depth: list[int | None] = [None] * len(rows)
    for start in range(len(rows)):
        chain: list[int] = []
        position: dict[int, int] = {}
        cursor: int | None = start
        while True:
            if cursor is None:
                base = 0
                break
            known = depth[cursor]
            if known is not None:
                base = known + 1 if known >= 0 else -1
                break
            if cursor in position:
                for j in chain[position[cursor] :]:
                    plan.fail(j, "parent_code", _("The parents of this row form a cycle."))
                    depth[j] = -1
                chain = chain[: position[cursor]]
                base = -1
                break
            position[cursor] = len(chain)
            chain.append(cursor)
            p = plan.parent[cursor]
            cursor = p[1] if p is not None and p[0] == "row" else None
        for j in reversed(chain):
            depth[j] = base
            if base >= 0:
                base += 1
            elif j not in plan.bad:
                plan.fail(j, "parent_code", _("An ancestor of this row is part of a cycle."))
    plan.depth = [d if d is not None else -1 for d in depth]
    plan.order = sorted(
        (i for i in range(len(rows)) if plan.depth[i] >= 0), key=lambda i: (plan.depth[i], i)
    )
    # Level order.
    for i in plan.order:
        r, p = rows[i], plan.parent[i]
        if p is None or not r.level:
            continue
        parent_level = rows[p[1]].level if p[0] == "row" else p[1].level
        if parent_level and LEVELS.index(r.level) <= LEVELS.index(parent_level):
            plan.fail(
                i,
                "level",
                _("A %(child)s cannot be placed under a %(parent)s.")
                % {
                    "child": Jurisdiction.Level(r.level).label,
                    "parent": Jurisdiction.Level(parent_level).label,
                },
            )
    _match_existing(plan, db, under)
    return plan


def _parent_node_id(plan: _Plan, i: int) -> int | None | str:
    """The database id of row i's parent; None for top level; "new" if it is created."""
    p = plan.parent[i]
    if p is None:
        return None
    if p[0] == "node":
        return int(p[1].pk)
    m = plan.match[p[1]]
    return int(m.pk) if m is not None else "new"


def _match_existing(plan: _Plan, db: dict[str, Jurisdiction], under: Jurisdiction | None) -> None:
    rows = plan.rows
    siblings_seen: dict[tuple[Any, str, str], int] = {}
    # Existing children without a code, loaded per generation of parents.
    loaded: dict[int | None, dict[tuple[str, str], list[Jurisdiction]]] = {}

    def children_of(parent_ids: set[int | None]) -> None:
        todo = [p for p in parent_ids if p not in loaded]
        for p in todo:
            loaded[p] = {}
        ids = [p for p in todo if p is not None]
        for chunk in _chunks(ids):
            for node in Jurisdiction.objects.filter(parent_id__in=chunk, code__isnull=True):
                loaded[node.parent_id].setdefault((node.level, node.name_zh), []).append(node)
        if None in todo:
            for node in Jurisdiction.objects.filter(parent__isnull=True, code__isnull=True):
                loaded[None].setdefault((node.level, node.name_zh), []).append(node)

    by_depth: dict[int, list[int]] = {}
    for i in plan.order:
        by_depth.setdefault(plan.depth[i], []).append(i)
    for d in sorted(by_depth):
        generation = by_depth[d]
        parent_ids = {_parent_node_id(plan, i) for i in generation}
        children_of({p for p in parent_ids if not isinstance(p, str)})
        for i in generation:
            r = rows[i]
            parent_id = _parent_node_id(plan, i)
            p = plan.parent[i]
            parent_key = ("row", p[1]) if p is not None and p[0] == "row" else ("node", parent_id)
            sibling_key = (parent_key, r.level, r.name_zh)
            if r.code is None and r.level and r.name_zh:
                if sibling_key in siblings_seen:
                    plan.fail(
                        i,
                        "name_zh",
                        _(
                            "Row %(row)s has the same parent, level and name and neither "
                            "has a code; give one a code or another name."
                        )
                        % {"row": rows[siblings_seen[sibling_key]].row},
                    )
                    continue
                siblings_seen[sibling_key] = i
            existing = db.get(r.code) if r.code else None
            if existing is not None:
                if not existing.path.startswith(plan.scope):
                    plan.fail(
                        i,
                        "code",
                        _("Code %(code)s is already used by another node.") % {"code": r.code},
                    )
                    continue
                if r.level and existing.level != r.level:
                    plan.fail(
                        i,
                        "level",
                        _("Node %(code)s exists as a %(level)s; its level cannot change.")
                        % {
                            "code": r.code,
                            "level": Jurisdiction.Level(existing.level).label,
                        },
                    )
                    continue
                keeps_place = plan.parent[i] is None and under is None
                if not keeps_place and parent_id != existing.parent_id:
                    plan.fail(
                        i,
                        "parent_code",
                        _(
                            "Node %(code)s already exists under another parent; an import "
                            "never moves nodes."
                        )
                        % {"code": r.code},
                    )
                    continue
                plan.match[i] = existing
                continue
            if isinstance(parent_id, str) or not r.level:
                continue
            candidates = loaded.get(parent_id, {}).get((r.level, r.name_zh), [])
            if len(candidates) > 1:
                plan.fail(
                    i,
                    "name_zh",
                    _(
                        "Several existing nodes have this parent, level and name; give "
                        "this row a code."
                    ),
                )
            elif candidates:
                plan.match[i] = candidates[0]


def _changes(r: TreeRow, node: Jurisdiction) -> dict[str, tuple[Any, Any]]:
    out: dict[str, tuple[Any, Any]] = {}
    if r.name_zh and r.name_zh != node.name_zh:
        out["name_zh"] = (node.name_zh, r.name_zh)
    if r.name_en != node.name_en and r.name_en:
        out["name_en"] = (node.name_en, r.name_en)
    if r.code and r.code != node.code:
        out["code"] = (node.code, r.code)
    if r.boundary is not None and r.boundary != node.boundary:
        out["boundary"] = (node.boundary, r.boundary)
    return out


def _summary(field_name: str, value: Any) -> Any:
    if field_name == "boundary":
        return value.get("type") if isinstance(value, dict) else None
    return value


def tree_import(
    *,
    actor: Actor,
    fileobj: Any,
    filename: str,
    under_id: int | None = None,
    dry_run: bool = False,
) -> TreeImportResult:
    """Import (or, with ``dry_run``, check) a jurisdiction tree file.

    Raises FileRejected for an unreadable file and ImportRejected listing every
    row error; nothing is written unless the whole file is valid.
    """
    permissions.require(actor, "jurisdiction.manage")
    scope = permissions.scope_path(actor)
    if scope is None:
        raise NotFound()
    under = access_jurisdiction_by_id(actor, under_id) if under_id is not None else None
    rows, errors = read_tree_file(fileobj, filename=filename)
    plan = _plan(rows, errors, scope, under)
    result = TreeImportResult(dry_run=dry_run)
    result.errors = sorted(plan.errors, key=lambda e: (e.row, e.column))
    if result.errors:
        raise ImportRejected(result.errors, result=result)
    updates: list[tuple[Jurisdiction, dict[str, tuple[Any, Any]]]] = []
    for i in plan.order:
        node = plan.match[i]
        if node is None:
            result.created += 1
            continue
        changes = _changes(rows[i], node)
        if not changes:
            result.unchanged += 1
            continue
        result.updated += 1
        updates.append((node, changes))
        for name, (old, new) in changes.items():
            result.overwrites.append(
                {
                    "row": rows[i].row,
                    "node": node.code or node.name_zh,
                    "id": node.pk,
                    "field": name,
                    "old": _summary(name, old),
                    "new": _summary(name, new),
                }
            )
    if dry_run:
        return result
    result.import_id = uuid.uuid4().hex
    with transaction.atomic():
        for node, changes in updates:
            for name, (_old, new) in changes.items():
                setattr(node, name, new)
            node.save(update_fields=[*changes, "updated_at"])
        made: dict[int, Jurisdiction] = {}
        for i in plan.order:
            if plan.match[i] is not None:
                made[i] = plan.match[i]  # type: ignore[assignment]
                continue
            r, p = rows[i], plan.parent[i]
            parent = None if p is None else (made[p[1]] if p[0] == "row" else p[1])
            made[i] = jurisdiction_build(
                parent=parent,
                level=r.level,
                name_zh=r.name_zh,
                name_en=r.name_en,
                code=r.code,
                boundary=r.boundary,
            )
        audit_record(
            actor=actor,
            action="jurisdiction.import",
            object_type="core.import",
            object_id=result.import_id,
            scope_path=under.path if under is not None else scope,
            changes={
                "file": [None, filename],
                "created": [None, result.created],
                "updated": [None, result.updated],
                "unchanged": [None, result.unchanged],
                "overwritten": [None, result.overwrites[:MAX_REPORTED_OVERWRITES]],
            },
        )
    return result


# --- Export -------------------------------------------------------------------


def _export_root(actor: Actor, root_id: int | None) -> Jurisdiction | None:
    """The subtree an actor may export: a chosen node inside their scope, or their node."""
    permissions.require(actor, "jurisdiction.view")
    if root_id is not None:
        return access_jurisdiction_by_id(actor, root_id)
    scope = permissions.scope_path(actor)
    if scope is None:
        raise NotFound()
    if scope == "":
        return None
    return Jurisdiction.objects.get(path=scope)


def tree_rows(root: Jurisdiction | None) -> Iterator[dict[str, Any]]:
    """Unscoped: every node under ``root`` (all when None), parents first."""
    qs = Jurisdiction.objects.all() if root is None else Jurisdiction.objects.subtree_of(root.path)
    qs = (
        qs.select_related("parent")
        .only(
            "id",
            "code",
            "level",
            "name_zh",
            "name_en",
            "boundary",
            "path",
            "parent",
            "parent__code",
            "parent__path",
        )
        .order_by("path")
    )
    for node in qs.iterator(chunk_size=2000):
        parent = node.parent
        parent_code = parent_ref = ""
        if parent is not None:
            if parent.code:
                parent_code = parent.code
            elif root is None or node.pk != root.pk:
                parent_ref = parent.path
        yield {
            "code": node.code or "",
            "parent_code": parent_code,
            "ref": "" if node.code else node.path,
            "parent_ref": parent_ref,
            "level": node.level,
            "name_zh": node.name_zh,
            "name_en": node.name_en,
            "boundary": node.boundary,
        }


def _csv_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    """The tree as CSV text chunks (the one export writer: BOM, formulas neutralised)."""
    lines = (
        [
            *(row[c] for c in EXPORT_COLUMNS[:-1]),
            json.dumps(row["boundary"], separators=(",", ":")) if row["boundary"] else "",
        ]
        for row in rows
    )
    return (chunk.decode("utf-8") for chunk in csv_stream(EXPORT_COLUMNS, lines))


def _geojson_chunks(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield '{"type":"FeatureCollection","features":[\n'
    sep = ""
    for row in rows:
        props = {c: row[c] for c in EXPORT_COLUMNS if c != "boundary"}
        feature = {"type": "Feature", "properties": props, "geometry": row["boundary"]}
        yield sep + json.dumps(feature, ensure_ascii=False, separators=(",", ":"))
        sep = ",\n"
    yield "\n]}\n"


def tree_export(*, actor: Actor, fmt: str, root_id: int | None = None) -> Iterator[str]:
    """Stream the actor's subtree (or a chosen node's, inside it) as CSV or GeoJSON.

    Access is checked before the first chunk, so a refusal is an error, not a
    truncated file.
    """
    if fmt not in ("csv", "geojson"):
        raise ValidationFailed(fields={"format": _("Choose csv or geojson.")})
    root = _export_root(actor, root_id)
    return tree_export_unscoped(root=root, fmt=fmt)


def tree_export_unscoped(*, root: Jurisdiction | None, fmt: str) -> Iterator[str]:
    """For trusted callers (the command line run by an operator)."""
    rows = tree_rows(root)
    return _csv_lines(rows) if fmt == "csv" else _geojson_chunks(rows)
