"""Words for the internal codes a page would otherwise show a person.

Audit rows, timelines and histories store codes (``status.reason_grant``,
``kind``, ``close_contact``); people read labels in their language. Each app
declares the labels of its own codes in ``fangkong/<app>/labels.py`` with
:func:`register` (found by :func:`discover`, like the apps' ``demo.py``), so core
names no domain app. A test fails when an audited action has no label.

- ``actions``: audit actions (``"zone.propose"`` → "Zone proposed");
- ``fields``: names of changed fields (``"kind"`` → "kind");
- ``values``: per field, the label of a stored value (``{"kind": {"close_contact": ...}}``);
- ``objects``: object types (``"zones.zone"`` → "zone");
- ``names``: per object type, a look-up of many objects by id at once
  (``ids → {id: words}``): the case an audit row is about as its number and
  person, a zone as its name (:func:`names_of`, :func:`object_names`).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterable
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

Label = str | Promise

ACTIONS: dict[str, Label] = {}
FIELDS: dict[str, Label] = {}
VALUES: dict[str, dict[str, Label]] = {}
OBJECTS: dict[str, Label] = {}
# Values whose labels are data (status levels, reason kinds): field -> look-ups.
RESOLVERS: dict[str, list[Callable[[str], Label | None]]] = {}
# Objects by id: object type -> look-up of many ids at once.
Names = Callable[[list[int]], dict[int, Label]]
NAMES: dict[str, Names] = {}
_discovered = {"done": False}


def register(
    *,
    actions: dict[str, Label] | None = None,
    fields: dict[str, Label] | None = None,
    values: dict[str, dict[str, Label]] | None = None,
    objects: dict[str, Label] | None = None,
    resolvers: dict[str, Callable[[str], Label | None]] | None = None,
    names: dict[str, Names] | None = None,
) -> None:
    ACTIONS.update(actions or {})
    NAMES.update(names or {})
    for field_name, fn in (resolvers or {}).items():
        RESOLVERS.setdefault(field_name, []).append(fn)
    FIELDS.update(fields or {})
    for field, labels in (values or {}).items():
        VALUES.setdefault(field, {}).update(labels)
    OBJECTS.update(objects or {})


def discover() -> None:
    """Import every project app's ``labels`` module once."""
    if _discovered["done"]:
        return
    from django.apps import apps

    for config in apps.get_app_configs():
        if not config.name.startswith("fangkong.") or config.name == "fangkong.core":
            continue
        name = f"{config.name}.labels"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    _discovered["done"] = True


def action(code: str) -> str | None:
    discover()
    label = ACTIONS.get(code)
    return str(label) if label is not None else None


def field(name: str) -> str | None:
    discover()
    label = FIELDS.get(name)
    return str(label) if label is not None else None


def value(field_name: str, raw: Any) -> str | None:
    discover()
    label = VALUES.get(field_name, {}).get(str(raw))
    if label is None:
        for fn in RESOLVERS.get(field_name, ()):
            label = fn(str(raw))
            if label is not None:
                break
    return str(label) if label is not None else None


def object_type(code: str) -> str | None:
    discover()
    label = OBJECTS.get(code)
    return str(label) if label is not None else None


def names_of(model: str, *fields: str | tuple[str, str], sep: str = " · ") -> Names:
    """A look-up of objects of ``model`` (``"app_label.modelname"``, as audit rows
    name their objects) by id: the words of ``fields`` (related ones by ``__``),
    blanks left out, joined by ``sep``. A field given as ``("name_zh", "name_en")``
    is read in the active language (Chinese when the English one is blank)."""

    def look(ids: list[int]) -> dict[int, Label]:
        from django.apps import apps

        from fangkong.core.models import in_language

        columns: list[str] = []
        for f in fields:
            columns.extend(f if isinstance(f, tuple) else (f,))
        rows = apps.get_model(model).objects.filter(pk__in=ids).values_list("pk", *columns)
        out: dict[int, Label] = {}
        for row in rows:
            values = iter(row[1:])
            parts: list[str] = []
            for f in fields:
                if isinstance(f, tuple):
                    zh, en = next(values), next(values)
                    text = in_language(zh or "", en or "")
                else:
                    text = next(values)
                if text not in (None, ""):
                    parts.append(str(text))
            if parts:
                out[int(row[0])] = sep.join(parts)
        return out

    return look


def names_for(spec: dict[str, tuple[str | tuple[str, str], ...]]) -> dict[str, Names]:
    """``names`` for :func:`register` from ``{object type: fields}`` (``names_of``)."""
    return {model: names_of(model, *fields) for model, fields in spec.items()}


