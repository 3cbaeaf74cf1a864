"""Import of case line lists with an infector column (DS4C PatientInfo, or a
generic CSV), as they are.

Row problems never stop the import: they are listed in the report and every
other row imports. Errors: ``malformed_row`` (wrong number of columns),
``missing_id``, ``bad_id``, ``duplicate_id`` (the first row with an id wins),
``already_imported``, ``bad_date`` (a date that is not one, or in the future:
the row is not imported), ``self_infection``, ``unknown_infector``,
``mutual_infection`` (two people recorded as infecting each other: neither link
is kept); for the last three the case imports, only the link is dropped.
Warnings (nothing is lost): ``missing_date`` (no confirmation date: the case
imports with its report date unknown and ``needs_completion`` set),
``multiple_infectors`` (every named infector is kept: the first usable one as
the source of the case, the others as possible sources).

What becomes what:

- each patient → a person with document type "line_list" (number = the
  line-list id), named "Patient <id>", sex as given, and an approximate birth
  date from the age band: 1 July of (year of confirmation − band midpoint),
  e.g. "50s" confirmed in 2020 → 1965-07-01; the person lives under the
  jurisdiction node given with ``--into`` (no home building);
- each row → a confirmed case (report date = confirmation date, onset as given,
  first positive sample = confirmation date, reporting unit = the place as
  given, "province / city"; outcome from released / deceased dates), numbered
  in the city of that node;
- each infector link → a close contact of the infector's case (exposure type
  "other", relation = the line list's ``infection_case``; the exposure date is
  not in the file: recorded as the infectee's onset, or confirmation, date),
  status "became a case", and the infectee's ``Case.source_contact``; a further
  infector named on the same row → the same kind of contact marked
  ``possible_source``, which is not the case's source;
- each named ``infection_case`` (not "contact with patient", "overseas
  inflow", "etc" or empty) → a named cluster the cases are pinned to; then the
  disease's clusters are recomputed.

The report counts the transmission chains (``chains``: cases joined by infector
links alone, two or more) and the clusters (``clusters``: joined by links and
named events; ``named`` events) that hold the imported cases.

Decisions use the disease rule version in force on the day of the import.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.crypto import lookup_hash
from fangkong.core.errors import ValidationFailed
from fangkong.core.models import Person
from fangkong.core.selectors import access_jurisdiction_by_code
from fangkong.core.services import PersonData, person_clean, person_instance
from fangkong.core.tabular import FileRejected, csv_records, decode_text
from fangkong.core.types import Actor
from fangkong.investigation.models import Case, Cluster, Contact
from fangkong.investigation.selectors.clusters import chain_components
from fangkong.investigation.services.cases import case_numbers_allocate, city_code_for
from fangkong.investigation.services.clusters import cluster_recompute
from fangkong.investigation.services.rules import disease_by_code, monitoring_days, rules_in_force

DS4C_COLUMNS = [
    "patient_id",
    "sex",
    "age",
    "country",
    "province",
    "city",
    "infection_case",
    "infected_by",
    "contact_number",
    "symptom_onset_date",
    "confirmed_date",
    "released_date",
    "deceased_date",
    "state",
]
GENERIC_REQUIRED = ["id", "confirmed_date"]
GENERIC_OPTIONAL = [
    "sex",
    "age",
    "birth_year",
    "onset_date",
    "infected_by",
    "cluster",
    "place",
    "classification",
    "released_date",
    "deceased_date",
]
FORMATS = ("ds4c", "generic")
# infection_case values that name no event
GENERIC_SOURCES = {"", "contact with patient", "overseas inflow", "etc", "unknown", "other"}
_AGE_BAND = re.compile(r"^(\d{1,3})s$")
_SEX = {"male": "M", "m": "M", "男": "M", "female": "F", "f": "F", "女": "F"}


@dataclass
class LineListReport:
    rows: int = 0
    cases_imported: int = 0
    links_imported: int = 0
    possible_sources: int = 0
    to_complete: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    chains: dict[str, int] = field(default_factory=dict)
    clusters: dict[str, int] = field(default_factory=dict)

    def error(self, row: int, kind: str, message: str) -> None:
        self.errors.append({"row": row, "kind": kind, "message": message})

    def warning(self, row: int, kind: str, message: str) -> None:
        self.warnings.append({"row": row, "kind": kind, "message": message})

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "cases_imported": self.cases_imported,
            "links_imported": self.links_imported,
            "possible_sources": self.possible_sources,
            "to_complete": self.to_complete,
            "errors": self.errors,
            "warnings": self.warnings,
            "chains": self.chains,
            "clusters": self.clusters,
        }


@dataclass
class _Row:
    line: int
    ext_id: str
    sex: str
    birth: dt.date | None
    onset: dt.date | None
    confirmed: dt.date | None  # None: imported with the report date to be completed
    infectors: list[str]
    event: str
    place: str
    classification: str
    released: dt.date | None
    deceased: dt.date | None

    @property
    def known_day(self) -> dt.date | None:
        """The confirmation date, else the earliest date the row gives."""
        days = [d for d in (self.onset, self.released, self.deceased) if d]
        return self.confirmed or (min(days) if days else None)


def _date(value: str) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        return None
    return dt.date.fromisoformat(value)


def _birth_from_age(age: str, birth_year: str, confirmed: dt.date | None) -> dt.date | None:
    if birth_year.strip().isdigit():
        return dt.date(int(birth_year), 7, 1)
    if confirmed is None:  # an age band needs the year it was given in
        return None
    age = age.strip().lower()
    m = _AGE_BAND.match(age)
    if m:
        midpoint = int(m.group(1)) + 5
    elif age.isdigit():
        midpoint = int(age)
    else:
        return None
    if midpoint > 120:
        return None
    return dt.date(confirmed.year - midpoint, 7, 1)


def _header_check(header: list[str], fmt: str) -> list[str]:
    cols = [h.strip() for h in header]
    if fmt == "ds4c":
        unknown = [c for c in cols if c not in DS4C_COLUMNS]
        missing = [c for c in DS4C_COLUMNS if c not in cols]
    else:
        unknown = [c for c in cols if c not in GENERIC_REQUIRED + GENERIC_OPTIONAL]
        missing = [c for c in GENERIC_REQUIRED if c not in cols]
    fields: dict[str, str] = {}
    if unknown:
        fields["columns"] = _("Unknown columns: %(columns)s. Expected: %(expected)s.") % {
            "columns": ", ".join(unknown),
            "expected": ", ".join(
                DS4C_COLUMNS if fmt == "ds4c" else GENERIC_REQUIRED + GENERIC_OPTIONAL
            ),
        }
    if missing:
        fields["missing_columns"] = _("Missing columns: %(columns)s.") % {
            "columns": ", ".join(missing)
        }
    if fields:
        raise ValidationFailed(_("The file's columns do not fit this format."), fields=fields)
    return cols


# --- Stage 1: parse -------------------------------------------------------------------


def _fields(values: list[str], cols: list[str], fmt: str) -> dict[str, str]:
    """A row's cells by the generic column names (DS4C's renamed)."""
    r = {k: (v or "").strip() for k, v in zip(cols, values, strict=True)}
    if fmt != "ds4c":
        return r
    return {
        "id": r["patient_id"],
        "sex": r["sex"],
        "age": r["age"],
        "onset_date": r["symptom_onset_date"],
        "confirmed_date": r["confirmed_date"],
        "infected_by": r["infected_by"],
        "cluster": r["infection_case"],
        "place": " / ".join(p for p in (r["province"], r["city"]) if p),
        "released_date": r["released_date"],
        "deceased_date": r["deceased_date"],
    }


def _parse_record(
    line: int, r: dict[str, str], report: LineListReport, today: dt.date
) -> _Row | None:
    """One row's case, or None with the problem in the report."""
    ext_id = r.get("id", "").upper()
    if not ext_id:
        report.error(line, "missing_id", _("The row has no line-list id."))
        return None
    if not re.fullmatch(r"[A-Z0-9\-]{3,32}", ext_id):
        report.error(line, "bad_id", _("“%(id)s” is not a usable id.") % {"id": ext_id})
        return None
    try:
        confirmed = _date(r.get("confirmed_date", ""))
        onset = _date(r.get("onset_date", ""))
        released = _date(r.get("released_date", ""))
        deceased = _date(r.get("deceased_date", ""))
    except ValueError:
        report.error(line, "bad_date", _("A date of %(id)s is not YYYY-MM-DD.") % {"id": ext_id})
        return None
    if max((d for d in (confirmed, onset, released, deceased) if d), default=today) > today:
        report.error(line, "bad_date", _("A date of %(id)s is in the future.") % {"id": ext_id})
        return None
    if confirmed is None:
        report.warning(
            line,
            "missing_date",
            _(
                "%(id)s has no confirmation date: imported with the report date unknown, "
                "to be completed."
            )
            % {"id": ext_id},
        )
    classification = (r.get("classification") or "confirmed").lower()
    if classification not in (Case.Classification.CONFIRMED, Case.Classification.ASYMPTOMATIC):
        classification = Case.Classification.CONFIRMED
    return _Row(
        line=line,
        ext_id=ext_id,
        sex=_SEX.get(r.get("sex", "").lower(), "U"),
        birth=_birth_from_age(r.get("age", ""), r.get("birth_year", ""), confirmed or onset),
        onset=onset,
        confirmed=confirmed,
        infectors=list(
            dict.fromkeys(
                i.strip().upper()
                for i in re.split(r"[,;\s]+", r.get("infected_by", ""))
                if i.strip()
            )
        ),
        event=r.get("cluster", ""),
        place=r.get("place", "")[:200],
        classification=classification,
        released=released,
        deceased=deceased,
    )


