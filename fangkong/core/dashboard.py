"""The command centre's "needs attention" list, gathered from the domain apps.

Each app may offer ``fangkong/<app>/dashboard.py`` with ``attention(user)``
returning items ``{"text", "count", "url", "severity"}`` (severity ``high``,
``medium`` or ``info``) for what waits on people of the user's area: approvals,
overdue appeals and requests, alerts. Only items with a count are shown; an app
checks the user's capabilities itself and returns nothing they may not see.
"""

from __future__ import annotations

import importlib
import importlib.util
from functools import cache
from typing import Any

from django.apps import apps

SEVERITY_ORDER = {"high": 0, "medium": 1, "info": 2}


@cache
def _providers() -> tuple[Any, ...]:
    found = []
    for config in apps.get_app_configs():
        if not config.name.startswith("fangkong."):
            continue
        name = f"{config.name}.dashboard"
        if config.name == "fangkong.core" or importlib.util.find_spec(name) is None:
            continue
        found.append(importlib.import_module(name).attention)
    return tuple(found)


def attention_items(user: Any) -> list[dict[str, Any]]:
    items = [item for provider in _providers() for item in provider(user) if item["count"]]
    return sorted(items, key=lambda i: (SEVERITY_ORDER.get(i["severity"], 9), -i["count"]))
