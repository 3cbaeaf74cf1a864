"""Contacts: close contacts of cases, secondary contacts of close contacts,
venue-exposed people; monitoring periods; promotion when a contact becomes a case.

Category by rule: a link from a case is a close contact (a venue exposure is
"venue-exposed" unless the investigator marks it close); a link from a close
contact is a secondary contact, only for exposures on or after that close
contact's own first exposure. A person with several links keeps them all; the
strictest category over the active links is the person's (selector
``contact_person_summary``). Monitoring ends ``N`` days after the last exposure
(``N`` per category, from the rule version in force); a continuous exposure stays
open until the source case is released.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record_for, diff
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.events import publish
from fangkong.core.models import Person
from fangkong.core.selectors import access_person_by_id
from fangkong.core.types import Actor, acting_user
from fangkong.investigation.models import Case, Contact, DiseaseRules, ExposureMatch
from fangkong.investigation.selectors.cases import access_case_by_id
from fangkong.investigation.selectors.contacts import access_contact_by_id
from fangkong.investigation.services.rules import (
    infectious_period_start,
    monitoring_days,
    rules_in_force,
)

Cat = Contact.Category
FINAL_STATUSES = {Contact.Status.COMPLETED, Contact.Status.LOST}


def monitoring_end_for(
    rules: DiseaseRules, category: str, last_exposure: dt.date, continuous: bool
) -> dt.date | None:
    if continuous:
        return None
    return last_exposure + dt.timedelta(days=monitoring_days(rules, category))


def _as_date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def _snapshot(c: Contact) -> dict[str, Any]:
    return {
        "source_case_id": c.source_case_id,
        "source_contact_id": c.source_contact_id,
        "person_id": c.person_id,
        "category": c.category,
        "exposure_type": c.exposure_type,
        "relation": c.relation,
        "first_exposure": c.first_exposure,
        "last_exposure": c.last_exposure,
        "continuous_exposure": c.continuous_exposure,
        "monitoring_end": c.monitoring_end,
        "rules_version": c.rules.version,
        "status": c.status,
        "warning": c.warning,
        "match_id": c.match_id,
    }


def contact_create(
    *,
    actor: Actor,
    source_case_id: int | None = None,
    source_contact_id: int | None = None,
    person_id: int,
    exposure_type: str,
    first_exposure: dt.date,
    last_exposure: dt.date,
    relation: str = "",
    continuous_exposure: bool = False,
    frequency: str = "",
    certainty: str = "",
    notes: str = "",
    match_id: int | None = None,
    category: str | None = None,
) -> Contact:
    """Record that ``person_id`` was exposed to a case (close contact, or
    venue-exposed) or to a close contact (secondary contact)."""
    permissions.require(actor, "contact.manage")
    first_exposure = _as_date(first_exposure)
    last_exposure = _as_date(last_exposure)
    errors: dict[str, str] = {}
    if (source_case_id is None) == (source_contact_id is None):
        errors["source_case_id"] = _("Give either the source case or the source contact.")
    if exposure_type not in Contact.ExposureType.values:
        errors["exposure_type"] = _("Unknown value “%(value)s”.") % {"value": exposure_type}
    if category is not None and category not in Cat.values:
        errors["category"] = _("Unknown value “%(value)s”.") % {"value": category}
    today = timezone.localdate()
    if first_exposure > today:
        errors["first_exposure"] = _("This date is in the future.")
    if last_exposure > today:
        errors["last_exposure"] = _("This date is in the future.")
    elif last_exposure < first_exposure:
        errors["last_exposure"] = _("The last exposure is before the first exposure.")
    if errors:
        raise ValidationFailed(fields=errors)

    with transaction.atomic():
        match: ExposureMatch | None = None
        if match_id is not None:
            match = ExposureMatch.objects.filter(pk=match_id).first()
            if match is None or match.case_id != source_case_id or match.person_id != person_id:
                raise ValidationFailed(
                    fields={"match_id": _("This match is not about this case and person.")}
                )
        source_case: Case | None = None
        source_contact: Contact | None = None
        if source_case_id is not None:
            source_case = access_case_by_id(actor, source_case_id)
            if source_case.classification == Case.Classification.EXCLUDED:
                raise ValidationFailed(
                    fields={"source_case_id": _("This case was excluded: it has no contacts.")}
                )
            disease = source_case.disease
            source_person_id = source_case.person_id
            allowed = {Cat.CLOSE, Cat.VENUE_EXPOSED}
            default = Cat.VENUE_EXPOSED if exposure_type == "venue" else Cat.CLOSE
        else:
            assert source_contact_id is not None
            source_contact = access_contact_by_id(actor, source_contact_id, for_update=True)
            if source_contact.category != Cat.CLOSE:
                raise ValidationFailed(
                    fields={
                        "source_contact_id": _(
                            "Secondary contacts are traced from close contacts only."
                        )
                    }
                )
            if source_contact.status == Contact.Status.BECAME_CASE:
                raise ValidationFailed(
                    fields={
                        "source_contact_id": _(
                            "This person has become a case: record the link from the case."
                        )
                    }
                )
            if last_exposure < source_contact.first_exposure:
                raise ValidationFailed(
                    fields={
                        "last_exposure": _(
                            "A secondary contact counts only for exposures on or after the "
                            "close contact's own exposure (%(date)s)."
                        )
                        % {"date": source_contact.first_exposure.isoformat()}
                    }
                )
            disease = source_contact.disease
            source_person_id = source_contact.person_id
            allowed = {Cat.SECONDARY}
            default = Cat.SECONDARY
        chosen = category or default
        if chosen not in allowed:
            raise ValidationFailed(
                fields={"category": _("This category does not fit a link from this source.")}
            )
        if person_id == source_person_id:
            raise ValidationFailed(fields={"person_id": _("A person cannot be their own contact.")})
        if match is not None:
            person = Person.objects.filter(pk=person_id).first()
            if person is None:
                raise NotFound()
        else:
            person = access_person_by_id(actor, person_id)
        if person.merged_into_id is not None:
            raise ValidationFailed(
                fields={"person_id": _("This registration was merged into another one.")}
            )
        dup = Contact.objects.filter(
            person_id=person_id,
            source_case=source_case,
            source_contact=source_contact,
            exposure_type=exposure_type,
            status=Contact.Status.MONITORING,
        ).first()
        if dup is not None:
            raise Conflict(
                _(
                    "This person is already a contact of this source, by this kind of "
                    "exposure, under monitoring."
                ),
                code="duplicate_contact",
                extra={"existing_id": dup.pk},
            )
        rules = rules_in_force(disease, today)
        warning = ""
        if source_case is not None:
            start = infectious_period_start(
                source_case.rules,
                onset_date=source_case.onset_date,
                first_positive_date=source_case.first_positive_date,
            )
            if start is not None and last_exposure < start:
                warning = _(
                    "The last exposure (%(last)s) is before the case became infectious (%(start)s)."
                ) % {"last": last_exposure.isoformat(), "start": start.isoformat()}
        contact = Contact.objects.create(
            disease=disease,
            rules=rules,
            source_case=source_case,
            source_contact=source_contact,
            person=person,
            category=chosen,
            exposure_type=exposure_type,
            relation=relation.strip(),
            first_exposure=first_exposure,
            last_exposure=last_exposure,
            continuous_exposure=continuous_exposure,
            frequency=frequency.strip(),
            certainty=certainty.strip(),
            notes=notes,
            monitoring_end=monitoring_end_for(rules, chosen, last_exposure, continuous_exposure),
            warning=warning[:300],
            match=match,
            scope_path=person.scope_path,
            created_by=acting_user(actor),
        )
        audit_record_for(actor, "contact.create", contact, diff({}, _snapshot(contact)))
        _publish_categorised(actor, contact)  # status (docs/events.md)
    return contact


def _publish_categorised(actor: Actor, c: Contact) -> None:
    publish(
        "contact.categorised",
        contact_id=c.pk,
        person_id=c.person_id,
        category=c.category,
        monitoring_end=c.monitoring_end.isoformat() if c.monitoring_end else None,
        disease_id=c.disease_id,
        actor=actor,
    )


def contact_set_status(*, actor: Actor, contact_id: int, status: str, reason: str = "") -> Contact:
    """Close a contact's monitoring by hand: completed, or lost to follow-up.
    (Becoming a case goes through the case services.)"""
    permissions.require(actor, "contact.manage")
    if status not in FINAL_STATUSES:
        raise ValidationFailed(
            fields={"status": _("Choose “completed” or “lost”: cases are created as cases.")}
        )
    with transaction.atomic():
        contact = access_contact_by_id(actor, contact_id, for_update=True)
        if contact.status == Contact.Status.BECAME_CASE:
            raise Conflict(_("This contact has become a case."))
        before = contact.status
        contact.status = status
        contact.save(update_fields=["status", "updated_at"])
        audit_record_for(
            actor, "contact.status", contact, diff({"status": before}, {"status": status}), reason
        )
        publish(
            "contact.monitoring_ended",
            contact_id=contact.pk,
            person_id=contact.person_id,
            actor=actor,
        )  # status (docs/events.md)
    return contact


def contact_became_case(*, actor: Actor, case: Case) -> int:
    """The person of ``case`` (confirmed or asymptomatic, from a contact link) is
    now a case: every link of theirs under monitoring ends as "became a case",
    and their own secondary contacts become close contacts of the new case
    (category and monitoring end recomputed with the close-contact period).
    Returns the number of promoted contacts."""
    links = list(
        Contact.objects.select_for_update()
        .select_related("rules")
        .filter(person_id=case.person_id, disease_id=case.disease_id)
        .exclude(status=Contact.Status.BECAME_CASE)
    )
    for link in links:
        if link.status != Contact.Status.MONITORING and link.pk != case.source_contact_id:
            continue
        before = link.status
        link.status = Contact.Status.BECAME_CASE
        link.save(update_fields=["status", "updated_at"])
        audit_record_for(
            actor,
            "contact.became_case",
            link,
            {**diff({"status": before}, {"status": link.status}), "case_id": [None, case.pk]},
        )
        publish(
            "contact.monitoring_ended",
            contact_id=link.pk,
            person_id=link.person_id,
            actor=actor,
            became_case=True,
        )  # status (docs/events.md)
    rules = rules_in_force(case.disease, timezone.localdate())
    secondary = list(
        Contact.objects.select_for_update()
        .select_related("rules")
        .filter(
            source_contact_id__in=[link.pk for link in links],
            category=Cat.SECONDARY,
            status=Contact.Status.MONITORING,
        )
    )
    for c in secondary:
        before_snap = {
            "category": c.category,
            "source_case_id": c.source_case_id,
            "monitoring_end": c.monitoring_end,
            "rules_version": c.rules.version,
        }
        c.category = Cat.CLOSE
        c.source_case = case
        c.rules = rules
        c.monitoring_end = monitoring_end_for(
            rules, Cat.CLOSE, c.last_exposure, c.continuous_exposure
        )
        c.save(update_fields=["category", "source_case", "rules", "monitoring_end", "updated_at"])
        audit_record_for(
            actor,
            "contact.promote",
            c,
            diff(
                before_snap,
                {
                    "category": c.category,
                    "source_case_id": case.pk,
                    "monitoring_end": c.monitoring_end,
                    "rules_version": rules.version,
                },
            ),
            reason=_("The source contact became case %(number)s.") % {"number": case.number},
        )
        _publish_categorised(actor, c)  # status: now a close contact (docs/events.md)
    return len(secondary)


def contact_promote_to_case(
    *,
    actor: Actor,
    contact_id: int,
    classification: str,
    report_date: dt.date,
    onset_date: dt.date | None = None,
    first_positive_date: dt.date | None = None,
    found_by: str = Case.FoundBy.CONTACT_MONITORING,
    reporting_unit: str = "",
    severity: str = Case.Severity.NONE,
    treatment_facility: str = Case.Facility.NONE,
) -> Case:
    """A contact tests positive: create their case, linked to this contact."""
    from fangkong.investigation.services.cases import case_create

    permissions.require(actor, "contact.manage")
    contact = access_contact_by_id(actor, contact_id)
    return case_create(
        actor=actor,
        person_id=contact.person_id,
        disease_code=contact.disease.code,
        classification=classification,
        report_date=report_date,
        found_by=found_by,
        onset_date=onset_date,
        first_positive_date=first_positive_date,
        reporting_unit=reporting_unit,
        severity=severity,
        treatment_facility=treatment_facility,
        source_contact_id=contact.pk,
    )


def contact_end_continuous_exposure(*, actor: Actor, case: Case) -> int:
    """The source case is released: its continuously exposed contacts were exposed
    until that day; their monitoring now ends the category's period later."""
    assert case.released_at is not None
    contacts = list(
        Contact.objects.select_for_update()
        .select_related("rules")
        .filter(source_case=case, continuous_exposure=True, status=Contact.Status.MONITORING)
    )
    for c in contacts:
        before = {"last_exposure": c.last_exposure, "monitoring_end": c.monitoring_end}
        c.last_exposure = max(c.last_exposure, case.released_at)
        c.monitoring_end = c.last_exposure + dt.timedelta(days=monitoring_days(c.rules, c.category))
        c.save(update_fields=["last_exposure", "monitoring_end", "updated_at"])
        audit_record_for(
            actor,
            "contact.exposure_ended",
            c,
            diff(before, {"last_exposure": c.last_exposure, "monitoring_end": c.monitoring_end}),
            reason=_("Case %(number)s was released.") % {"number": case.number},
        )
        _publish_categorised(actor, c)  # status: monitoring end now known (docs/events.md)
    return len(contacts)