def _parse(text: str, fmt: str, report: LineListReport) -> list[_Row]:
    """The file's rows as cases to be, numbered as in the spreadsheet (header = 1)."""
    records = csv_records(text, delimiter=",")
    first = next(records, None)
    if first is None:
        raise FileRejected(_("The file is empty."))
    cols = _header_check(first[1], fmt)
    width = len(cols)
    today = timezone.localdate()
    out: list[_Row] = []
    for line, cells in records:
        report.rows += 1
        values = cells
        if len(values) == 1 and width > 1 and "," in values[0]:
            # A whole row quoted as one field: read its inside as the row.
            inner = next(csv.reader([values[0]]), [])
            if len(inner) == width:
                values = inner
        if len(values) != width:
            report.error(
                line,
                "malformed_row",
                _("This row has %(got)s columns instead of %(want)s.")
                % {"got": len(values), "want": width},
            )
            continue
        row = _parse_record(line, _fields(values, cols, fmt), report, today)
        if row is not None:
            out.append(row)
    return out


# --- Stage 2: resolve against the file itself and what is stored ---------------------------


def _fresh(
    records: list[_Row], disease: Any, report: LineListReport
) -> tuple[list[_Row], dict[str, int]]:
    """The rows to import (the first of each id, none imported before) and the case
    ids of the rows imported before, by line-list id."""
    seen: dict[str, _Row] = {}
    rows: list[_Row] = []
    for rec in records:
        if rec.ext_id in seen:
            report.error(
                rec.line,
                "duplicate_id",
                _("%(id)s already appears on row %(row)s; this row is skipped.")
                % {"id": rec.ext_id, "row": seen[rec.ext_id].line},
            )
            continue
        seen[rec.ext_id] = rec
        rows.append(rec)
    earlier = dict(
        Case.objects.filter(disease=disease, external_ref__in=[r.ext_id for r in rows])
        .exclude(external_ref="")
        .values_list("external_ref", "id")
    )
    fresh = []
    for rec in rows:
        if rec.ext_id in earlier:
            report.error(
                rec.line,
                "already_imported",
                _("%(id)s was imported before; this row is skipped.") % {"id": rec.ext_id},
            )
        else:
            fresh.append(rec)
    return fresh, earlier


