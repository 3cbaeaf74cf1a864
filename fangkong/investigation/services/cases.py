"""Cases: readable numbers, create, classify, outcome, assignment, release.

A contact who becomes a case keeps the link to its source (``Case.source_contact``).
When the new case is confirmed or asymptomatic (not while merely suspected), the
person's contact links end as "became a case" and the person's own secondary
contacts become close contacts of the new case (see ``contacts.contact_became_case``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record_for, diff
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.events import publish
from fangkong.core.models import Jurisdiction, Person
from fangkong.core.selectors import access_person_by_id
from fangkong.core.types import Actor
from fangkong.investigation.models import Case, CaseNumberSequence, Contact, Disease
from fangkong.investigation.selectors.cases import access_case_by_id
from fangkong.investigation.services.rules import disease_by_code, rules_in_force

C = Case.Classification

# Which classification may follow which. Excluded is final: the case and its
# history stay, it just no longer counts.
TRANSITIONS: dict[str, set[str]] = {
    C.SUSPECTED: {C.CONFIRMED, C.ASYMPTOMATIC, C.EXCLUDED},
    C.ASYMPTOMATIC: {C.CONFIRMED, C.EXCLUDED},
    C.CONFIRMED: {C.EXCLUDED},
    C.EXCLUDED: set(),
}
INFECTED = {C.CONFIRMED, C.ASYMPTOMATIC}


# --- Case numbers ----------------------------------------------------------


def city_code_for(path: str) -> str | None:
    """The official code of the city-level ancestor of a tree path, if any."""
    prefixes = [path[:i] for i in range(4, len(path) + 1, 4)]
    node = (
        Jurisdiction.objects.filter(path__in=prefixes, level=Jurisdiction.Level.CITY)
        .exclude(code__isnull=True)
        .order_by("-depth")
        .first()
    )
    return node.code if node else None


def case_city_code(person: Person, actor: Actor) -> str:
    """The city of the person's home node, else the actor's city, else 000000."""
    code = city_code_for(person.scope_path) if person.scope_path else None
    if code is None:
        profile = permissions.staff_profile(actor)
        if profile is not None:
            code = city_code_for(profile.jurisdiction.path)
    return code or "000000"


def case_numbers_allocate(city_code: str, year: int, count: int = 1) -> list[str]:
    """Reserve ``count`` consecutive numbers. The counter row is locked
    (SELECT ... FOR UPDATE) so concurrent transactions get distinct numbers."""
    with transaction.atomic():
        seq, _created = CaseNumberSequence.objects.select_for_update().get_or_create(
            city_code=city_code, year=year
        )
        first = seq.last + 1
        seq.last += count
        seq.save(update_fields=["last"])
    return [f"{city_code}-{year}-{n:05d}" for n in range(first, first + count)]


# --- Helpers -----------------------------------------------------------------


def _snapshot(case: Case) -> dict[str, Any]:
    return {
        "number": case.number,
        "person_id": case.person_id,
        "disease": case.disease.code,
        "rules_version": case.rules.version,
        "classification": case.classification,
        "onset_date": case.onset_date,
        "first_positive_date": case.first_positive_date,
        "report_date": case.report_date,
        "reporting_unit": case.reporting_unit,
        "found_by": case.found_by,
        "severity": case.severity,
        "treatment_facility": case.treatment_facility,
        "facility_name": case.facility_name,
        "source_contact_id": case.source_contact_id,
    }


def _check_choice(errors: dict[str, str], field: str, value: str, choices: Any) -> None:
    if value not in choices.values:
        errors[field] = _("Unknown value “%(value)s”.") % {"value": value}


def _check_past(errors: dict[str, str], field: str, value: dt.date | None) -> None:
    if value is not None and value > timezone.localdate():
        errors[field] = _("This date is in the future.")


# --- Create ------------------------------------------------------------------


def case_create(
    *,
    actor: Actor,
    person_id: int,
    disease_code: str,
    classification: str,
    report_date: dt.date,
    found_by: str,
    onset_date: dt.date | None = None,
    first_positive_date: dt.date | None = None,
    reporting_unit: str = "",
    severity: str = Case.Severity.NONE,
    treatment_facility: str = Case.Facility.NONE,
    facility_name: str = "",
    source_contact_id: int | None = None,
    external_ref: str = "",
    reason: str = "",
) -> Case:
    permissions.require(actor, "case.manage")
    with transaction.atomic():
        person = access_person_by_id(actor, person_id)
        return case_create_unchecked(
            actor=actor,
            person=person,
            disease=disease_by_code(disease_code),
            classification=classification,
            report_date=report_date,
            found_by=found_by,
            onset_date=onset_date,
            first_positive_date=first_positive_date,
            reporting_unit=reporting_unit,
            severity=severity,
            treatment_facility=treatment_facility,
            facility_name=facility_name,
            source_contact_id=source_contact_id,
            external_ref=external_ref,
            reason=reason,
        )


def case_create_unchecked(
    *,
    actor: Actor,
    person: Person,
    disease: Disease,
    classification: str,
    report_date: dt.date,
    found_by: str,
    onset_date: dt.date | None = None,
    first_positive_date: dt.date | None = None,
    reporting_unit: str = "",
    severity: str = Case.Severity.NONE,
    treatment_facility: str = Case.Facility.NONE,
    facility_name: str = "",
    source_contact_id: int | None = None,
    external_ref: str = "",
    reason: str = "",
) -> Case:
    """Create a case for a person the caller has already resolved (also used by
    follow-up: "seen with symptoms" opens a suspected case). Audited."""
    from fangkong.investigation.services.clusters import cluster_link_case
    from fangkong.investigation.services.contacts import contact_became_case

    rules = rules_in_force(disease, report_date)
    errors: dict[str, str] = {}
    if classification not in (rules.classifications or []) or classification == C.EXCLUDED:
        errors["classification"] = _(
            "“%(value)s” is not a classification a new %(disease)s case can have."
        ) % {"value": classification, "disease": disease.name}
    _check_choice(errors, "found_by", found_by, Case.FoundBy)
    _check_choice(errors, "severity", severity, Case.Severity)
    _check_choice(errors, "treatment_facility", treatment_facility, Case.Facility)
    for field, value in (
        ("report_date", report_date),
        ("onset_date", onset_date),
        ("first_positive_date", first_positive_date),
    ):
        _check_past(errors, field, value)
    if onset_date and onset_date > report_date and "onset_date" not in errors:
        errors["onset_date"] = _("The onset date is after the report date.")
    if first_positive_date and first_positive_date > report_date:
        errors.setdefault(
            "first_positive_date", _("The first positive sample is after the report date.")
        )
    if classification == C.ASYMPTOMATIC and first_positive_date is None:
        errors["first_positive_date"] = _(
            "An asymptomatic infection needs the date of its first positive sample."
        )
    source: Contact | None = None
    if source_contact_id is not None:
        source = Contact.objects.select_for_update().filter(pk=source_contact_id).first()
        if source is None:
            errors["source_contact_id"] = _("Unknown contact.")
        elif source.person_id != person.pk:
            errors["source_contact_id"] = _("This contact link is about another person.")
        elif source.disease_id != disease.pk:
            errors["source_contact_id"] = _("This contact link is about another disease.")
        elif source.status == Contact.Status.BECAME_CASE:
            errors["source_contact_id"] = _("This contact link already led to a case.")
    else:
        # A person already known as a contact: link the case to that contact
        # (the strictest category, then the latest exposure) so the chain is kept.
        known = [
            c
            for c in Contact.objects.select_for_update().filter(
                person=person,
                disease=disease,
                status=Contact.Status.MONITORING,
                source_case__isnull=False,
            )
        ]
        if known:
            source = min(
                known,
                key=lambda c: (
                    Contact.CATEGORY_RANK[Contact.Category(c.category)],
                    -c.last_exposure.toordinal(),
                    -c.pk,
                ),
            )
    if errors:
        raise ValidationFailed(fields=errors)
    existing = (
        Case.objects.filter(person=person, disease=disease)
        .exclude(classification=C.EXCLUDED)
        .first()
    )
    if existing is not None:
        raise Conflict(
            _("This person already has an open case of this disease (%(number)s).")
            % {"number": existing.number},
            code="duplicate_case",
            extra={"existing_id": existing.pk},
        )
    number = case_numbers_allocate(case_city_code(person, actor), report_date.year)[0]
    case = Case.objects.create(
        number=number,
        person=person,
        disease=disease,
        rules=rules,
        classification=classification,
        onset_date=onset_date,
        first_positive_date=first_positive_date,
        report_date=report_date,
        reporting_unit=reporting_unit.strip(),
        found_by=found_by,
        severity=severity,
        treatment_facility=treatment_facility,
        facility_name=facility_name.strip(),
        source_contact=source,
        external_ref=external_ref,
        scope_path=person.scope_path,
    )
    audit_record_for(actor, "case.create", case, diff({}, _snapshot(case)), reason)
    if classification in INFECTED:  # status: confirmed case -> red (docs/events.md)
        publish(
            "case.confirmed",
            case_id=case.pk,
            person_id=case.person_id,
            disease_id=case.disease_id,
            actor=actor,
        )
    if source is not None and classification in INFECTED:
        contact_became_case(actor=actor, case=case)
    cluster_link_case(case)
    return case


# --- Transitions ---------------------------------------------------------------


def case_classify(
    *, actor: Actor, case_id: int, classification: str, reason: str = "", on: dt.date | None = None
) -> Case:
    """suspected → confirmed / asymptomatic / excluded; asymptomatic → confirmed;
    any → excluded (kept, with its history). Audited with before and after."""
    from fangkong.investigation.services.clusters import cluster_recompute
    from fangkong.investigation.services.contacts import contact_became_case

    permissions.require(actor, "case.manage")
    with transaction.atomic():
        case = access_case_by_id(actor, case_id, for_update=True)
        before = case.classification
        if classification not in C.values or classification not in (
            case.rules.classifications or []
        ):
            raise ValidationFailed(
                fields={
                    "classification": _("“%(value)s” is not a classification of %(disease)s.")
                    % {"value": classification, "disease": case.disease.name}
                }
            )
        if classification not in TRANSITIONS[before]:
            raise ValidationFailed(
                fields={
                    "classification": _("A %(before)s case cannot become %(after)s.")
                    % {"before": C(before).label, "after": C(classification).label}
                }
            )
        if classification == C.EXCLUDED and not reason.strip():
            raise ValidationFailed(fields={"reason": _("Say why the case is excluded.")})
        case.classification = classification
        case.save(update_fields=["classification", "updated_at"])
        audit_record_for(
            actor,
            "case.classify",
            case,
            diff({"classification": before}, {"classification": classification}),
            reason,
        )
        if classification in INFECTED and before not in INFECTED:  # status (docs/events.md)
            publish(
                "case.confirmed",
                case_id=case.pk,
                person_id=case.person_id,
                disease_id=case.disease_id,
                actor=actor,
            )
        if classification in INFECTED and before in INFECTED:  # dashboard cells (docs/events.md)
            publish(
                "case.reclassified",
                case_id=case.pk,
                person_id=case.person_id,
                disease_id=case.disease_id,
                previous=before,
                classification=classification,
                actor=actor,
            )
        if classification == C.EXCLUDED:  # status: the case's reasons end (docs/events.md)
            publish("case.excluded", case_id=case.pk, person_id=case.person_id, actor=actor)
        if classification in INFECTED and before not in INFECTED and case.source_contact_id:
            contact_became_case(actor=actor, case=case)
        if classification == C.EXCLUDED and case.cluster_id is not None:
            # Links are never removed incrementally: rebuild this disease's clusters.
            transaction.on_commit(lambda: cluster_recompute(case.disease))
    return case


def case_set_outcome(
    *,
    actor: Actor,
    case_id: int,
    outcome: str,
    outcome_date: dt.date | None = None,
    reason: str = "",
) -> Case:
    permissions.require(actor, "case.manage")
    errors: dict[str, str] = {}
    _check_choice(errors, "outcome", outcome, Case.Outcome)
    _check_past(errors, "outcome_date", outcome_date)
    if outcome != Case.Outcome.NONE and outcome_date is None:
        errors["outcome_date"] = _("Give the date of the outcome.")
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        case = access_case_by_id(actor, case_id, for_update=True)
        if outcome_date is not None and case.report_date and outcome_date < case.report_date:
            raise ValidationFailed(
                fields={"outcome_date": _("The outcome date is before the report date.")}
            )
        before = {"outcome": case.outcome, "outcome_date": case.outcome_date}
        case.outcome = outcome
        case.outcome_date = outcome_date
        case.save(update_fields=["outcome", "outcome_date", "updated_at"])
        audit_record_for(
            actor,
            "case.outcome",
            case,
            diff(before, {"outcome": outcome, "outcome_date": outcome_date}),
            reason,
        )
        publish(
            "case.outcome_set",
            case_id=case.pk,
            person_id=case.person_id,
            outcome=outcome,
            actor=actor,
        )  # status (docs/events.md)
    return case


def case_assign(*, actor: Actor, case_id: int, investigator_id: int | None) -> Case:
    """Assign (or unassign) the investigator: staff in the actor's area who may
    manage cases and can see this one."""
    permissions.require(actor, "case.manage")
    with transaction.atomic():
        case = access_case_by_id(actor, case_id, for_update=True)
        investigator = None
        if investigator_id is not None:
            investigator = get_user_model().objects.filter(pk=investigator_id).first()
            profile = permissions.staff_profile(investigator) if investigator else None
            if (
                investigator is None
                or not investigator.is_active
                or profile is None
                or not permissions.in_scope(actor, profile.jurisdiction.path)
            ):
                raise ValidationFailed(
                    fields={"investigator_id": _("No such staff member in your area.")}
                )
            if not permissions.has_capability(investigator, "case.manage") or not (
                permissions.in_scope(investigator, case.scope_path)
            ):
                raise ValidationFailed(
                    fields={
                        "investigator_id": _(
                            "This staff member cannot investigate cases of this area."
                        )
                    }
                )
        before = {"investigator_id": case.investigator_id}
        case.investigator = investigator
        case.save(update_fields=["investigator", "updated_at"])
        audit_record_for(
            actor,
            "case.assign",
            case,
            diff(before, {"investigator_id": investigator.pk if investigator else None}),
        )
    return case


def case_set_investigation_status(*, actor: Actor, case_id: int, status: str) -> Case:
    permissions.require(actor, "case.manage")
    if status not in Case.InvestigationStatus.values:
        raise ValidationFailed(
            fields={"status": _("Unknown value “%(value)s”.") % {"value": status}}
        )
    with transaction.atomic():
        case = access_case_by_id(actor, case_id, for_update=True)
        before = case.investigation_status
        case.investigation_status = status
        case.save(update_fields=["investigation_status", "updated_at"])
        audit_record_for(
            actor,
            "case.investigation_status",
            case,
            diff({"investigation_status": before}, {"investigation_status": status}),
        )
    return case


def case_release(*, actor: Actor, case_id: int, released_at: dt.date) -> Case:
    """Release a case from isolation. Contacts with continuous exposure to it (a
    household that could not separate) now get their monitoring end: last
    exposure = the release day, end = release + the category's period."""
    from fangkong.investigation.services.contacts import contact_end_continuous_exposure

    permissions.require(actor, "case.manage")
    errors: dict[str, str] = {}
    _check_past(errors, "released_at", released_at)
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        case = access_case_by_id(actor, case_id, for_update=True)
        if case.classification not in INFECTED:
            raise ValidationFailed(
                fields={"released_at": _("Only confirmed or asymptomatic cases are released.")}
            )
        if case.released_at is not None:
            raise Conflict(_("This case is already released."))
        if case.report_date and released_at < case.report_date:
            raise ValidationFailed(
                fields={"released_at": _("The release date is before the report date.")}
            )
        case.released_at = released_at
        case.save(update_fields=["released_at", "updated_at"])
        audit_record_for(
            actor, "case.release", case, diff({"released_at": None}, {"released_at": released_at})
        )
        contact_end_continuous_exposure(actor=actor, case=case)
        publish(
            "case.released", case_id=case.pk, person_id=case.person_id, actor=actor
        )  # status (docs/events.md)
    return case


