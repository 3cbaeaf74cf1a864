"""Facts of other modules that investigation acts on (subscribed in
``InvestigationConfig.ready``): a person suspected in quarantine, a positive
single-tube screening result, a breach of a quarantine site's closed loop, a
patient admitted, changing severity or leaving a hospital (the case follows).
Handlers are idempotent: a fact delivered twice opens one case
(``case_open_suspected`` returns the open case) or one breach inquiry."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import events
from fangkong.core.types import Actor
from fangkong.investigation.models import Case
from fangkong.investigation.services.breaches import breach_inquiry_open
from fangkong.investigation.services.cases import case_follow_treatment, case_open_suspected

# Quarantine categories (data of the quarantine app) that say how a case was found.
ARRIVAL_CATEGORIES = {"inbound_traveller", "risk_area_arrival"}
CONTACT_CATEGORIES = {"close_contact", "secondary_contact"}


def on_person_suspected(
    *,
    person_id: int,
    disease_code: str = "",
    reason: str = "",
    category: str = "",
    site_name: str = "",
    actor: Actor = None,
    **_other: Any,
) -> None:
    """A person in centralised quarantine had a fever, an alarming symptom or a
    positive test: open a suspected case (unless one is open already)."""
    found_by = (
        Case.FoundBy.ARRIVAL
        if category in ARRIVAL_CATEGORIES
        else Case.FoundBy.CONTACT_MONITORING
        if category in CONTACT_CATEGORIES
        else Case.FoundBy.OTHER
    )
    case_open_suspected(
        actor=actor,
        person_id=person_id,
        disease_code=disease_code,
        found_by=found_by,
        reporting_unit=site_name,
        reason=_("Found in centralised quarantine: %(reason)s") % {"reason": reason},
    )


def on_single_tube_positive(
    *,
    person_id: int,
    disease_code: str,
    barcode: str,
    sampled_at: str,
    lab_name: str = "",
    actor: Actor = None,
    **_other: Any,
) -> None:
    """A positive single-tube screening result: a suspected case found by
    screening (unless the person has an open case of the disease already)."""
    sampled = dt.datetime.fromisoformat(sampled_at)
    case_open_suspected(
        actor=actor,
        person_id=person_id,
        disease_code=disease_code,
        found_by=Case.FoundBy.SCREENING,
        reporting_unit=lab_name,
        reason=_("Positive single-tube result %(tube)s.") % {"tube": barcode},
        first_positive_date=timezone.localdate(sampled),
        external_ref=f"tube:{barcode}",
    )


def on_breach_reported(
    *,
    breach_id: int,
    site_name: str,
    scope_path: str,
    occurred_at: str,
    actor: Actor = None,
    **_other: Any,
) -> None:
    """A breach of a quarantine site's closed loop: an inquiry for the investigators
    of the site's area (the system opens it; the reporter is named in the audit)."""
    breach_inquiry_open(
        actor=None,
        breach_id=int(breach_id),
        site_name=site_name,
        scope_path=scope_path,
        occurred_at=dt.datetime.fromisoformat(occurred_at),
    )


# Hospital kinds (quarantine's data) as the case's treatment facility.
FACILITY_OF_HOSPITAL = {
    "designated": Case.Facility.DESIGNATED_HOSPITAL,
    "shelter": Case.Facility.SHELTER_HOSPITAL,
}
# How a patient leaves a hospital as the case's outcome (a transfer is no outcome).
OUTCOME_OF_DISCHARGE = {"discharged": Case.Outcome.RECOVERED, "died": Case.Outcome.DIED}


def _local_day(at: str | None) -> dt.date:
    return timezone.localdate(dt.datetime.fromisoformat(at)) if at else timezone.localdate()


def on_patient_admitted(
    *,
    case_id: int | None = None,
    hospital_kind: str = "",
    hospital_name: str = "",
    severity: str = "",
    actor: Actor = None,
    **_other: Any,
) -> None:
    """A case's patient took a hospital bed: the case says where it is treated."""
    if case_id is None:
        return
    case_follow_treatment(
        actor=actor,
        case_id=int(case_id),
        facility=FACILITY_OF_HOSPITAL.get(hospital_kind),
        facility_name=hospital_name or None,
        severity=severity if severity in Case.Severity.values else None,
    )


def on_patient_severity_changed(
    *, case_id: int | None = None, severity: str = "", actor: Actor = None, **_other: Any
) -> None:
    if case_id is None or severity not in Case.Severity.values:
        return
    case_follow_treatment(actor=actor, case_id=int(case_id), severity=severity)


def on_patient_discharged(
    *,
    case_id: int | None = None,
    outcome: str = "",
    at: str | None = None,
    actor: Actor = None,
    **_other: Any,
) -> None:
    """Discharged from hospital: recovered; died: died (an outcome already
    recorded on the case is kept)."""
    if case_id is None or outcome not in OUTCOME_OF_DISCHARGE:
        return
    case_follow_treatment(
        actor=actor,
        case_id=int(case_id),
        outcome=OUTCOME_OF_DISCHARGE[outcome],
        outcome_date=_local_day(at),
    )


def connect() -> None:
    events.subscribe("quarantine.person_suspected", on_person_suspected)
    events.subscribe("screening.single_tube_positive", on_single_tube_positive)
    events.subscribe("quarantine.breach_reported", on_breach_reported)
    events.subscribe("patient.admitted", on_patient_admitted)
    events.subscribe("patient.severity_changed", on_patient_severity_changed)
    events.subscribe("patient.discharged", on_patient_discharged)
