"""Words for the status app's audited actions and values (core.labels). Levels,
reason kinds and bases are data: their names come from their rows."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.labels import Label, names_for, register
from fangkong.status.models import (
    Appeal,
    ManualBasis,
    ManualRequest,
    Reason,
    ReasonKind,
    StatusLevel,
)


def _level(code: str) -> Label | None:
    row = StatusLevel.objects.filter(code=code).first()
    return row.name if row is not None else None


def _kind(code: str) -> Label | None:
    row = ReasonKind.objects.filter(code=code).first()
    return row.name if row is not None else None


def _basis(code: str) -> Label | None:
    row = ManualBasis.objects.filter(code=code).first()
    return row.name if row is not None else None


def _rule(text: str) -> Label | None:
    """``"close_contact v1"`` (a rule's kind and version) → "Close contact (version 1)"."""
    match = re.fullmatch(r"([a-z_]+) v(\d+)", text)
    if match is None:
        return None
    kind = _kind(match.group(1))
    if kind is None:
        return None
    return _g("%(kind)s (version %(n)s)") % {"kind": kind, "n": match.group(2)}


register(
    actions={
        "status.reason_grant": _("Status reason given"),
        "status.reason_end": _("Status reason ended"),
        "status.reason_expire": _("Expired status reasons ended"),
        "status.manual_request": _("Manual status change requested"),
        "status.manual_approve": _("Manual status change approved"),
        "status.manual_refuse": _("Manual status change refused"),
        "status.appeal_create": _("Appeal against a status"),
        "status.appeal_decide": _("Appeal decided"),
        "status.resident_locked": _("Resident sign-in locked after failed codes"),
        "status.resident_login": _("Resident signed in"),
    },
    fields={
        "how": _("ended by"),
        "rule": _("rule"),
        "basis": _("basis"),
        "source": _("source"),
        "action": pgettext_lazy("manual status change", "change"),
        "reasons": _("reasons"),
    },
    values={
        "how": dict(Reason.How.choices),
        "action": dict(ManualRequest.Action.choices),
        "state": {**dict(ManualRequest.State.choices), **dict(Appeal.State.choices)},
    },
    resolvers={"level": _level, "kind": _kind, "basis": _basis, "rule": _rule},
    objects={
        "status.reason": _("status reason"),
        "status.manualrequest": _("manual status change"),
        "status.appeal": _("appeal"),
    },
)

# What an audit row's object is, in words (the audit page).
register(
    names=names_for(
        {
            "status.reason": ("person__name",),
            "status.appeal": ("person__name",),
        }
    )
)
