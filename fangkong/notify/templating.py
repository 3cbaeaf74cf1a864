"""Message template syntax: ``{name}`` placeholders, ``{{``/``}}`` literal braces.

Deliberately not ``str.format``: staff-edited text must not reach attributes
(``{person.__class__}``) or format specs. Only plain names are allowed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
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


def person_renderer(body: str, context: Mapping[str, Any]) -> Callable[[str], str]:
    """``render`` for many recipients of one batch: everything but the person's name
    is filled once; the returned function fills in a name. Same errors as ``render``."""
    parts: list[str | None] = []  # None: the person's name
    pos = 0
    for m in _TOKEN.finditer(body):
        parts.append(body[pos : m.start()])
        pos = m.end()
        if m.group(1) == "person_name":
            parts.append(None)
        else:  # another placeholder or an escaped brace: as render fills it
            parts.append(render(m.group(0), context))
    parts.append(body[pos:])
    if None not in parts:
        text = "".join(p for p in parts if p is not None)
        return lambda _name: text
    pieces = ["" if p is None else p for p in parts]
    slots = [i for i, p in enumerate(parts) if p is None]

    def fill(name: str) -> str:
        out = list(pieces)
        for i in slots:
            out[i] = name
        return "".join(out)

    return fill
