"""Import of case line lists with an infector column (DS4C PatientInfo, or a
generic CSV), as they are.

Row problems never stop the import: they are listed in the report and every
other row imports. Kinds: ``malformed_row`` (wrong number of columns),
``missing_id``, ``bad_id``, ``duplicate_id`` (the first row with an id wins),
``already_imported``, ``missing_date`` / ``bad_date`` (no usable confirmation
date: the row is not imported), ``self_infection``, ``unknown_infector``,
``mutual_infection`` (two people recorded as infecting each other: neither link
is kept), ``multiple_infectors`` (only the first is linked). For the last four
the case imports, only the link is dropped.

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
  status "became a case", and the infectee's ``Case.source_contact``;
- each named ``infection_case`` (not "contact with patient", "overseas
  inflow", "etc" or empty) → a named cluster the cases are pinned to; then the
  disease's clusters are recomputed.

Decisions use the disease rule version in force on the day of the import.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

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
from fangkong.investigation.models import Case, Cluster, Contact
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
    errors: list[dict[str, Any]] = field(default_factory=list)
    clusters: dict[str, Any] = field(default_factory=dict)

    def error(self, row: int, kind: str, message: str) -> None:
        self.errors.append({"row": row, "kind": kind, "message": message})

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "cases_imported": self.cases_imported,
            "links_imported": self.links_imported,
            "errors": self.errors,
            "clusters": self.clusters,
        }


@dataclass
class _Row:
    line: int
    ext_id: str
    sex: str
    birth: dt.date | None
    onset: dt.date | None
    confirmed: dt.date
    infectors: list[str]
    event: str
    place: str
    classification: str
    released: dt.date | None
    deceased: dt.date | None


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(
        fields={"file": _("The file is neither UTF-8 nor GBK/GB18030 text.")}, code="encoding"
    )


def _date(value: str) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        return None
    return dt.date.fromisoformat(value)


def _birth_from_age(age: str, birth_year: str, confirmed: dt.date) -> dt.date | None:
    if birth_year.strip().isdigit():
        return dt.date(int(birth_year), 7, 1)
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


def _records(text: str, fmt: str, report: LineListReport) -> list[_Row]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationFailed(fields={"file": _("The file is empty.")}) from None
    cols = _header_check(header, fmt)
    width = len(cols)
    today = timezone.localdate()
    out: list[_Row] = []
    for line, values in enumerate(reader, start=2):
        if not values or all(not v.strip() for v in values):
            continue
        report.rows += 1
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
        r = {k: (v or "").strip() for k, v in zip(cols, values, strict=True)}
        if fmt == "ds4c":
            r = {
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
        ext_id = r.get("id", "").upper()
        if not ext_id:
            report.error(line, "missing_id", _("The row has no line-list id."))
            continue
        if not re.fullmatch(r"[A-Z0-9\-]{3,32}", ext_id):
            report.error(line, "bad_id", _("“%(id)s” is not a usable id.") % {"id": ext_id})
            continue
        try:
            confirmed = _date(r.get("confirmed_date", ""))
            onset = _date(r.get("onset_date", ""))
            released = _date(r.get("released_date", ""))
            deceased = _date(r.get("deceased_date", ""))
        except ValueError:
            report.error(
                line, "bad_date", _("A date of %(id)s is not YYYY-MM-DD.") % {"id": ext_id}
            )
            continue
        if confirmed is None:
            report.error(
                line, "missing_date", _("%(id)s has no confirmation date.") % {"id": ext_id}
            )
            continue
        if max(d for d in (confirmed, onset, released, deceased) if d) > today:
            report.error(line, "bad_date", _("A date of %(id)s is in the future.") % {"id": ext_id})
            continue
        classification = (r.get("classification") or "confirmed").lower()
        if classification not in (Case.Classification.CONFIRMED, Case.Classification.ASYMPTOMATIC):
            classification = Case.Classification.CONFIRMED
        out.append(
            _Row(
                line=line,
                ext_id=ext_id,
                sex=_SEX.get(r.get("sex", "").lower(), "U"),
                birth=_birth_from_age(r.get("age", ""), r.get("birth_year", ""), confirmed),
                onset=onset,
                confirmed=confirmed,
                infectors=[
                    i.strip().upper()
                    for i in re.split(r"[,;\s]+", r.get("infected_by", ""))
                    if i.strip()
                ],
                event=r.get("cluster", ""),
                place=r.get("place", "")[:200],
                classification=classification,
                released=released,
                deceased=deceased,
            )
        )
    return out


def linelist_import(
    *,
    actor: Any,
    data: bytes,
    fmt: str,
    disease_code: str = "covid19",
    into_code: str | None = None,
) -> LineListReport:
    """Import a line list; see the module docstring. One transaction."""
    permissions.require(actor, "linelist.import")
    if fmt not in FORMATS:
        raise ValidationFailed(
            fields={"format": _("Choose one of: %(formats)s.") % {"formats": ", ".join(FORMATS)}}
        )
    disease = disease_by_code(disease_code, field="disease")
    if into_code:
        node = access_jurisdiction_by_code(actor, into_code)
    else:
        profile = permissions.staff_profile(actor)
        if profile is None:
            raise ValidationFailed(fields={"into": _("Give the jurisdiction node to import into.")})
        node = profile.jurisdiction
    report = LineListReport()
    records = _records(decode(data), fmt, report)
    today = timezone.localdate()
    rules = rules_in_force(disease, today)

    with transaction.atomic():
        # Duplicates in the file and rows imported before.
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
        rows = fresh

        # Infector links.
        ids = {r.ext_id for r in rows}
        first_infector: dict[str, str] = {}
        for rec in rows:
            if rec.infectors:
                first_infector[rec.ext_id] = rec.infectors[0]
        links: dict[str, str] = {}  # infectee -> infector
        for rec in rows:
            if not rec.infectors:
                continue
            infector = rec.infectors[0]
            if len(rec.infectors) > 1:
                report.error(
                    rec.line,
                    "multiple_infectors",
                    _("%(id)s lists several infectors; only the first, %(first)s, is linked.")
                    % {"id": rec.ext_id, "first": infector},
                )
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
            elif first_infector.get(infector) == rec.ext_id:
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
                links[rec.ext_id] = infector

        # People: reuse earlier line-list registrations, create the others.
        hashes = {r.ext_id: lookup_hash("doc", r.ext_id) for r in rows}
        known_people = dict(
            Person.objects.active()
            .filter(doc_type=Person.DocumentType.LINE_LIST, doc_hash__in=list(hashes.values()))
            .values_list("doc_hash", "id")
        )
        new_people = []
        for rec in rows:
            if hashes[rec.ext_id] in known_people:
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
            known_people[p.doc_hash] = p.pk
        person_of = {r.ext_id: known_people[hashes[r.ext_id]] for r in rows}

        # Named clusters (events).
        event_names = sorted({r.event for r in rows if r.event.lower() not in GENERIC_SOURCES})
        events = {
            c.name: c
            for c in Cluster.objects.filter(disease=disease, named=True, name__in=event_names)
        }
        missing = [n for n in event_names if n not in events]
        for c in Cluster.objects.bulk_create(
            [
                Cluster(disease=disease, name=n[:200], named=True, scope_path=node.path)
                for n in missing
            ]
        ):
            events[c.name] = c

        # Cases, numbered per year in the node's city.
        city = city_code_for(node.path) or "000000"
        by_year: dict[int, list[_Row]] = defaultdict(list)
        for rec in rows:
            by_year[rec.confirmed.year].append(rec)
        numbers: dict[str, str] = {}
        for year, recs in sorted(by_year.items()):
            for rec, number in zip(recs, case_numbers_allocate(city, year, len(recs)), strict=True):
                numbers[rec.ext_id] = number
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
        created = Case.objects.bulk_create(cases, batch_size=1000)
        case_of = {c.external_ref: c for c in created}
        case_id_of = {**earlier, **{k: c.pk for k, c in case_of.items()}}
        rec_of = {r.ext_id: r for r in rows}

        # Links: contacts that became cases.
        days = monitoring_days(rules, Contact.Category.CLOSE)
        contacts = []
        for infectee, infector in links.items():
            rec = rec_of[infectee]
            exposed = min(d for d in (rec.onset, rec.confirmed) if d)
            contacts.append(
                Contact(
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
                    notes=_("Imported from a line list (exposure date unknown)."),
                    scope_path=node.path,
                    created_by=actor if getattr(actor, "is_authenticated", False) else None,
                )
            )
        made = Contact.objects.bulk_create(contacts, batch_size=1000)
        pairs = [
            (contact.pk, case_of[infectee].pk)
            for infectee, contact in zip(links, made, strict=True)
        ]
        table = connection.ops.quote_name(Case._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET source_contact_id = %s WHERE id = %s",  # noqa: S608
                pairs,
            )
        report.cases_imported = len(created)
        report.links_imported = len(made)

        cluster_recompute(disease)
        sizes = Counter(
            Case.objects.filter(pk__in=[c.pk for c in created], cluster__isnull=False).values_list(
                "cluster_id", flat=True
            )
        )
        counts = dict(Cluster.objects.filter(pk__in=list(sizes)).values_list("id", "case_count"))
        report.clusters = {
            "count": sum(1 for n in counts.values() if n >= 2),
            "largest": max(counts.values(), default=0),
            "named": len(event_names),
        }
        report.errors.sort(key=lambda e: (e["row"], e["kind"]))
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
                "errors": len(report.errors),
            },
        )
    return report