@dataclass
class _Links:
    """Infectee → the infector linked as the source of the case, and (infectee,
    infector) pairs of the further infectors a row names (possible sources)."""

    source: dict[str, str] = field(default_factory=dict)
    possible: list[tuple[str, str]] = field(default_factory=list)


def _usable_infectors(
    rec: _Row, ids: set[str], earlier: dict[str, int], report: LineListReport
) -> list[str]:
    """The infectors a row names that can be linked: not the row itself, and in the
    line list (this file or an earlier import); the others are reported."""
    usable = []
    for infector in rec.infectors:
        if infector == rec.ext_id:
            report.error(
                rec.line,
                "self_infection",
                _("%(id)s is recorded as their own infector; the link is dropped.")
                % {"id": rec.ext_id},
            )
        elif infector not in ids and infector not in earlier:
            report.error(
                rec.line,
                "unknown_infector",
                _("Infector %(infector)s of %(id)s is not in the line list.")
                % {"infector": infector, "id": rec.ext_id},
            )
        else:
            usable.append(infector)
    return usable


def _infector_links(rows: list[_Row], earlier: dict[str, int], report: LineListReport) -> _Links:
    """The links to keep (see the module docstring): the first usable infector of a
    row is the source of its case unless the two name each other as first (then
    neither is); every other usable infector is a possible source."""
    ids = {r.ext_id for r in rows}
    usable = {rec.ext_id: _usable_infectors(rec, ids, earlier, report) for rec in rows}
    first = {ext_id: named[0] for ext_id, named in usable.items() if named}
    links = _Links()
    for rec in rows:
        named = usable[rec.ext_id]
        if not named:
            continue
        infector, others = named[0], named[1:]
        if first.get(infector) == rec.ext_id:
            report.error(
                rec.line,
                "mutual_infection",
                _(
                    "%(id)s and %(other)s are recorded as infecting each other; "
                    "neither link is kept."
                )
                % {"id": rec.ext_id, "other": infector},
            )
        else:
            links.source[rec.ext_id] = infector
        if others:
            links.possible.extend((rec.ext_id, other) for other in others)
            report.warning(
                rec.line,
                "multiple_infectors",
                _(
                    "%(id)s names several infectors: %(first)s is linked as the source, "
                    "%(others)s kept as possible sources."
                )
                % {"id": rec.ext_id, "first": infector, "others": ", ".join(others)},
            )
    return links


