"""Request id and client address for the audit trail and logs; the security policy
header of every page."""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from fangkong.core.audit import request_context

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def client_ip(request: HttpRequest) -> str | None:
    return client_ip_from_meta(request.META)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_proxies: dict[str, Any] = {"conf": None, "nets": ()}


def _trusted_proxies() -> tuple[Network, ...]:
    """``FANGKONG_TRUSTED_PROXIES`` parsed once (again when the setting changes)."""
    conf = settings.FANGKONG_TRUSTED_PROXIES
    if _proxies["conf"] is not conf:
        _proxies["nets"] = tuple(ipaddress.ip_network(n, strict=False) for n in conf)
        _proxies["conf"] = conf
    nets: tuple[Network, ...] = _proxies["nets"]
    return nets


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
    return address is not None and any(address in net for net in _trusted_proxies())


def client_ip_from_meta(meta: Mapping[str, Any]) -> str | None:
    """The client's address from a request's META or a WSGI environ.

    The peer's address (``REMOTE_ADDR``), unless the peer is one of the reverse
    proxies listed in ``FANGKONG_TRUSTED_PROXIES`` (none by default): then the
    nearest address in ``X-Forwarded-For`` that is not itself a trusted proxy, or
    else ``X-Real-IP``. Anyone else's forwarding headers are ignored: a client
    cannot choose the address its rate limits count and the audit trail records."""
    remote = meta.get("REMOTE_ADDR") or None
    if not settings.FANGKONG_TRUSTED_PROXIES:
        return remote
    peer = _address(remote or "")
    if not _trusted(peer):
        return remote
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        for hop in reversed(forwarded.split(",")):
            address = _address(hop)
            if address is None:
                break  # a hop that is no address: trust nothing to its left
            if not _trusted(address):
                return str(address)
    real = _address(meta.get("HTTP_X_REAL_IP", ""))
    if real is not None:
        return str(real)
    return remote


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


class ContentSecurityPolicyMiddleware:
    """Every page gets a Content-Security-Policy: scripts, styles, images and
    requests from our own origin only; no inline script, no ``onclick=``, no style
    attribute (pages use static files, ``data-*`` attributes and JSON blocks), no
    framing. The Django admin, whose templates carry inline styles, may use them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = settings.FANGKONG_CSP
        self.admin_policy = self.policy.replace(
            "style-src 'self'", "style-src 'self' 'unsafe-inline'"
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            admin = request.path.startswith("/admin/")
            response["Content-Security-Policy"] = self.admin_policy if admin else self.policy
        return response
