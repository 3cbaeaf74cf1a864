"""Words for the notify app's audited values (core.labels): what a person reads in
their timeline and the audit log for a message sent to them."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from fangkong.core.labels import Label, names_for, register
from fangkong.notify.models import Message

# What a message was for (the purpose given by the sending app) and which template
# said it: words, not the codes the apps pass.
PURPOSES: dict[str, Label] = {
    "status_change": _("status change"),
    "status_appeal": _("appeal decision"),
    "one_time_code": _("sign-in code"),
    "zone": _("risk zone notice"),
    "screening": _("screening notice"),
    "screening_reminder": _("screening reminder"),
}
TEMPLATES: dict[str, Label] = {
    "status_changed": _("status change notice"),
    "status_appeal_decided": _("appeal decision notice"),
    "one_time_code": _("one-time sign-in code"),
    "registry_notice": _("general notice"),
    "zone_declared": _("zone declared notice"),
    "zone_lifted": _("zone lifted notice"),
}
# The names of the details a message was filled with (never their values).
CONTEXT_KEYS: dict[str, Label] = {
    "person_name": _("person's name"),
    "level_name": _("status level"),
    "level_en": _("status level"),
    "code": _("code"),
    "minutes": _("minutes valid"),
    "text": _("notice text"),
    "zone": _("zone"),
    "rules_en": _("zone rules"),
    "rules": _("zone rules"),
    "level": _("level"),
    "decision": _("decision"),
    "reason": _("reason"),
}

register(
    fields={
        "purpose": _("purpose"),
        "context_keys": _("details filled in"),
        "legally_required": _("required by law"),
        "skip_reason": _("why not sent"),
        "rate_per_minute": _("messages per minute"),
        "deduplicated": _("already sent"),
        "skipped_opt_out": _("skipped: opted out"),
        "skipped_no_phone": _("skipped: no phone number"),
        "queued": _("queued"),
        "deferred": _("deferred"),
    },
    values={
        "purpose": PURPOSES,
        "template": TEMPLATES,
        "context_keys": CONTEXT_KEYS,
        "status": dict(Message.Status.choices),
        "skip_reason": dict(Message.SkipReason.choices),
    },
)

# What an audit row's object is, in words (the audit page).
register(names=names_for({"notify.message": ("person__name",)}))