def case_complete_report_date(
    *,
    actor: Actor,
    case_id: int,
    report_date: dt.date,
    first_positive_date: dt.date | None = None,
) -> Case:
    """Give a case imported without its date (``needs_completion``) its report date
    and, when known, its first positive sample date; the flag goes."""
    permissions.require(actor, "case.manage")
    errors: dict[str, str] = {}
    _check_past(errors, "report_date", report_date)
    _check_past(errors, "first_positive_date", first_positive_date)
    if first_positive_date and first_positive_date > report_date:
        errors["first_positive_date"] = _("The first positive sample is after the report date.")
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        case = access_case_by_id(actor, case_id, for_update=True)
        if not case.needs_completion:
            raise Conflict(_("This case's report date is already known."))
        if case.onset_date and case.onset_date > report_date:
            raise ValidationFailed(fields={"report_date": _("Onset is after the report date.")})
        for later, field in ((case.released_at, "released_at"), (case.outcome_date, "outcome")):
            if later and later < report_date:
                raise ValidationFailed(
                    fields={
                        "report_date": _("The report date is after the case's %(what)s.")
                        % {"what": _("release") if field == "released_at" else _("outcome")}
                    }
                )
        before = {
            "report_date": case.report_date,
            "first_positive_date": case.first_positive_date,
            "needs_completion": True,
        }
        case.report_date = report_date
        if first_positive_date is not None:
            case.first_positive_date = first_positive_date
        case.needs_completion = False
        case.save(
            update_fields=["report_date", "first_positive_date", "needs_completion", "updated_at"]
        )
        audit_record_for(
            actor,
            "case.complete_date",
            case,
            diff(
                before,
                {
                    "report_date": case.report_date,
                    "first_positive_date": case.first_positive_date,
                    "needs_completion": False,
                },
            ),
        )
    return case


