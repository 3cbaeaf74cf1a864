"""Words for the headquarters app's audited actions and values (core.labels)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.labels import Label, names_for, register
from fangkong.core.models import Jurisdiction
from fangkong.headquarters.models import Accountability, Priority, Recognition, Task


def _unit(pk: str) -> Label | None:
    row = Jurisdiction.objects.filter(pk=int(pk)).first() if pk.isdigit() else None
    return row.name if row is not None else None


register(
    actions={
        "task.create": _("Task given"),
        "task.assign": _("Task given to someone else"),
        "task.complete": _("Task done"),
        "task.cancel": _("Task cancelled"),
        "task.escalate": _("Overdue task escalated"),
        "task.responsible": _("Responsible officer of a unit named"),
        "daily_report.make": _("Daily report made"),
    },
    fields={
        "day": _("day"),
        "title": _("title"),
        "unit": _("unit"),
        "priority": _("priority"),
        "deadline": _("deadline"),
        "escalation_step": _("escalation step"),
        "escalated_to": _("escalated to"),
        "responsible": _("responsible officer"),
    },
    values={
        "priority": dict(Priority.choices),
        "state": dict(Task.State.choices),
    },
    resolvers={"unit": _unit, "escalated_to": _unit},
    objects={"headquarters.task": _("task")},
)


def _staff(pk: str) -> Label | None:
    from django.contrib.auth import get_user_model

    from fangkong.core.templatetags.staff_ui import staff_name

    user = get_user_model().objects.filter(pk=int(pk)).first() if pk.isdigit() else None
    return staff_name(user) if user is not None else None


# Supervision, accountability, task forces, duty and staff care.
register(
    actions={
        "inspection.plan": _("Inspection planned"),
        "inspection.visit": _("Inspection visit recorded"),
        "inspection.photo": _("Photo of a finding added"),
        "inspection.reinspect": _("Finding re-inspected"),
        "inspection.close": _("Inspection plan closed"),
        "accountability.propose": _("Accountability proposed"),
        "accountability.decide": _("Accountability decided"),
        "taskforce.create": _("Task force set up"),
        "taskforce.member_add": _("Member added to a task force"),
        "taskforce.member_remove": _("Member removed from a task force"),
        "duty.shift_add": _("Put on the duty roster"),
        "duty.shift_remove": _("Taken off the duty roster"),
        "duty.handover": _("Handover note written"),
        "duty.handover_receive": _("Handover note received"),
        "care.rotation": _("Rotated off duty to rest"),
        "care.recognition": _("Recognition recorded"),
    },
    fields={
        "inspector": _("inspector"),
        "checklist": _("checklist"),
        "findings": _("items checked"),
        "failed": _("items failed"),
        "photos": _("photo"),
        "failure_kind": _("failure"),
        "party_kind": _("responsible party"),
        "measure": _("measure"),
        "document_number": pgettext_lazy("official document", "document number"),
        "name": _("name"),
        "leader": _("leader"),
        "members": _("members"),
        "member": _("member"),
        "on_duty": _("on duty"),
        "starts_at": _("from"),
        "ends_at": _("until"),
        "rotated_off": _("rotated off"),
        "replacement": _("stands in"),
        "shifts": _("shifts"),
        "recognised": _("recognised"),
    },
    values={
        "failure_kind": dict(Accountability.Failure.choices),
        "party_kind": dict(Accountability.Party.choices),
        "measure": dict(Accountability.Measure.choices),
        "kind": dict(Recognition.Kind.choices),
    },
    resolvers={
        "inspector": _staff,
        "leader": _staff,
        "member": _staff,
        "on_duty": _staff,
        "rotated_off": _staff,
        "replacement": _staff,
        "recognised": _staff,
    },
    objects={
        "headquarters.inspectionplan": _("inspection plan"),
        "headquarters.inspectionvisit": _("inspection visit"),
        "headquarters.finding": _("finding"),
        "headquarters.accountability": _("accountability record"),
        "headquarters.taskforce": _("task force"),
        "headquarters.dutyshift": _("duty shift"),
        "headquarters.handover": _("handover note"),
        "headquarters.rotationplan": _("rotation plan"),
        "headquarters.recognition": _("recognition"),
    },
)

# What an audit row's object is, in words (the audit page).
register(
    names=names_for(
        {
            "headquarters.task": ("title",),
            "headquarters.inspectionplan": ("title",),
            "headquarters.inspectionvisit": ("plan__title", "place"),
            "headquarters.finding": ("visit__plan__title",),
            "headquarters.accountability": ("party_name",),
            "headquarters.taskforce": ("name",),
            "headquarters.dutyshift": ("user__staff__display_name",),
            "headquarters.handover": ("written_by__staff__display_name",),
            "headquarters.rotationplan": ("user__staff__display_name",),
            "headquarters.recognition": ("user__staff__display_name",),
        }
    )
)
