"""The public status check answered in front of Django (a WSGI wrapper).

``GET /api/v1/status/check?token=...`` is the hottest read path in the system:
every bus door and hospital gate asks it. Its common case needs no framework at
all: an anonymous check (no credentials, no cookies) of a valid token whose status
is in the cache. This wrapper answers exactly that case with one cache round trip
(rate-limit counter and status entry together, see ``fastpath``) and hands
everything else to Django unchanged: staff scanners (they get the masked name),
forged or expired tokens (translated 400), cache misses or stale entries
(database), rate-limited addresses (429), unknown hosts, plain HTTP when HTTPS is
required, and any failure of its own. When it hands over, the check it already
counted travels in the environ so the address is not counted twice.

The answer is the one Django gives (same body, same status, same security headers:
``test_wsgi_fastpath`` compares them); ``FANGKONG_STATUS_FASTPATH=0`` turns the
wrapper off.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils import translation
from django.utils.translation import trans_real

from fangkong.core.errors import ApplicationError
from fangkong.status import fastpath, rules
from fangkong.status.tokens import person_id_from_status_token

log = logging.getLogger(__name__)

CHECK_PATH = "/api/v1/status/check"
COUNTED = "fangkong.status.counted"  # environ key: this request's rate-limit count
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class _Meta:
    """Just enough of a request for ``get_language_from_request``."""

    COOKIES: dict[str, str] = {}

    def __init__(self, accept: str) -> None:
        self.META = {"HTTP_ACCEPT_LANGUAGE": accept}


class StatusCheckFastPath:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self._languages: dict[str, str] = {}
        self._texts: dict[tuple[int, str, str], tuple[str, str, str, str]] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == CHECK_PATH and environ.get("REQUEST_METHOD") == "GET":
            try:
                answer = self._answer(environ)
            except Exception:  # never fail a check because of the shortcut: Django answers
                log.exception("status check fast path failed; answered by Django")
                answer = None
            if answer is not None:
                status, headers, body = answer
                start_response(status, headers)
                return [body]
        return self.app(environ, start_response)

    # --- the common case --------------------------------------------------------------

    def _answer(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes] | None:
        if (
            "HTTP_AUTHORIZATION" in environ
            or "HTTP_X_API_TOKEN" in environ
            or "HTTP_COOKIE" in environ  # sessions, language choice: Django's business
            or not self._host_allowed(environ)
        ):
            return None
        secure = self._is_secure(environ)
        if settings.SECURE_SSL_REDIRECT and not secure:
            return None
        token = ""
        for key, value in parse_qsl(environ.get("QUERY_STRING", "")):
            if key == "token":
                token = value
        try:
            pid = person_id_from_status_token(token)
        except ApplicationError:
            return None  # Django explains, in the reader's language
        address = environ.get("HTTP_X_REAL_IP") or environ.get("REMOTE_ADDR") or None
        count, entry = fastpath.lookup(address, pid)
        environ[COUNTED] = count
        if count > rules.policy().check_rate_per_minute:
            return None
        if entry is None or (entry[1] is not None and entry[1] <= time.time()):
            return None  # cache miss or stale: the database, through Django
        level_code, until = entry
        language = self._language(environ.get("HTTP_ACCEPT_LANGUAGE", ""))
        code, name, colour, emergency = self._level_texts(level_code, language)
        body = json.dumps(
            {
                "level": code,
                "name": name,
                "colour": colour,
                "valid_until": (
                    dt.datetime.fromtimestamp(until, tz=dt.UTC).isoformat()
                    if until is not None
                    else None
                ),
                "emergency": emergency,
            },
            ensure_ascii=False,
        ).encode()
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        headers = [
            ("Content-Type", "application/json"),
            ("Cache-Control", "no-store"),
            ("Content-Language", language),
            ("Vary", "Accept-Language"),
            ("Content-Length", str(len(body))),
            ("X-Request-ID", request_id),
            *self._security_headers(secure),
        ]
        return "200 OK", headers, body

    # --- what Django's middleware would do ---------------------------------------------

    def _host_allowed(self, environ: dict[str, Any]) -> bool:
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        domain, _port = split_domain_port(host)
        allowed = settings.ALLOWED_HOSTS
        if settings.DEBUG and not allowed:
            allowed = [".localhost", "127.0.0.1", "[::1]"]
        return bool(domain) and validate_host(domain, allowed)

    @staticmethod
    def _is_secure(environ: dict[str, Any]) -> bool:
        proxy = settings.SECURE_PROXY_SSL_HEADER
        if proxy:
            header, secure_value = proxy
            value = environ.get(header)
            if value is not None:
                return str(value).split(",")[0].strip() == secure_value
        return environ.get("wsgi.url_scheme") == "https"

    @staticmethod
    def _security_headers(secure: bool) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = []
        if settings.SECURE_HSTS_SECONDS and secure:
            value = f"max-age={settings.SECURE_HSTS_SECONDS}"
            if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
                value += "; includeSubDomains"
            if settings.SECURE_HSTS_PRELOAD:
                value += "; preload"
            headers.append(("Strict-Transport-Security", value))
        if settings.SECURE_CONTENT_TYPE_NOSNIFF:
            headers.append(("X-Content-Type-Options", "nosniff"))
        if settings.SECURE_REFERRER_POLICY:
            policy = settings.SECURE_REFERRER_POLICY
            if not isinstance(policy, str):
                policy = ",".join(policy)
            headers.append(("Referrer-Policy", policy))
        if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
            headers.append(
                ("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY)
            )
        headers.append(("X-Frame-Options", getattr(settings, "X_FRAME_OPTIONS", "DENY").upper()))
        return headers

    def _language(self, accept: str) -> str:
        found = self._languages.get(accept)
        if found is None:
            found = trans_real.get_language_from_request(_Meta(accept))  # type: ignore[arg-type]
            if len(self._languages) > 256:
                self._languages.clear()
            self._languages[accept] = found
        return found

    def _level_texts(self, level_code: str, language: str) -> tuple[str, str, str, str]:
        levels = rules.levels()  # the same dict until the rules memo refreshes
        key = (id(levels), level_code, language)
        texts = self._texts.get(key)
        if texts is None:
            from fangkong.status.check import emergency_line

            with translation.override(language):
                lv = levels.get(level_code) or rules.lowest_level()
                texts = (lv.code, str(lv.name), lv.colour, emergency_line())
            if len(self._texts) > 256:
                self._texts.clear()
            self._texts[key] = texts
        return texts


def wrap(app: WSGIApp) -> WSGIApp:
    """The project's WSGI application with the status fast path in front."""
    if os.environ.get("FANGKONG_STATUS_FASTPATH", "1") == "0":
        return app
    return StatusCheckFastPath(app)
