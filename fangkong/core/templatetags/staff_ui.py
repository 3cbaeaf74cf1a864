"""Template helpers of the staff pages: readable audit entries, labels."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from fangkong.core.models import AuditEntry, Jurisdiction, Person

register = template.Library()

# Labels for the actions services record. Unknown actions show their code.
ACTION_LABELS: dict[str, Any] = {
    "person.create": gettext_lazy("Registered"),
    "person.update": gettext_lazy("Details corrected"),
    "person.unmask": gettext_lazy("Full ID and phone numbers viewed"),
    "person.merge": gettext_lazy("Duplicate records merged"),
    "person.import": gettext_lazy("Imported from a file"),
    "person.export": gettext_lazy("People exported"),
    "jurisdiction.create": gettext_lazy("Area created"),
    "jurisdiction.update": gettext_lazy("Area changed"),
    "jurisdiction.import": gettext_lazy("Areas imported"),
    "household.create": gettext_lazy("Household created"),
    "staff.create": gettext_lazy("Staff account created"),
    "api_token.create": gettext_lazy("API token created"),
    "otp.enrol": gettext_lazy("Two-factor sign-in turned on"),
    "audit.export": gettext_lazy("Audit trail exported"),
    "notify.send": gettext_lazy("Message sent"),
}

FIELD_LABELS: dict[str, Any] = {
    "doc_type": gettext_lazy("document type"),
    "doc_number": gettext_lazy("document number"),
    "name": pgettext_lazy("person", "name"),
    "sex": gettext_lazy("sex"),
    "birth_date": gettext_lazy("birth date"),
    "phone": gettext_lazy("phone"),
    "home_id": gettext_lazy("home building"),
    "home_unit": gettext_lazy("unit / room"),
    "household_id": gettext_lazy("household"),
    "key_groups": gettext_lazy("key groups"),
    "limited_mobility": gettext_lazy("limited mobility"),
    "language": gettext_lazy("language"),
    "role": gettext_lazy("role in the merge"),
    "kept_id": gettext_lazy("record kept"),
    "duplicate_id": gettext_lazy("duplicate record"),
    "name_zh": gettext_lazy("name (Chinese)"),
    "name_en": gettext_lazy("name (English)"),
    "code": gettext_lazy("official code"),
    "level": gettext_lazy("level"),
    "confirmed": gettext_lazy("confirmed"),
}

_CHOICE_FIELDS: dict[str, dict[str, Any]] = {
    "doc_type": dict(Person.DocumentType.choices),
    "sex": dict(Person.Sex.choices),
    "language": dict(Person.Language.choices),
    "level": dict(Jurisdiction.Level.choices),
    "role": {"kept": gettext_lazy("kept"), "merged": gettext_lazy("merged into another")},
}


@register.filter
def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


@register.filter
def field_label(name: str) -> str:
    label = FIELD_LABELS.get(name)
    return str(label) if label is not None else name.replace("_", " ")


@register.filter
def level_label(level: str) -> str:
    return str(dict(Jurisdiction.Level.choices).get(level, level))


def readable(field: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(readable(field, v) for v in value)
    choices = _CHOICE_FIELDS.get(field)
    if choices and value in choices:
        return str(choices[value])
    return str(value)


@register.simple_tag
def change_rows(entry: AuditEntry) -> list[tuple[str, str, str]]:
    """``(field label, old, new)`` for each changed field of an audit entry."""
    rows = []
    changes = entry.changes if isinstance(entry.changes, dict) else {}
    for name, pair in changes.items():
        if isinstance(pair, list | tuple) and len(pair) == 2:
            old, new = pair
        else:
            old, new = None, pair
        rows.append((field_label(name), readable(name, old), readable(name, new)))
    return rows


@register.filter
def role_list(user: Any) -> str:
    """The names of a staff user's roles, in the current language."""
    profile = getattr(user, "staff", None) if getattr(user, "is_authenticated", False) else None
    if profile is None:
        return _("Superuser") if getattr(user, "is_superuser", False) else ""
    return ", ".join(r.name for r in profile.roles.all())
