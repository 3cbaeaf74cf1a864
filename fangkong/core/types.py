"""Types shared by every app's services and selectors."""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser, User

#: Who causes a write or asks for a read: a signed-in user (staff or superuser),
#: an anonymous visitor (public forms of the portal), or ``None`` for the system
#: itself (periodic jobs, event handlers acting on a fact).
Actor: TypeAlias = "User | AnonymousUser | None"

__all__ = ["Actor"]
