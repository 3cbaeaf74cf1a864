"""Small helpers shared by the quarantine services."""

from __future__ import annotations

from django.contrib.auth.models import User

from fangkong.core.types import Actor


def acting_user(actor: Actor) -> User | None:
    """The signed-in user behind a write (``None`` for the system or a visitor)."""
    return actor if isinstance(actor, User) and actor.is_authenticated else None