def _people(rows: list[_Row], node: Any) -> dict[str, int]:
    """Person ids by line-list id: earlier line-list registrations reused, the others
    created under ``node``."""
    hashes = {r.ext_id: lookup_hash("doc", r.ext_id) for r in rows}
    known = dict(
        Person.objects.active()
        .filter(doc_type=Person.DocumentType.LINE_LIST, doc_hash__in=list(hashes.values()))
        .values_list("doc_hash", "id")
    )
    new_people = []
    for rec in rows:
        if hashes[rec.ext_id] in known:
            continue
        clean = person_clean(
            PersonData(
                doc_type=Person.DocumentType.LINE_LIST,
                doc_number=rec.ext_id,
                name=f"Patient {rec.ext_id}",  # a stable label (data, not interface text)
                sex=rec.sex,
                birth_date=rec.birth,
            )
        )
        new_people.append(person_instance(clean, scope_path=node.path))
    for p in Person.objects.bulk_create(new_people, batch_size=1000):
        known[p.doc_hash] = p.pk
    return {r.ext_id: known[hashes[r.ext_id]] for r in rows}


def _events(rows: list[_Row], disease: Any, node: Any) -> dict[str, Cluster]:
    """The named clusters (events) of the rows, found or created."""
    names = sorted({r.event for r in rows if r.event.lower() not in GENERIC_SOURCES})
    events = {
        c.name: c for c in Cluster.objects.filter(disease=disease, named=True, name__in=names)
    }
    missing = [n for n in names if n not in events]
    for c in Cluster.objects.bulk_create(
        [Cluster(disease=disease, name=n[:200], named=True, scope_path=node.path) for n in missing]
    ):
        events[c.name] = c
    return events


