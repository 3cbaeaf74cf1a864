"""Template helpers of the staff pages: readable audit entries, labels."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core import labels
from fangkong.core.models import AuditEntry, Jurisdiction, Person

register = template.Library()

# Values of core's own fields shown as their choice labels.
_CHOICE_FIELDS: dict[str, dict[str, Any]] = {
    "doc_type": dict(Person.DocumentType.choices),
    "sex": dict(Person.Sex.choices),
    "language": dict(Person.Language.choices),
    "level": dict(Jurisdiction.Level.choices),
    "role": {"kept": gettext_lazy("kept"), "merged": gettext_lazy("merged into another")},
}
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@register.filter
def action_label(action: str) -> str:
    """The words for an audited action; an action nobody named reads "Other change"
    (a test keeps every audited action named)."""
    return labels.action(action) or str(_("Other change"))


@register.filter
def field_label(name: str) -> str:
    return labels.field(name) or str(_("other detail"))


@register.filter
def object_label(code: str) -> str:
    return labels.object_type(code) or ""


@register.filter
def value_label(raw: Any, field_name: str) -> str:
    """A stored code as the words its app registered for it (``core.labels``):
    ``{{ appeal.level_at_appeal|value_label:"level" }}`` reads 黄码 / Yellow."""
    if raw in (None, ""):
        return "—"
    return labels.value(field_name, raw) or str(raw)


@register.filter
def level_label(level: str) -> str:
    return str(dict(Jurisdiction.Level.choices).get(level, level))


def local_time(value: str) -> str | None:
    """An ISO date or time stored in an audit row, as a person reads it."""
    if _ISO_DATE.match(value):
        return value
    if _ISO_TIME.match(value):
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if timezone.is_naive(when):
            when = timezone.make_aware(when)
        return formats.date_format(timezone.localtime(when), "Y-m-d H:i")
    return None


def readable(field: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(readable(field, v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{field_label(k)}: {readable(k, v)}" for k, v in value.items())
    choices = _CHOICE_FIELDS.get(field)
    if choices and value in choices:
        return str(choices[value])
    label = labels.value(field, value)
    if label is not None:
        return label
    if isinstance(value, str):
        return local_time(value) or value
    return str(value)


@register.simple_tag
def change_rows(entry: AuditEntry) -> list[tuple[str, str, str]]:
    """``(field label, old, new)`` for each changed field of an audit entry."""
    rows = []
    changes = entry.changes if isinstance(entry.changes, dict) else {}
    for name, pair in changes.items():
        if (name == "id" or name.endswith("_id")) and labels.field(name) is None:
            continue  # a row's internal number tells a person nothing (the export keeps it)
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


def _unit_name(path: str) -> str:
    if not path:
        return ""
    node = Jurisdiction.objects.filter(path=path).only("name_zh", "name_en").first()
    return node.name if node is not None else ""


@register.filter
def staff_name(user: Any) -> str:
    """A staff member as colleagues know them: their name and unit ("陈卫东 · 小店区"),
    never a user name; "—" for nobody."""
    if user is None or not getattr(user, "pk", None):
        return "—"
    profile = getattr(user, "staff", None)
    if profile is None:
        from fangkong.core.models import StaffProfile

        profile = StaffProfile.objects.filter(user=user).select_related("jurisdiction").first()
    if profile is None:
        return _("System administrator") if getattr(user, "is_superuser", False) else _("Staff")
    name = profile.display_name or _("Staff")
    return f"{name} · {profile.jurisdiction.name}" if profile.jurisdiction_id else name


@register.filter
def audit_actor(entry: AuditEntry) -> str:
    """Who made an audit entry: a person's name and unit, or "the system"."""
    if entry.actor_id is None:
        return str(_("the system"))
    return staff_name(entry.actor)


@register.filter
def role_names(codes: str, names: dict[str, str]) -> str:
    """Role codes stored on an audit row ("a,b") as the roles' names, from ``names``
    (``core.selectors.role_names_by_code``, read once for a page)."""
    wanted = [c for c in (codes or "").split(",") if c]
    return ", ".join(names.get(c, str(_("another role"))) for c in wanted)
