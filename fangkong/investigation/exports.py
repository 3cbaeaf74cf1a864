"""Case and contact line lists (流调一览表) as CSV or XLSX, streamed.

Rows are read in keyset pages of ``CHUNK`` ordered by ``(scope_path, id)`` (the
``inv_case_scope`` / ``inv_contact_scope_status`` indexes): each page is one
index range seek from where the last one ended, and rows come straight off the
cursor, so memory holds one page whatever the list's size (200,000 rows and
more). The filters are the case list's own (``case_list_for`` /
``contact_list_for``), so the file holds what the page shows.

People are places, never names: the home's district, subdistrict, community and
grid, sex and age, masked document and phone. Names and full numbers appear only
for a user who may unmask (``person.unmask``) and asks for it with a reason; the
export is audited either way (filters, whether unmasked).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.crypto import decrypt
from fangkong.core.errors import ValidationFailed
from fangkong.core.models import PATH_SEGMENT, Jurisdiction, Person
from fangkong.core.sheets import csv_stream, xlsx_stream
from fangkong.core.types import Actor
from fangkong.investigation.models import Case, Contact, Disease

CHUNK = 2000
PLACE_LEVELS = ["district", "subdistrict", "community", "grid"]


@dataclass(frozen=True)
class LineList:
    """What a view streams: the header, the rows (lazy) and the file's title."""

    title: str
    header: list[str]
    rows: Iterator[Sequence[Any]]

    def csv(self) -> Iterator[bytes]:
        return csv_stream(self.header, self.rows)

    def xlsx(self) -> Iterator[bytes]:
        return xlsx_stream(self.title, self.header, self.rows)


def _keyset(qs: QuerySet[Any], fields: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    """Rows of ``qs`` as tuples of ``fields`` (``scope_path`` and ``id`` first), one
    index range seek a page."""
    assert tuple(fields[:2]) == ("scope_path", "id")
    last: tuple[str, int] | None = None
    base = qs.order_by()
    while True:
        page = base
        if last is not None:
            page = page.filter(scope_path__gte=last[0]).exclude(scope_path=last[0], id__lte=last[1])
        sql, params = (
            page.order_by("scope_path", "id").values_list(*fields)[:CHUNK].query.sql_with_params()
        )
        with connection.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
        if not rows:
            return
        yield from rows
        last = (rows[-1][0], rows[-1][1])


def _places(prefix: str) -> dict[str, tuple[int, str]]:
    """Names of the district-to-grid nodes in and above scope: path -> (column, name)."""
    depth = len(prefix) // PATH_SEGMENT
    ancestors = [prefix[: i * PATH_SEGMENT] for i in range(1, depth + 1)]
    nodes = Jurisdiction.objects.subtree_of(prefix) | Jurisdiction.objects.filter(
        path__in=ancestors
    )
    out: dict[str, tuple[int, str]] = {}
    for node in nodes.filter(level__in=PLACE_LEVELS).only("path", "level", "name_zh", "name_en"):
        out[node.path] = (PLACE_LEVELS.index(node.level), node.name)
    return out


def _place_of(places: dict[str, tuple[int, str]], path: str) -> list[str]:
    cells = ["", "", "", ""]
    for end in range(PATH_SEGMENT, len(path) + 1, PATH_SEGMENT):
        found = places.get(path[:end])
        if found is not None:
            cells[found[0]] = found[1]
    return cells


def _age(birth: dt.date | None, on: dt.date) -> int | str:
    if birth is None:
        return ""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def _labels(choices: Any) -> dict[str, str]:
    return {v: str(label) for v, label in choices}


def _place_header() -> list[str]:
    return [_("District"), _("Subdistrict"), _("Community"), _("Grid")]


def _person_header(unmask: bool) -> list[str]:
    named = [pgettext("person", "Name"), _("Document number"), _("Phone")] if unmask else []
    return [*named, _("Sex"), _("Age"), *([] if unmask else [_("Document number"), _("Phone")])]


def _unmask_check(actor: Actor, unmask: bool, reason: str) -> None:
    if not unmask:
        return
    permissions.require(actor, "person.unmask")
    if len((reason or "").strip()) < 4:
        raise ValidationFailed(fields={"reason": _("Say why you need names and full numbers.")})


def _audit(
    actor: Actor, action: str, prefix: str, filters: dict[str, Any], unmask: bool, reason: str
) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=action,
            object_type="investigation.linelist",
            scope_path=prefix,
            changes={"filters": [None, filters], "unmasked": [None, unmask]},
            reason=reason.strip() if unmask else "",
        )


def _people_rows(
    rows: Iterator[tuple[Any, ...]],
    person_at: int,
    unmask: bool,
    today: dt.date,
    sexes: dict[str, str],
    build: Callable[[tuple[Any, ...], list[Any]], list[Any]],
) -> Iterator[list[Any]]:
    """Join each page's people (one query a page) and build the rows."""
    buffer: list[tuple[Any, ...]] = []

    def flush() -> Iterator[list[Any]]:
        ids = [r[person_at] for r in buffer]
        fields = ["id", "sex", "birth_date", "doc_masked", "phone_masked"]
        if unmask:
            fields += ["name", "doc_number_encrypted", "phone_encrypted"]
        people = {p[0]: p for p in Person.objects.filter(pk__in=ids).values_list(*fields)}
        for r in buffer:
            p = people.get(r[person_at])
            if p is None:
                cells: list[Any] = ["", "", "", ""] + (["", "", ""] if unmask else [])
            elif unmask:
                cells = [
                    p[5],
                    decrypt(p[6]) if p[6] else "",
                    decrypt(p[7]) if p[7] else "",
                    sexes.get(p[1], p[1]),
                    _age(p[2], today),
                ]
            else:
                cells = [sexes.get(p[1], p[1]), _age(p[2], today), p[3], p[4]]
            yield build(r, cells)
        buffer.clear()

    for row in rows:
        buffer.append(row)
        if len(buffer) >= CHUNK:
            yield from flush()
    if buffer:
        yield from flush()


