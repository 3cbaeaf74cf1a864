"""Streaming CSV export of people: masked, scoped, bounded memory.

``person_export_csv`` checks the permission and the scope, writes one audit row
and returns an iterator of CSV byte chunks (UTF-8 with a BOM, so Excel reads the
Chinese right). Rows are read in keyset pages of ``CHUNK`` people ordered by
``(scope_path, id)``, the order of the ``core_person_scope_path`` index: each
page is one index range seek that starts where the previous page ended (no
OFFSET, no loading all rows), and the file comes out grouped by place. Memory
stays bounded by one page plus the names of the tree nodes in scope.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import NotFound, ValidationFailed
from fangkong.core.models import PATH_SEGMENT, Jurisdiction, KeyGroup, Person
from fangkong.core.selectors import access_jurisdiction_by_id
from fangkong.core.sheets import CsvLine, safe_text
from fangkong.core.types import Actor

CHUNK = 2000
_FIELDS = [
    "id",
    "scope_path",
    "name",
    "sex",
    "birth_date",
    "doc_type",
    "doc_masked",
    "phone_masked",
    "home_unit",
    "household_id",
    "limited_mobility",
    "language",
    "merged_into_id",
]
_PLACE_LEVELS = ["district", "subdistrict", "community", "grid", "building"]


def person_export_csv(
    *, actor: Actor, jurisdiction_id: int | None = None, key_group: str | None = None
) -> Iterator[bytes]:
    """Check, audit and return the CSV stream of the people in the actor's subtree."""
    permissions.require(actor, "person.export")
    prefix = permissions.scope_path(actor)
    if prefix is None:
        raise NotFound()
    node = access_jurisdiction_by_id(actor, jurisdiction_id) if jurisdiction_id else None
    path = node.path if node is not None else prefix
    group = None
    if key_group:
        group = KeyGroup.objects.filter(code=key_group).first()
        if group is None:
            raise ValidationFailed(
                fields={"key_group": _("Unknown key group: %(codes)s.") % {"codes": key_group}}
            )
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="person.export",
            object_type="core.person",
            object_id="",
            scope_path=path,
            changes={
                "filters": [
                    None,
                    {"jurisdiction_id": jurisdiction_id, "key_group": key_group or None},
                ]
            },
        )
    return _stream(path, group)


def _header() -> list[str]:
    return [
        _("ID"),
        _("Name"),
        _("Sex"),
        _("Birth date"),
        _("Document type"),
        _("Document number (masked)"),
        _("Phone (masked)"),
        _("District / county"),
        _("Subdistrict / town"),
        _("Community / village"),
        _("Grid unit"),
        _("Building"),
        _("Unit / room"),
        _("Household"),
        _("Key groups"),
        _("Limited mobility"),
        _("Language"),
    ]


def _stream(path: str, group: KeyGroup | None) -> Iterator[bytes]:
    # Everything translated is resolved now, while the request's language is active.
    english = (get_language() or "").startswith("en")
    header = _header()
    sexes = {v: str(label) for v, label in Person.Sex.choices}
    docs = {v: str(label) for v, label in Person.DocumentType.choices}
    yes, no = _("yes"), _("no")
    group_names = {
        g.pk: (g.name_en or g.name_zh) if english else g.name_zh for g in KeyGroup.objects.all()
    }
    return _generate(path, group, english, header, sexes, docs, yes, no, group_names)


def _place_names(path: str, english: bool) -> dict[str, tuple[int, str]]:
    """Names of the nodes in scope and above it: path -> (place column, name)."""
    depth = len(path) // PATH_SEGMENT
    ancestors = [path[: i * PATH_SEGMENT] for i in range(1, depth + 1)]
    nodes = Jurisdiction.objects.subtree_of(path) | Jurisdiction.objects.filter(path__in=ancestors)
    out: dict[str, tuple[int, str]] = {}
    for p, level, zh, en in nodes.filter(level__in=_PLACE_LEVELS).values_list(
        "path", "level", "name_zh", "name_en"
    ):
        out[p] = (_PLACE_LEVELS.index(level), safe_text((en or zh) if english else zh))
    return out


def _generate(
    path: str,
    group: KeyGroup | None,
    english: bool,
    header: list[str],
    sexes: dict[str, str],
    docs: dict[str, str],
    yes: str,
    no: str,
    group_names: dict[int, str],
) -> Iterator[bytes]:
    writer = csv.writer(CsvLine())
    yield ("\ufeff" + writer.writerow(header)).encode()
    places = _place_names(path, english)
    through = Person.key_groups.through
    # Merged duplicates are skipped below, not filtered in SQL: without table
    # statistics SQLite would scan the merged_into index and sort every page.
    qs = Person.objects.under(path)
    if group is not None:
        qs = qs.filter(
            Exists(through.objects.filter(person_id=OuterRef("pk"), keygroup_id=group.pk))
        )
    qn = connection.ops.quote_name
    m2m = Person._meta.get_field("key_groups")
    person_col, group_col = qn(m2m.m2m_column_name()), qn(m2m.m2m_reverse_name())
    # Fixed identifiers from the model; the ids are bound parameters.
    membership_sql = (
        f"SELECT {person_col}, {group_col} FROM {qn(through._meta.db_table)} "  # noqa: S608
        f"WHERE {person_col} IN "
    )
    last: tuple[str, int] | None = None
    while True:
        page = qs
        if last is not None:
            page = page.filter(scope_path__gte=last[0]).exclude(scope_path=last[0], id__lte=last[1])
        # The ORM builds the SQL; rows come straight off the cursor (no per-value
        # converters: dates and booleans are formatted below for both backends).
        sql, params = (
            page.order_by("scope_path", "id").values_list(*_FIELDS)[:CHUNK].query.sql_with_params()
        )
        with connection.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
            if not rows:
                return
            ids = [r[0] for r in rows]
            cur.execute(membership_sql + "(" + ", ".join(["%s"] * len(ids)) + ")", ids)
            memberships: dict[int, list[str]] = {}
            for person_id, group_id in cur.fetchall():
                memberships.setdefault(person_id, []).append(group_names.get(group_id, ""))
        lines = []
        for pid, scope, name, sex, birth, doc_type, doc, phone, unit, hh, lm, lang, merged in rows:
            if merged is not None:
                continue
            place = ["", "", "", "", ""]
            for end in range(PATH_SEGMENT, len(scope) + 1, PATH_SEGMENT):
                found = places.get(scope[:end])
                if found is not None:
                    place[found[0]] = found[1]
            lines.append(
                writer.writerow(
                    [
                        pid,
                        safe_text(name),
                        sexes.get(sex, sex),
                        str(birth) if birth else "",
                        docs.get(doc_type, doc_type),
                        doc,
                        phone,
                        *place,
                        safe_text(unit),
                        hh or "",
                        ";".join(sorted(memberships.get(pid, []))),
                        yes if lm else no,
                        lang,
                    ]
                )
            )
        yield "".join(lines).encode()
        last = (rows[-1][1], rows[-1][0])
