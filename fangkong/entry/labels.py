"""Words for the entry app's audited actions, changed fields and stored values
(core.labels)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.labels import names_for, register

register(
    actions={
        "entry.checkpoint_create": _("Checkpoint registered"),
        "entry.checkpoint_update": _("Checkpoint changed"),
        "entry.arrival_report": _("Arrival reported by a traveller before travelling"),
        "entry.arrival_register": _("Arrival registered at a checkpoint"),
        "entry.arrival_merge": _("Arrival registered again (merged into the same trip)"),
        "entry.arrival_test": _("Arrival test taken"),
        "entry.place_review": _("Itinerary place reviewed"),
        "entry.list_import": _("Risk-area list imported"),
        "entry.list_publish": _("Risk-area list put in force"),
        "entry.list_withdraw": _("Risk-area list withdrawn"),
        "entry.transfer_create": _("Point-to-point transfer planned"),
        "entry.transfer_depart": _("Transfer left the checkpoint"),
        "entry.transfer_deviation": _("Transfer deviated from its route"),
        "entry.transfer_hand_over": _("Transfer handed over at its destination"),
        "entry.transfer_escalate": _("Transfer overdue at its destination (escalated)"),
        "entry.handoff_accept": _("Home quarantine or monitoring taken over by the community"),
    },
    fields={
        "origin": _("coming from"),
        "checkpoint": _("checkpoint"),
        "tube": _("tube"),
        "code": _("administrative code"),
        "version": _("version"),
        "areas": pgettext_lazy("number of areas", "areas"),
        "people": _("people on board"),
        "plate": _("vehicle"),
        "minutes": _("minutes on the way"),
        "note": _("what happened"),
        "name_zh": _("name in Chinese"),
        "name_en": _("name in English"),
        "kind": _("kind"),
        "lanes": pgettext_lazy("checkpoint lanes", "lanes"),
        "opens_at": _("opens at"),
        "closes_at": _("closes at"),
        "staff_on_duty": _("staff on duty"),
        "throughput_per_hour": _("throughput per hour"),
        "jurisdiction": _("area"),
        "active": _("open"),
    },
    values={
        "template": {"entry_measures": _("notice of the measures for an arrival")},
        "purpose": {"entry": _("entry control notice")},
        "context_keys": {"measures": _("measures"), "ends": _("what ends them")},
    },
    objects={
        "entry.checkpoint": _("checkpoint"),
        "entry.arrival": _("arrival"),
        "entry.placereview": _("itinerary place to review"),
        "entry.risklist": _("risk-area list"),
        "entry.transfer": _("point-to-point transfer"),
        "entry.homehandoff": _("home hand-off"),
    },
)

# What an audit row's object is, in words (the audit page).
register(
    names=names_for(
        {
            "entry.checkpoint": (("name_zh", "name_en"),),
            "entry.arrival": ("person__name", "origin"),
            "entry.placereview": ("place",),
            "entry.risklist": ("region_name", "source"),
            "entry.transfer": ("vehicle_plate", "destination_name"),
            "entry.homehandoff": ("person__name",),
        }
    )
)