# --- Stage 3: write ---------------------------------------------------------------------


def _numbers(rows: list[_Row], node: Any) -> dict[str, str]:
    """Case numbers by line-list id, allocated per year in the node's city."""
    city = city_code_for(node.path) or "000000"
    by_year: dict[int, list[_Row]] = defaultdict(list)
    today = timezone.localdate()
    for rec in rows:
        by_year[(rec.known_day or today).year].append(rec)
    numbers: dict[str, str] = {}
    for year, recs in sorted(by_year.items()):
        for rec, number in zip(recs, case_numbers_allocate(city, year, len(recs)), strict=True):
            numbers[rec.ext_id] = number
    return numbers


def _create_cases(
    rows: list[_Row],
    *,
    disease: Any,
    rules: Any,
    node: Any,
    person_of: dict[str, int],
    events: dict[str, Cluster],
) -> list[Case]:
    numbers = _numbers(rows, node)
    cases = []
    for rec in rows:
        outcome, outcome_date = Case.Outcome.NONE, None
        if rec.deceased:
            outcome, outcome_date = Case.Outcome.DIED, rec.deceased
        elif rec.released:
            outcome, outcome_date = Case.Outcome.RECOVERED, rec.released
        cases.append(
            Case(
                number=numbers[rec.ext_id],
                person_id=person_of[rec.ext_id],
                disease=disease,
                rules=rules,
                classification=rec.classification,
                onset_date=rec.onset,
                first_positive_date=rec.confirmed,
                report_date=rec.confirmed,
                needs_completion=rec.confirmed is None,
                reporting_unit=rec.place,
                found_by=(
                    Case.FoundBy.ARRIVAL
                    if rec.event.lower() == "overseas inflow"
                    else Case.FoundBy.OTHER
                ),
                outcome=outcome,
                outcome_date=outcome_date,
                released_at=rec.released,
                investigation_status=Case.InvestigationStatus.COMPLETED,
                named_cluster=events.get(rec.event),
                external_ref=rec.ext_id,
                scope_path=node.path,
            )
        )
    return Case.objects.bulk_create(cases, batch_size=1000)


def _create_links(
    links: _Links,
    *,
    rows: list[_Row],
    case_id_of: dict[str, int],
    person_of: dict[str, int],
    disease: Any,
    rules: Any,
    node: Any,
    actor: Actor,
) -> tuple[int, int]:
    """Each link a close contact of the infector's case that became the infectee's
    case; the case's source for the confirmed link, a possible source for the others.
    Returns (sources, possible sources)."""
    rec_of = {r.ext_id: r for r in rows}
    days = monitoring_days(rules, Contact.Category.CLOSE)
    today = timezone.localdate()

    def contact(infectee: str, infector: str, possible: bool) -> Contact:
        rec = rec_of[infectee]
        known = [d for d in (rec.onset, rec.confirmed) if d]
        exposed = min(known) if known else (rec.known_day or today)
        return Contact(
            disease=disease,
            rules=rules,
            source_case_id=case_id_of[infector],
            person_id=person_of[infectee],
            category=Contact.Category.CLOSE,
            exposure_type=Contact.ExposureType.OTHER,
            relation=rec.event[:100],
            first_exposure=exposed,
            last_exposure=exposed,
            monitoring_end=exposed + dt.timedelta(days=days),
            status=Contact.Status.BECAME_CASE,
            possible_source=possible,
            notes=_("Imported from a line list (exposure date unknown)."),
            scope_path=node.path,
            created_by=actor if isinstance(actor, User) else None,
        )

    sources = list(links.source.items())
    made = Contact.objects.bulk_create(
        [contact(a, b, False) for a, b in sources]
        + [contact(a, b, True) for a, b in links.possible],
        batch_size=1000,
    )
    pairs = [
        (c.pk, case_id_of[infectee])
        for (infectee, _infector), c in zip(sources, made[: len(sources)], strict=True)
    ]
    table = connection.ops.quote_name(Case._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET source_contact_id = %s WHERE id = %s",  # noqa: S608
            pairs,
        )
    return len(sources), len(links.possible)