def case_open_suspected(
    *,
    actor: Actor,
    person_id: int,
    disease_code: str = "",
    found_by: str = Case.FoundBy.OTHER,
    reason: str = "",
    reporting_unit: str = "",
    first_positive_date: dt.date | None = None,
    external_ref: str = "",
) -> tuple[Case, bool]:
    """Open a suspected case for a person whom another module found symptomatic
    or positive (a quarantine site's monitoring, a single-tube retest), for the
    investigators to test and investigate. Idempotent: when the person already
    has an open case of the disease, that case is returned with ``False``.

    Without a disease code, the disease of the person's contact record under
    monitoring applies, else that of the latest case reported (the outbreak
    in course), else the first active disease. Other errors propagate.
    """
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise NotFound()
    while person.merged_into_id is not None:
        person = Person.objects.get(pk=person.merged_into_id)
    if disease_code:
        disease = disease_by_code(disease_code)
    else:
        contact = (
            Contact.objects.filter(person=person, status=Contact.Status.MONITORING)
            .select_related("disease")
            .order_by("-last_exposure", "-id")
            .first()
        )
        latest = Case.objects.select_related("disease").order_by("-report_date", "-id").first()
        fallback = Disease.objects.filter(active=True).order_by("code").first()
        disease_or_none = contact.disease if contact else latest.disease if latest else fallback
        if disease_or_none is None:
            raise ValidationFailed(fields={"disease_code": _("No disease is set up.")})
        disease = disease_or_none
    with transaction.atomic():
        Person.objects.select_for_update().filter(pk=person.pk).first()
        existing = (
            Case.objects.filter(person=person, disease=disease)
            .exclude(classification=C.EXCLUDED)
            .first()
        )
        if existing is not None:
            return existing, False
        case = case_create_unchecked(
            actor=actor,
            person=person,
            disease=disease,
            classification=C.SUSPECTED,
            report_date=timezone.localdate(),
            found_by=found_by,
            reporting_unit=reporting_unit,
            reason=reason,
            first_positive_date=first_positive_date,
            external_ref=external_ref,
        )
        return case, True


