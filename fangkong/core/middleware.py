"""Request id and client address for the audit trail and logs."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse

from fangkong.core.audit import request_context

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def client_ip(request: HttpRequest) -> str | None:
    return client_ip_from_meta(request.META)


def client_ip_from_meta(meta: Mapping[str, Any]) -> str | None:
    """The client's address from a request's META or a WSGI environ."""
    # Behind a reverse proxy, configure it to set X-Real-IP (README, "Deployment").
    ip = meta.get("HTTP_X_REAL_IP") or meta.get("REMOTE_ADDR")
    return ip or None


def request_id_for(incoming: str) -> str:
    """The caller's X-Request-ID when it is safe to log, else a new one."""
    return incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request.headers.get("X-Request-ID", ""))
        request.request_id = request_id  # type: ignore[attr-defined]
        with request_context(request_id, client_ip(request)):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
