"""Message template syntax: ``{name}`` placeholders, ``{{``/``}}`` literal braces.

Deliberately not ``str.format``: staff-edited text must not reach attributes
(``{person.__class__}``) or format specs. Only plain names are allowed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from fangkong.core.errors import ValidationFailed

# Always filled in per recipient; callers need not supply them.
AUTOMATIC = frozenset({"person_name"})

_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]{0,39})\}|\{|\}")
MAX_BODY = 1000


def placeholders_of(body: str, *, field: str = "body") -> list[str]:
    """The placeholder names in ``body``, in order of first use; refuse bad syntax."""
    names: list[str] = []
    for m in _TOKEN.finditer(body):
        piece = m.group(0)
        if piece in ("{{", "}}"):
            continue
        name = m.group(1)
        if name is None:
            raise ValidationFailed(
                fields={
                    field: _(
                        "A lone “%(brace)s” at position %(pos)s: write placeholders as "
                        "{name} and literal braces as {{ or }}."
                    )
                    % {"brace": piece, "pos": m.start() + 1}
                }
            )
        if name not in names:
            names.append(name)
    return names


def validate_body(body: str, *, field: str = "body") -> list[str]:
    body = body or ""
    if not body.strip():
        raise ValidationFailed(fields={field: _("The text is empty.")})
    if len(body) > MAX_BODY:
        raise ValidationFailed(
            fields={field: _("The text has at most %(n)s characters.") % {"n": MAX_BODY}}
        )
    return placeholders_of(body, field=field)


def missing_placeholders(names: list[str], context: Mapping[str, Any]) -> list[str]:
    return [n for n in names if n not in AUTOMATIC and n not in context]


def render(body: str, context: Mapping[str, Any]) -> str:
    """Fill ``body`` from ``context``; every placeholder must be present."""

    def sub(m: re.Match[str]) -> str:
        piece = m.group(0)
        if piece == "{{":
            return "{"
        if piece == "}}":
            return "}"
        name = m.group(1)
        if name is None or name not in context:
            raise ValidationFailed(
                fields={
                    "context": _("Missing value for placeholder “%(name)s”.")
                    % {"name": name or piece}
                }
            )
        return str(context[name])

    return _TOKEN.sub(sub, body)
