from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from fangkong.core import permissions


def staff(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    profile = permissions.staff_profile(user)
    return {
        "staff_profile": profile,
        "capabilities": permissions.capabilities_of(user) if user else frozenset(),
    }
