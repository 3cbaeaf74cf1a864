"""Words for the zones app's audited actions and values (core.labels)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.labels import Label, names_for, register
from fangkong.zones.models import (
    ServiceKind,
    ServiceRequest,
    TeamMember,
    Zone,
    ZoneLevel,
    ZoneProposal,
)


def _level(code: str) -> Label | None:
    row = ZoneLevel.objects.filter(code=code).first()
    return row.name if row is not None else None


def _service(code: str) -> Label | None:
    row = ServiceKind.objects.filter(code=code).first()
    return row.name if row is not None else None


def _zone(pk: str) -> Label | None:
    row = Zone.objects.filter(pk=int(pk)).only("name").first() if pk.isdigit() else None
    return row.name if row is not None else None


register(
    actions={
        "zone.propose": _("Zone change proposed"),
        "zone.approve": _("Zone change approved"),
        "zone.refuse": _("Zone change refused"),
        "zone.recommendation_accept": _("Lifting recommendation accepted"),
        "zone.recommendation_dismiss": _("Lifting recommendation dismissed"),
        "zone.team_add": _("Four-ones team member added"),
        "zone.team_remove": _("Four-ones team member removed"),
        "service_request.create": _("Door-step request filed"),
        "service_request.assign": _("Door-step request taken"),
        "service_request.complete": _("Door-step request done"),
        "service_request.cancel": _("Door-step request cancelled"),
        "service_request.confirm": _("Door-step request confirmed by the resident"),
        "service_request.escalate": _("Door-step request escalated"),
    },
    fields={
        "zone": _("zone"),
        "sms_batch": _("text message batch"),
        "units": _("units"),
        "polygon": _("drawn on the map"),
        "recommendation": _("recommendation"),
        "assignee": _("taken by"),
    },
    values={
        "kind": dict(ZoneProposal.Kind.choices),
        "role": dict(TeamMember.Role.choices),
        "status": dict(ServiceRequest.Status.choices),
        "state": dict(ZoneProposal.State.choices),
    },
    resolvers={"level": _level, "kind": _service, "zone": _zone},
    objects={
        "zones.zone": pgettext_lazy("risk zone", "zone"),
        "zones.zoneproposal": _("zone proposal"),
        "zones.teammember": _("four-ones team member"),
        "zones.servicerequest": _("door-step request"),
        "zones.liftrecommendation": _("lifting recommendation"),
    },
)

# What an audit row's object is, in words (the audit page).
register(
    names=names_for(
        {
            "zones.zone": ("name",),
            "zones.zoneproposal": ("zone__name",),
            "zones.teammember": ("name", "zone__name"),
            "zones.servicerequest": ("person__name", "zone__name"),
            "zones.liftrecommendation": ("zone__name",),
        }
    )
)