def _chain_and_cluster_report(
    disease: Any, created: list[Case], events: dict[str, Cluster]
) -> tuple[dict[str, int], dict[str, int]]:
    """Clusters recomputed; the chains (infector links alone) and the clusters (links
    and named events) holding the imported cases, in figures."""
    cluster_recompute(disease)
    mine = {c.pk for c in created}
    chains = [
        size
        for members, size in chain_components(
            Case.objects.filter(disease=disease)
            .exclude(classification=Case.Classification.EXCLUDED)
            .values_list("id", "source_contact__source_case_id")
        )
        if size >= 2 and members & mine
    ]
    sizes = Counter(
        Case.objects.filter(pk__in=list(mine), cluster__isnull=False).values_list(
            "cluster_id", flat=True
        )
    )
    counts = dict(Cluster.objects.filter(pk__in=list(sizes)).values_list("id", "case_count"))
    return (
        {"count": len(chains), "largest": max(chains, default=0)},
        {
            "count": sum(1 for n in counts.values() if n >= 2),
            "largest": max(counts.values(), default=0),
            "named": len(events),
        },
    )


def _target_node(actor: Actor, into_code: str | None) -> Any:
    if into_code:
        return access_jurisdiction_by_code(actor, into_code)
    profile = permissions.staff_profile(actor)
    if profile is None:
        raise ValidationFailed(fields={"into": _("Give the jurisdiction node to import into.")})
    return profile.jurisdiction


def linelist_import(
    *,
    actor: Actor,
    data: bytes,
    fmt: str,
    disease_code: str = "covid19",
    into_code: str | None = None,
) -> LineListReport:
    """Import a line list (see the module docstring) in one transaction: parse the
    rows, resolve them (repeats, earlier imports, infector links, people, events),
    write the cases and links, recompute the clusters."""
    permissions.require(actor, "linelist.import")
    if fmt not in FORMATS:
        raise ValidationFailed(
            fields={"format": _("Choose one of: %(formats)s.") % {"formats": ", ".join(FORMATS)}}
        )
    disease = disease_by_code(disease_code, field="disease")
    node = _target_node(actor, into_code)
    report = LineListReport()
    records = _parse(decode_text(data), fmt, report)
    rules = rules_in_force(disease, timezone.localdate())
    with transaction.atomic():
        rows, earlier = _fresh(records, disease, report)
        links = _infector_links(rows, earlier, report)
        person_of = _people(rows, node)
        events = _events(rows, disease, node)
        created = _create_cases(
            rows, disease=disease, rules=rules, node=node, person_of=person_of, events=events
        )
        case_id_of = {**earlier, **{c.external_ref: c.pk for c in created}}
        report.cases_imported = len(created)
        report.to_complete = sum(1 for c in created if c.needs_completion)
        report.links_imported, report.possible_sources = _create_links(
            links,
            rows=rows,
            case_id_of=case_id_of,
            person_of=person_of,
            disease=disease,
            rules=rules,
            node=node,
            actor=actor,
        )
        report.chains, report.clusters = _chain_and_cluster_report(disease, created, events)
        report.errors.sort(key=lambda e: (e["row"], e["kind"]))
        report.warnings.sort(key=lambda e: (e["row"], e["kind"]))
        audit_record(
            actor=actor,
            action="linelist.import",
            object_type="investigation.case",
            scope_path=node.path,
            changes={
                "format": fmt,
                "disease": disease.code,
                "into": node.code or node.path,
                "rows": report.rows,
                "cases_imported": report.cases_imported,
                "links_imported": report.links_imported,
                "possible_sources": report.possible_sources,
                "to_complete": report.to_complete,
                "errors": len(report.errors),
                "warnings": len(report.warnings),
            },
        )
    return report