CASE_FIELDS = [
    "scope_path",
    "id",
    "number",
    "disease_id",
    "classification",
    "onset_date",
    "first_positive_date",
    "report_date",
    "found_by",
    "severity",
    "treatment_facility",
    "facility_name",
    "outcome",
    "outcome_date",
    "released_at",
    "investigation_status",
    "cluster_id",
    "person_id",
]


def case_line_list(
    *,
    actor: Actor,
    qs: QuerySet[Case],
    filters: dict[str, Any],
    unmask: bool = False,
    reason: str = "",
) -> LineList:
    """The cases of ``qs`` (from ``case_list_for``: already scoped) as a line list."""
    permissions.require(actor, "case.view")
    _unmask_check(actor, unmask, reason)
    prefix = permissions.scope_path(actor) or ""
    _audit(actor, "case.linelist.export", prefix, filters, unmask, reason)
    header = [
        pgettext("case", "Case number"),
        _("Disease"),
        pgettext("case", "Classification"),
        _("Onset date"),
        _("First positive sample date"),
        _("Report date"),
        _("How found"),
        _("Severity"),
        _("Treatment facility"),
        _("Facility name"),
        _("Outcome"),
        _("Outcome date"),
        _("Released from isolation"),
        _("Investigation status"),
        _("Cluster"),
        *_place_header(),
        *_person_header(unmask),
    ]
    labels = {
        "classification": _labels(Case.Classification.choices),
        "found_by": _labels(Case.FoundBy.choices),
        "severity": _labels(Case.Severity.choices),
        "facility": _labels(Case.Facility.choices),
        "outcome": _labels(Case.Outcome.choices),
        "status": _labels(Case.InvestigationStatus.choices),
    }
    diseases = {d.pk: d.name for d in Disease.objects.all()}
    places = _places(prefix)
    sexes = _labels(Person.Sex.choices)
    today = timezone.localdate()

    def build(r: tuple[Any, ...], person: list[Any]) -> list[Any]:
        (path, _id, number, disease, cls, onset, positive, reported, found, sev, fac, fname,
         outcome, outcome_on, released, status, cluster, _person) = r  # fmt: skip
        return [
            number,
            diseases.get(disease, ""),
            labels["classification"].get(cls, cls),
            _date(onset),
            _date(positive),
            _date(reported),
            labels["found_by"].get(found, found),
            labels["severity"].get(sev, sev),
            labels["facility"].get(fac, fac),
            fname,
            labels["outcome"].get(outcome, outcome),
            _date(outcome_on),
            _date(released),
            labels["status"].get(status, status),
            cluster or "",
            *_place_of(places, path),
            *person,
        ]

    rows = _people_rows(
        _keyset(qs, CASE_FIELDS), CASE_FIELDS.index("person_id"), unmask, today, sexes, build
    )
    return LineList(_("Cases"), header, rows)


CONTACT_FIELDS = [
    "scope_path",
    "id",
    "disease_id",
    "category",
    "exposure_type",
    "relation",
    "first_exposure",
    "last_exposure",
    "monitoring_end",
    "status",
    "source_case__number",
    "person_id",
]


def contact_line_list(
    *,
    actor: Actor,
    qs: QuerySet[Contact],
    filters: dict[str, Any],
    unmask: bool = False,
    reason: str = "",
) -> LineList:
    """The contacts of ``qs`` (from ``contact_list_for``: already scoped)."""
    permissions.require(actor, "contact.view")
    _unmask_check(actor, unmask, reason)
    prefix = permissions.scope_path(actor) or ""
    _audit(actor, "contact.linelist.export", prefix, filters, unmask, reason)
    header = [
        _("Disease"),
        _("Category"),
        _("Exposure"),
        _("Relation"),
        _("First exposure"),
        _("Last exposure"),
        _("Monitoring ends"),
        _("Status"),
        _("Source case"),
        *_place_header(),
        *_person_header(unmask),
    ]
    categories = _labels(Contact.Category.choices)
    exposures = _labels(Contact.ExposureType.choices)
    statuses = _labels(Contact.Status.choices)
    diseases = {d.pk: d.name for d in Disease.objects.all()}
    places = _places(prefix)
    sexes = _labels(Person.Sex.choices)
    today = timezone.localdate()

    def build(r: tuple[Any, ...], person: list[Any]) -> list[Any]:
        path, _id, disease, cat, exp, relation, first, last, ends, status, source, _p = r
        return [
            diseases.get(disease, ""),
            categories.get(cat, cat),
            exposures.get(exp, exp),
            relation,
            _date(first),
            _date(last),
            _date(ends),
            statuses.get(status, status),
            source or "",
            *_place_of(places, path),
            *person,
        ]

    rows = _people_rows(
        _keyset(qs, CONTACT_FIELDS), CONTACT_FIELDS.index("person_id"), unmask, today, sexes, build
    )
    return LineList(_("Contacts"), header, rows)