def case_follow_treatment(
    *,
    actor: Actor,
    case_id: int,
    facility: str | None = None,
    facility_name: str | None = None,
    severity: str | None = None,
    outcome: str | None = None,
    outcome_date: dt.date | None = None,
    reason: str = "",
) -> Case | None:
    """The case follows its patient in hospital (facts of the quarantine app's
    medical treatment, docs/events.md): where it is treated, its severity, and
    its outcome when the patient is discharged or dies. The acting medical staff
    is named in the audit; the capability was checked where the fact was
    published. An outcome already recorded is kept; a case gone (or excluded
    meanwhile) changes nothing. Returns the case, or ``None`` when nothing changed."""
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=case_id).first()
        if case is None or case.classification == C.EXCLUDED:
            return None
        fields: dict[str, Any] = {
            "treatment_facility": facility,
            "facility_name": facility_name[:200] if facility_name is not None else None,
            "severity": severity,
        }
        if outcome is not None and case.outcome == Case.Outcome.NONE:
            fields["outcome"] = outcome
            fields["outcome_date"] = outcome_date
        wanted = {k: v for k, v in fields.items() if v is not None}
        before = {k: getattr(case, k) for k in wanted}
        changed = {k: v for k, v in wanted.items() if before[k] != v}
        if not changed:
            return None
        for k, v in changed.items():
            setattr(case, k, v)
        case.save(update_fields=[*changed, "updated_at"])
        audit_record_for(
            actor, "case.treatment", case, diff({k: before[k] for k in changed}, changed), reason
        )
        if "outcome" in changed:
            publish(
                "case.outcome_set",
                case_id=case.pk,
                person_id=case.person_id,
                outcome=case.outcome,
                actor=actor,
            )  # status (docs/events.md)
    return case
