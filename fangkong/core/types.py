"""Types shared by every app's services and selectors."""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser, User

#: Who causes a write or asks for a read: a signed-in user (staff or superuser),
#: an anonymous visitor (public forms of the portal), or ``None`` for the system
#: itself (periodic jobs, event handlers acting on a fact).
Actor: TypeAlias = "User | AnonymousUser | None"


def acting_user(actor: Actor) -> User | None:
    """The signed-in user behind an actor; ``None`` for the system or an anonymous
    visitor. What a row stores as its author (``created_by=acting_user(actor)``)."""
    return actor if isinstance(actor, User) and actor.is_authenticated else None


__all__ = ["Actor", "acting_user"]