def object_names(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The words for many (object type, object id) pairs of audit rows, one query
    per type: a pair whose type has no look-up, or whose object is gone, is left out."""
    discover()
    wanted: dict[str, set[int]] = {}
    for kind, object_id in pairs:
        if kind in NAMES and str(object_id).isdigit():
            wanted.setdefault(kind, set()).add(int(object_id))
    out: dict[tuple[str, str], str] = {}
    for kind, ids in wanted.items():
        for pk, label in NAMES[kind](sorted(ids)).items():
            out[(kind, str(pk))] = str(label)
    return out


# --- core's own codes -------------------------------------------------------------


def staff_by_login(username: str) -> Label | None:
    """A login stored in an audit row (who took a request, who was created) as the
    person colleagues know: "赵丽娟 · 郝庄社区第1网格"."""
    from fangkong.core.models import StaffProfile

    profile = (
        StaffProfile.objects.filter(user__username=username).select_related("jurisdiction").first()
    )
    if profile is None or not profile.display_name:
        return None
    unit = profile.jurisdiction.name if profile.jurisdiction_id else ""
    return f"{profile.display_name} · {unit}" if unit else profile.display_name


def staff_by_user_id(pk: str) -> Label | None:
    """A staff account's id stored in an audit row, as the person colleagues know."""
    from fangkong.core.models import StaffProfile

    if not pk.isdigit():
        return None
    login = StaffProfile.objects.filter(user_id=int(pk)).values_list("user__username", flat=True)
    return staff_by_login(login[0]) if login else None


def area_by_id(pk: str) -> Label | None:
    """A node of the jurisdiction tree stored by id (an area, a grid unit, a
    building) as its name in the reader's language."""
    from fangkong.core.models import Jurisdiction

    node = Jurisdiction.objects.filter(pk=int(pk)).first() if pk.isdigit() else None
    return node.name if node is not None else None


register(
    actions={
        "person.create": _("Registered"),
        "person.update": _("Details corrected"),
        "person.unmask": _("Full ID and phone numbers viewed"),
        "person.merge": _("Duplicate records merged"),
        "person.import": _("People imported from a file"),
        "person.export": _("People exported"),
        "jurisdiction.create": _("Area created"),
        "jurisdiction.update": _("Area changed"),
        "jurisdiction.import": _("Areas imported"),
        "household.create": _("Household created"),
        "staff.create": _("Staff account created"),
        "staff.roles": _("Staff account's roles changed"),
        "api_token.create": _("API token created"),
        "api_token.revoke": _("API token revoked"),
        "api_token.revoke_at_sign_out": _("API tokens revoked at sign-out"),
        "otp.enrol": _("Two-factor sign-in turned on"),
        "audit.export": _("Audit trail exported"),
        "keys.rotate": _("Encryption keys rotated"),
        "synth.build": _("Synthetic city built"),
        "demo.logins": _("Demo logins created"),
        "notify.send": _("Message sent"),
        "notify.notice": _("Notice sent"),
        "notify.batch_create": _("Message batch created"),
        "notify.batch_prepared": _("Message batch prepared"),
        "notify.optout_set": _("Messages turned off by the person"),
        "notify.optout_clear": _("Messages turned on again"),
        "notify.template_save": _("Message template changed"),
    },
    fields={
        "doc_type": _("document type"),
        "doc_number": _("document number"),
        "name": pgettext_lazy("person", "name"),
        "sex": _("sex"),
        "birth_date": _("birth date"),
        "phone": _("phone"),
        "home_id": _("home building"),
        "home_unit": _("unit / room"),
        "household_id": _("household"),
        "key_groups": _("key groups"),
        "limited_mobility": _("limited mobility"),
        "language": _("language"),
        "role": _("role"),
        "kept_id": _("record kept"),
        "duplicate_id": _("duplicate record"),
        "name_zh": _("name (Chinese)"),
        "name_en": _("name (English)"),
        "code": pgettext_lazy("identifier", "official code"),
        "level": pgettext_lazy("level of a node, a zone or a status", "level"),
        "confirmed": _("confirmed"),
        "usernames": _("logins"),
        "seed": _("seed"),
        "seconds": _("seconds"),
        "residents": _("residents"),
        "households": _("households"),
        "districts": _("districts"),
        "venues": _("venues"),
        "rows": _("rows"),
        "created": _("created"),
        "updated": _("updated"),
        "count": _("count"),
        "people": _("people"),
        "state": pgettext_lazy("state of a record", "state"),
        "status": pgettext_lazy("state of a record", "status"),
        "reason": _("reason"),
        "note": _("note"),
        "kind": pgettext_lazy("kind of a record", "kind"),
        "template": _("message template"),
        "channel": _("channel"),
        "total": _("total"),
        "expires_at": _("expires"),
        "ends_at": _("ends"),
        "starts_at": _("starts"),
        "filters": _("filters"),
        "format": _("format"),
        "path": _("area"),
        "jurisdiction_id": _("area"),
        "parent_id": _("parent area"),
        "boundary": _("boundary"),
        "roles": _("roles"),
        "username": _("login"),
        "is_superuser": _("superuser"),
        "is_staff": _("may open the admin"),
        "is_active": _("account active"),
        "groups": _("admin groups"),
        "permissions": _("admin permissions"),
    },
    objects={
        "core.person": _("person"),
        "core.jurisdiction": _("area"),
        "core.household": _("household"),
        "core.apitoken": _("API token"),
        "core.staffprofile": _("staff account"),
        "auth.user": _("staff account"),
        "notify.batch": _("message batch"),
        "notify.message": _("message"),
        "notify.template": _("message template"),
    },
    names=names_for(
        {
            "core.person": ("name",),
            "core.jurisdiction": (("name_zh", "name_en"),),
            "core.household": (("building__name_zh", "building__name_en"), "unit"),
            "core.apitoken": ("name", "user__staff__display_name"),
            "core.staffprofile": (
                "display_name",
                ("jurisdiction__name_zh", "jurisdiction__name_en"),
            ),
            "auth.user": (
                "staff__display_name",
                ("staff__jurisdiction__name_zh", "staff__jurisdiction__name_en"),
            ),
        }
    ),
    resolvers={
        "assignee": staff_by_login,
        "usernames": staff_by_login,
        "username": staff_by_login,
        "jurisdiction_id": area_by_id,
        "home_id": area_by_id,
        "grid_id": area_by_id,
    },
)
