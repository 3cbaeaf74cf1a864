"""Start-up checks of the notification settings (``fangkong check``; run on start)."""

from __future__ import annotations

import importlib
import importlib.util
import json
from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register

from fangkong.notify import conf


def _find(path: str) -> Any:
    """The object a dotted path names, or None when no such module or attribute
    exists (a module that exists but fails to import raises: a real error)."""
    module_name, _dot, name = path.rpartition(".")
    if not module_name or not name:
        return None
    parts = module_name.split(".")
    for i in range(1, len(parts) + 1):
        if importlib.util.find_spec(".".join(parts[:i])) is None:
            return None
    return getattr(importlib.import_module(module_name), name, None)


@register()
def sms_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    problems: list[Any] = []
    path = settings.FANGKONG_SMS_BACKEND
    backend = _find(path)
    if backend is None:
        return [Error(f"FANGKONG_SMS_BACKEND {path!r} cannot be imported.", id="notify.E001")]
    try:
        conf.default_quiet_hours()
    except ValueError:
        problems.append(
            Error(
                "FANGKONG_SMS_QUIET_HOURS must look like 22:00-07:00 (or be empty).",
                id="notify.E002",
            )
        )
    if backend.__name__ == "HttpGatewayBackend":
        gateway = getattr(settings, "FANGKONG_SMS_GATEWAY", {})
        if not str(gateway.get("url", "")).startswith(("http://", "https://")):
            problems.append(
                Error(
                    "FANGKONG_SMS_GATEWAY_URL must be an http(s) URL for the HTTP gateway.",
                    id="notify.E003",
                )
            )
        template = gateway.get("request_template")
        if isinstance(template, str) and template:
            try:
                if not isinstance(json.loads(template), dict):
                    raise ValueError
            except ValueError:
                problems.append(
                    Error("FANGKONG_SMS_GATEWAY_TEMPLATE must be a JSON object.", id="notify.E004")
                )
        if not settings.FANGKONG_SMS_CALLBACK_TOKEN:
            problems.append(
                Warning(
                    "FANGKONG_SMS_CALLBACK_TOKEN is empty: delivery reports will be refused.",
                    id="notify.W001",
                )
            )
    return problems
