"""Medical treatment (医疗救治): designated and shelter hospitals, their beds,
case assignment, transfer, severity changes and discharge.

Beds are counted by type (general, ICU); an admission takes one bed of its
type, refused when none is free (the hospital row is locked while counting).
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import events, permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.models import Jurisdiction, Person
from fangkong.core.types import Actor, acting_user
from fangkong.investigation.selectors.shared import case_ids_of_person
from fangkong.quarantine.models import (
    Admission,
    AdmissionEvent,
    BedType,
    Hospital,
    HospitalBeds,
)

MAX_BEDS = 100_000
MAX_NOTE = 2000


def _audit_admission(
    actor: Actor, adm: Admission, action: str, changes: dict[str, object], note: str = ""
) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=adm,
        scope_path=adm.scope_path,
        person_id=adm.person_id,
        changes=changes,
        reason=note,
    )


def _event(
    adm: Admission, actor: Actor, kind: str, before: str = "", after: str = "", note: str = ""
) -> None:
    AdmissionEvent.objects.create(
        admission=adm,
        kind=kind,
        actor=acting_user(actor),
        before=before,
        after=after,
        note=note[:MAX_NOTE],
    )


def _check_beds(beds: Mapping[str, int]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for bed_type, total in beds.items():
        if bed_type not in BedType.values:
            errors[f"beds.{bed_type}"] = _("Unknown bed type.")
        elif not isinstance(total, int) or not 0 <= total <= MAX_BEDS:
            errors[f"beds.{bed_type}"] = _("A number of beds from 0 to 100,000.")
    return errors


@transaction.atomic
def hospital_create(
    *,
    actor: Actor,
    name: str,
    kind: str,
    jurisdiction_id: int,
    beds: Mapping[str, int],
    address: str = "",
) -> Hospital:
    """Register a designated or shelter hospital with its beds by type."""
    permissions.require(actor, "hospital.manage")
    errors = _check_beds(beds)
    if not name.strip() or len(name) > 200:
        errors["name"] = _("Give the hospital a name (up to 200 characters).")
    if kind not in Hospital.Kind.values:
        errors["kind"] = _("Choose one of the listed kinds.")
    node = Jurisdiction.objects.filter(pk=jurisdiction_id).first()
    if node is None or not permissions.in_scope(actor, node.path):
        errors["jurisdiction_id"] = _("Choose an area of your own.")
    if errors or node is None:
        raise ValidationFailed(fields=errors)
    hospital = Hospital.objects.create(
        name=name.strip(),
        kind=kind,
        jurisdiction=node,
        scope_path=node.path,
        address=address.strip()[:300],
    )
    HospitalBeds.objects.bulk_create(
        [HospitalBeds(hospital=hospital, bed_type=t, total=n) for t, n in beds.items()]
    )
    audit_record(
        actor=actor,
        action="quarantine.hospital_create",
        obj=hospital,
        scope_path=hospital.scope_path,
        changes={"name": [None, hospital.name], "beds": [None, dict(beds)]},
    )
    return hospital


def _locked_hospital(actor: Actor, hospital_id: int) -> Hospital:
    hospital = Hospital.objects.select_for_update().filter(pk=hospital_id).first()
    if hospital is None or not permissions.in_scope(actor, hospital.scope_path):
        raise NotFound()
    return hospital


def beds_in_use(hospital_id: int) -> dict[str, int]:
    rows = (
        Admission.objects.filter(hospital_id=hospital_id, state=Admission.State.ADMITTED)
        .values("bed_type")
        .annotate(n=Count("id"))
    )
    out = dict.fromkeys(BedType.values, 0)
    for r in rows:
        out[r["bed_type"]] = r["n"]
    return out


@transaction.atomic
def hospital_set_beds(*, actor: Actor, hospital_id: int, bed_type: str, total: int) -> HospitalBeds:
    """Set the number of beds of a type (never below the beds in use)."""
    permissions.require(actor, "hospital.manage")
    errors = _check_beds({bed_type: total})
    if errors:
        raise ValidationFailed(fields=errors)
    hospital = _locked_hospital(actor, hospital_id)
    used = beds_in_use(hospital.pk)[bed_type]
    if total < used:
        raise Conflict(
            _("%(n)s of these beds are in use; the number cannot go below that.") % {"n": used},
            code="beds_in_use",
        )
    beds, _created = HospitalBeds.objects.get_or_create(
        hospital=hospital, bed_type=bed_type, defaults={"total": total}
    )
    before = beds.total
    beds.total = total
    beds.save(update_fields=["total"])
    audit_record(
        actor=actor,
        action="quarantine.hospital_beds",
        obj=hospital,
        scope_path=hospital.scope_path,
        changes={f"beds.{bed_type}": [before, total]},
    )
    return beds


def _take_bed(hospital: Hospital, bed_type: str) -> None:
    total = (
        HospitalBeds.objects.filter(hospital=hospital, bed_type=bed_type)
        .values_list("total", flat=True)
        .first()
        or 0
    )
    if beds_in_use(hospital.pk)[bed_type] >= total:
        raise Conflict(
            _("%(hospital)s has no free %(bed)s.")
            % {"hospital": hospital.name, "bed": BedType(bed_type).label},
            code="no_free_bed",
        )


def _check_admission(bed_type: str, severity: str, note: str) -> None:
    errors: dict[str, str] = {}
    if bed_type not in BedType.values:
        errors["bed_type"] = _("Choose one of the listed bed types.")
    if severity not in Admission.Severity.values:
        errors["severity"] = _("Choose one of the listed severities.")
    if len(note) > MAX_NOTE:
        errors["note"] = _("At most 2,000 characters.")
    if errors:
        raise ValidationFailed(fields=errors)


@transaction.atomic
def patient_admit(
    *,
    actor: Actor,
    hospital_id: int,
    person_id: int,
    bed_type: str,
    severity: str,
    case_id: int | None = None,
    note: str = "",
    from_stay_id: int | None = None,
    check_treat_capability: bool = True,
) -> Admission:
    """Assign a case (a person) to a bed of a hospital that receives patients.
    Without ``case_id`` the person's latest case in investigation (not excluded)
    is the one treated; a given one must be the person's. ``patient.admitted``
    tells investigation where the case is treated. (A quarantine site's transfer
    out admits with the site's own capability.)"""
    if check_treat_capability:
        permissions.require(actor, "hospital.treat")
    _check_admission(bed_type, severity, note)
    hospital = Hospital.objects.select_for_update().filter(pk=hospital_id).first()
    if hospital is None:
        raise ValidationFailed(fields={"hospital_id": _("Choose a hospital.")})
    if check_treat_capability and not permissions.in_scope(actor, hospital.scope_path):
        raise NotFound()
    if hospital.state != Hospital.State.ACTIVE:
        raise Conflict(
            _("%(hospital)s does not receive patients now.") % {"hospital": hospital.name},
            code="hospital_not_active",
        )
    person = Person.objects.filter(pk=person_id, merged_into__isnull=True).first()
    if person is None:
        raise ValidationFailed(fields={"person_id": _("Unknown person.")})
    cases = case_ids_of_person(person.pk)
    if case_id is None:
        case_id = cases[0] if cases else None
    elif case_id not in cases:
        raise ValidationFailed(fields={"case_id": _("Not a case of this person.")})
    if Admission.objects.filter(person=person, state=Admission.State.ADMITTED).exists():
        raise Conflict(
            _("%(name)s is already in a hospital bed.") % {"name": person.name},
            code="already_admitted",
        )
    _take_bed(hospital, bed_type)
    adm = Admission.objects.create(
        person=person,
        case_id=case_id,
        hospital=hospital,
        scope_path=hospital.scope_path,
        bed_type=bed_type,
        severity=severity,
        from_stay_id=from_stay_id,
        note=note.strip(),
    )
    _event(adm, actor, "admitted", after=severity, note=note)
    _audit_admission(
        actor,
        adm,
        "quarantine.patient_admit",
        {"hospital": [None, hospital.name], "bed_type": [None, bed_type]},
        note,
    )
    events.publish(
        "patient.admitted",
        admission_id=adm.pk,
        person_id=person.pk,
        case_id=case_id,
        hospital_id=hospital.pk,
        hospital_kind=hospital.kind,
        hospital_name=hospital.name,
        severity=severity,
        at=adm.created_at.isoformat(),
        actor=actor,
    )
    return adm


def _locked_admission(actor: Actor, admission_id: int) -> Admission:
    adm = (
        Admission.objects.select_for_update()
        .select_related("hospital")
        .filter(pk=admission_id)
        .first()
    )
    if adm is None or not permissions.in_scope(actor, adm.scope_path):
        raise NotFound()
    if adm.state != Admission.State.ADMITTED:
        raise Conflict(_("This patient has already left the hospital."), code="not_admitted")
    return adm


@transaction.atomic
def patient_set_severity(
    *, actor: Actor, admission_id: int, severity: str, bed_type: str | None = None, note: str = ""
) -> Admission:
    """Record a change of severity (and a move to another bed type, e.g. ICU)."""
    permissions.require(actor, "hospital.treat")
    adm = _locked_admission(actor, admission_id)
    bed_type = bed_type or adm.bed_type
    _check_admission(bed_type, severity, note)
    if severity == adm.severity and bed_type == adm.bed_type:
        return adm
    Hospital.objects.select_for_update().filter(pk=adm.hospital_id).first()
    if bed_type != adm.bed_type:
        _take_bed(adm.hospital, bed_type)
    before = f"{adm.severity}/{adm.bed_type}"
    before_severity, before_bed = adm.severity, adm.bed_type
    adm.severity = severity
    adm.bed_type = bed_type
    adm.save(update_fields=["severity", "bed_type", "updated_at"])
    _event(adm, actor, "severity", before=before, after=f"{severity}/{bed_type}", note=note)
    _audit_admission(
        actor,
        adm,
        "quarantine.patient_severity",
        {"patient_severity": [before_severity, severity], "bed_type": [before_bed, bed_type]},
        note,
    )
    events.publish(
        "patient.severity_changed",
        admission_id=adm.pk,
        person_id=adm.person_id,
        case_id=adm.case_id,
        severity=severity,
        actor=actor,
    )
    return adm


@transaction.atomic
def patient_transfer(
    *,
    actor: Actor,
    admission_id: int,
    hospital_id: int,
    bed_type: str | None = None,
    note: str = "",
) -> Admission:
    """Move a patient to another hospital: this admission ends, the next begins."""
    permissions.require(actor, "hospital.treat")
    adm = _locked_admission(actor, admission_id)
    if hospital_id == adm.hospital_id:
        raise ValidationFailed(fields={"hospital_id": _("Choose another hospital.")})
    adm.state = Admission.State.TRANSFERRED
    adm.ended_at = timezone.now()
    adm.save(update_fields=["state", "ended_at", "updated_at"])
    _event(adm, actor, "transfer", note=note)
    new = patient_admit(
        actor=actor,
        hospital_id=hospital_id,
        person_id=adm.person_id,
        bed_type=bed_type or adm.bed_type,
        severity=adm.severity,
        case_id=adm.case_id,
        note=note,
    )
    new.previous = adm
    new.save(update_fields=["previous", "updated_at"])
    _audit_admission(
        actor,
        adm,
        "quarantine.patient_transfer",
        {"hospital": [adm.hospital.name, new.hospital.name]},
        note,
    )
    return new


@transaction.atomic
def patient_discharge(
    *, actor: Actor, admission_id: int, outcome: str = "discharged", note: str = ""
) -> Admission:
    """A patient leaves: discharged (recovered) or died."""
    permissions.require(actor, "hospital.treat")
    if outcome not in (Admission.State.DISCHARGED, Admission.State.DIED):
        raise ValidationFailed(fields={"outcome": _("Choose discharged or died.")})
    if len(note) > MAX_NOTE:
        raise ValidationFailed(fields={"note": _("At most 2,000 characters.")})
    adm = _locked_admission(actor, admission_id)
    adm.state = outcome
    adm.ended_at = timezone.now()
    adm.save(update_fields=["state", "ended_at", "updated_at"])
    _event(adm, actor, outcome, note=note)
    _audit_admission(
        actor,
        adm,
        "quarantine.patient_discharge",
        {"admission_state": [Admission.State.ADMITTED, outcome]},
        note,
    )
    events.publish(
        "patient.discharged",
        admission_id=adm.pk,
        person_id=adm.person_id,
        case_id=adm.case_id,
        outcome=outcome,
        at=adm.ended_at.isoformat(),
        actor=actor,
    )
    return adm
