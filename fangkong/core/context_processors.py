from __future__ import annotations

from functools import cache
from typing import Any

from django.apps import apps
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from fangkong.core import permissions


@cache
def _module_entries() -> tuple[tuple[Any, str, str, str], ...]:
    """Side-navigation entries declared by domain apps (``AppConfig.nav_entry``).

    Each app declares ``(label, URL name, capability)``; the entry is listed once
    the URL exists, so an app can ship its navigation with its first page.
    """
    entries = []
    for config in apps.get_app_configs():
        entry = getattr(config, "nav_entry", None)
        if not entry:
            continue
        label, url_name, capability = entry
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        entries.append((label, url, capability, config.label))
    return tuple(entries)


def staff(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    profile = permissions.staff_profile(user)
    caps = permissions.capabilities_of(user) if user else frozenset()
    match = getattr(request, "resolver_match", None)
    current_app = match.app_name if match else ""
    modules = [
        {"label": label, "url": url, "current": app == current_app}
        for label, url, capability, app in _module_entries()
        if capability in caps
    ]
    return {"staff_profile": profile, "capabilities": caps, "nav_modules": modules}
