"""The Django admin is for system administrators only."""

from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite
from django.http import HttpRequest

from fangkong.core import permissions


def restrict_admin_to_system_administrators(site: AdminSite) -> None:
    def has_permission(request: HttpRequest) -> bool:
        user: Any = request.user
        return bool(
            user.is_active
            and user.is_staff
            and (user.is_superuser or permissions.has_capability(user, "admin.access"))
        )

    site.has_permission = has_permission  # type: ignore[method-assign]
    site.site_header = "Fangkong"
    site.site_title = "Fangkong"
