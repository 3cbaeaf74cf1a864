"""Template helpers of the investigation pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def mask_name(name: str | None) -> str:
    """王芳 → 王*, 欧阳明月 → 欧***, Jane Doe → J*** (people outside the user's
    area are shown this way in exposure lists)."""
    name = (name or "").strip()
    if not name:
        return "—"
    return name[0] + "*" * min(max(len(name) - 1, 1), 3)


@register.filter
def classification_class(value: str) -> str:
    return {
        "confirmed": "tag-confirmed",
        "asymptomatic": "tag-asymptomatic",
        "suspected": "tag-suspected",
        "excluded": "tag-excluded",
    }.get(value, "")


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def within(path: str | None, prefix: str | None) -> bool:
    """Whether a scope path lies in the user's area (``prefix``; '' is everywhere)."""
    return prefix is not None and (path or "").startswith(prefix)
