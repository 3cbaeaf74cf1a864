"""Words for the quarantine app's audited actions, changed fields and stored
values (core.labels)."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _

from fangkong.core.labels import Label, names_for, register
from fangkong.quarantine.models import (
    AcceptanceItem,
    ActivationProposal,
    Admission,
    Approval,
    BedType,
    BreachReport,
    HealthCheck,
    Room,
    Site,
    SiteStaff,
    Stay,
    StayTest,
)


def _choices(choices: Iterable[tuple[str, Label]]) -> dict[str, Label]:
    return dict(choices)


def _acceptance_point(code: str) -> Label | None:
    row = AcceptanceItem.objects.filter(code=code).first()
    return row.name if row is not None else None


register(
    actions={
        "quarantine.site_create": _("Quarantine site registered"),
        "quarantine.site_update": _("Quarantine site changed"),
        "quarantine.site_transition": _("Quarantine site moved to another stage"),
        "quarantine.site_accept": _("Quarantine site inspected for acceptance"),
        "quarantine.rooms_add": _("Rooms added to a quarantine site"),
        "quarantine.room_status": _("Room state changed"),
        "quarantine.tier_proposed": _("Next quarantine site proposed for activation"),
        "quarantine.tier_decide": _("Tier activation proposal decided"),
        "quarantine.stay_admit": _("Admitted to a quarantine site"),
        "quarantine.room_allocate": _("Quarantine room given"),
        "quarantine.share_request": _("Room sharing asked for"),
        "quarantine.early_release_request": _("Early release asked for"),
        "quarantine.approval_decide": _("Quarantine exception decided"),
        "quarantine.health_check": _("Health check recorded"),
        "quarantine.test_result": _("Quarantine test recorded"),
        "quarantine.suspected": _("Reported as a suspected case from quarantine"),
        "quarantine.stay_release": _("Released from quarantine"),
        "quarantine.stay_extend": _("Quarantine extended"),
        "quarantine.stay_transfer": _("Transferred out of a quarantine site"),
        "quarantine.stay_cancel": _("Quarantine cancelled"),
        "quarantine.order_issue": _("Quarantine order issued"),
        "quarantine.staff_add": _("Worker put on a site's closed-loop roster"),
        "quarantine.period_start": _("Worker entered the closed loop"),
        "quarantine.period_rotate": _("Worker rotated out of the closed loop"),
        "quarantine.period_done": _("Worker's monitoring after rotation ended"),
        "quarantine.staff_check": _("Worker's health check recorded"),
        "quarantine.staff_test": _("Worker's test after rotation recorded"),
        "quarantine.breach_report": _("Closed-loop breach reported"),
        "quarantine.breach_update": _("Closed-loop breach report updated"),
        "quarantine.hospital_create": _("Hospital registered"),
        "quarantine.hospital_beds": _("Hospital beds changed"),
        "quarantine.patient_admit": _("Admitted to hospital"),
        "quarantine.patient_severity": _("Patient's severity changed"),
        "quarantine.patient_transfer": _("Patient transferred to another hospital"),
        "quarantine.patient_discharge": _("Patient left the hospital"),
    },
    fields={
        "failed_points": _("points failed"),
        "passed": _("passed"),
        "rooms": _("rooms"),
        "tier": _("tier"),
        "site": _("site"),
        "site_state": _("stage of the site"),
        "proposal_state": _("decision"),
        "room": _("room"),
        "room_status": _("room state"),
        "shared": _("shared room"),
        "planned_end": _("planned end"),
        "suspected": _("reported as suspected because of"),
        "temperature": _("temperature"),
        "check_slot": _("time of day"),
        "alarming": _("alarming"),
        "test_result": _("test result"),
        "day_of_stay": _("day of the stay"),
        "monitoring_day": _("day of the monitoring after rotation"),
        "certificate": _("certificate number"),
        "early": _("before the criteria"),
        "stay_state": _("quarantine"),
        "to": _("transferred to"),
        "approval_state": _("decision"),
        "approval_kind": _("exception"),
        "order": _("order number"),
        "occupancy": _("occupancy (%)"),
        "staff": _("workers"),
        "started_on": _("on site from"),
        "rotation_due": _("rotation due"),
        "left_on": _("left the site"),
        "monitoring_until": _("monitored until"),
        "breach_kind": _("breach"),
        "breach_state": _("breach report"),
        "hospital": _("hospital"),
        "bed_type": _("bed"),
        "patient_severity": _("severity"),
        "admission_state": _("hospital stay"),
        "beds": _("beds"),
    },
    values={
        "site_state": _choices(Site.State.choices),
        "room_status": _choices(Room.Status.choices),
        "stay_state": _choices(Stay.State.choices),
        "approval_state": _choices(Approval.State.choices),
        "approval_kind": _choices(Approval.Kind.choices),
        "proposal_state": _choices(ActivationProposal.State.choices),
        "test_result": _choices(StayTest.Result.choices),
        "check_slot": _choices(HealthCheck.Slot.choices),
        "breach_kind": _choices(BreachReport.Kind.choices),
        "breach_state": _choices(BreachReport.State.choices),
        "bed_type": _choices(BedType.choices),
        "patient_severity": _choices(Admission.Severity.choices),
        "admission_state": _choices(Admission.State.choices),
        "role": _choices(SiteStaff.Role.choices),
    },
    resolvers={"failed_points": _acceptance_point},
    objects={
        "quarantine.site": _("quarantine site"),
        "quarantine.room": _("room"),
        "quarantine.stay": _("quarantine"),
        "quarantine.approval": _("quarantine exception"),
        "quarantine.activationproposal": _("tier activation proposal"),
        "quarantine.staffperiod": _("closed-loop period"),
        "quarantine.sitestaff": _("site worker"),
        "quarantine.breachreport": _("breach report"),
        "quarantine.hospital": _("hospital"),
        "quarantine.admission": _("hospital stay"),
    },
)

# What an audit row's object is, in words (the audit page).
register(
    names=names_for(
        {
            "quarantine.site": ("name",),
            "quarantine.room": ("site__name", "number"),
            "quarantine.stay": ("person__name", "site__name"),
            "quarantine.approval": ("stay__person__name",),
            "quarantine.activationproposal": ("site__name",),
            "quarantine.staffperiod": ("staff__name", "site__name"),
            "quarantine.sitestaff": ("name", "site__name"),
            "quarantine.breachreport": ("site__name",),
            "quarantine.hospital": ("name",),
            "quarantine.admission": ("person__name", "hospital__name"),
        }
    )
)
