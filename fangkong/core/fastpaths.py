"""Hot endpoints answered in front of Django (WSGI wrappers).

Two requests make up most of a city's traffic: the public status check (every bus
door and hospital gate) and the venue check-in (every shop door). Their common
case needs none of Django's request machinery: no session, no user, no template,
one cache or database round trip. A ``FastPath`` answers exactly that case and
hands everything else to Django unchanged: requests with credentials or cookies,
anything it does not recognise, every error (Django explains it, translated), and
any failure of its own. What it answers is what Django would answer: the same
body, status and security headers (each fast path has a test comparing them).

Apps register their fast paths (``register`` in ``AppConfig.ready``); ``wrap(app)``
puts them in front of a WSGI application (``fangkong/wsgi.py``);
``FANGKONG_FASTPATHS=0`` turns them all off.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.translation import trans_real

from fangkong.core.middleware import client_ip_from_meta, request_id_for

log = logging.getLogger(__name__)

REQUEST_ID = "fangkong.request_id"  # environ key
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Answer = tuple[str, list[tuple[str, str]], bytes]


class _Meta:
    """Just enough of a request for ``get_language_from_request``."""

    COOKIES: dict[str, str] = {}

    def __init__(self, accept: str) -> None:
        self.META = {"HTTP_ACCEPT_LANGUAGE": accept}


class FastPath:
    """Answer ``method path`` in front of ``app`` when ``answer`` can; else ``app``."""

    method = "GET"
    path = ""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self._languages: dict[str, str] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == self.path and environ.get("REQUEST_METHOD") == self.method:
            try:
                answer = self.answer(environ) if self.plain_request(environ) else None
            except Exception:  # never fail a request because of the shortcut: Django answers
                log.exception("fast path %s failed; answered by Django", self.path)
                answer = None
            if answer is not None:
                status, headers, body = answer
                start_response(status, headers)
                return [body]
        return self.app(environ, start_response)

    def answer(self, environ: dict[str, Any]) -> Answer | None:
        raise NotImplementedError

    # --- what Django's middleware would do ---------------------------------------------

    token_auth = False  # True: the request must carry an API token (staff devices)

    def plain_request(self, environ: dict[str, Any]) -> bool:
        """No cookies (sessions, language choice: Django's business), credentials only
        where expected (an API token), an allowed host, and HTTPS where required."""
        has_token = "HTTP_AUTHORIZATION" in environ or "HTTP_X_API_TOKEN" in environ
        if (
            has_token != self.token_auth
            or "HTTP_COOKIE" in environ
            or not self.host_allowed(environ)
        ):
            return False
        return not (settings.SECURE_SSL_REDIRECT and not self.is_secure(environ))

    @staticmethod
    def host_allowed(environ: dict[str, Any]) -> bool:
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        domain, _port = split_domain_port(host)
        allowed = settings.ALLOWED_HOSTS
        if settings.DEBUG and not allowed:
            allowed = [".localhost", "127.0.0.1", "[::1]"]
        return bool(domain) and validate_host(domain, allowed)

    @staticmethod
    def is_secure(environ: dict[str, Any]) -> bool:
        proxy = settings.SECURE_PROXY_SSL_HEADER
        if proxy:
            header, secure_value = proxy
            value = environ.get(header)
            if value is not None:
                return str(value).split(",")[0].strip() == secure_value
        return environ.get("wsgi.url_scheme") == "https"

    @staticmethod
    def security_headers(secure: bool) -> list[tuple[str, str]]:
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

    def language(self, environ: dict[str, Any]) -> str:
        """The reader's language as ``LocaleMiddleware`` would choose it (no cookie)."""
        accept = environ.get("HTTP_ACCEPT_LANGUAGE", "")
        found = self._languages.get(accept)
        if found is None:
            found = trans_real.get_language_from_request(_Meta(accept))  # type: ignore[arg-type]
            if len(self._languages) > 256:
                self._languages.clear()
            self._languages[accept] = found
        return found

    @contextlib.contextmanager
    def request_scope(self, environ: dict[str, Any]) -> Iterator[None]:
        """Django's start and end of a request around database work: connections past
        their age or broken are closed (and reopened when needed)."""
        from django.core import signals

        from fangkong.core.audit import request_context

        # The request id and address the answer carries are those of any audit row
        # or log line written meanwhile, as under RequestIdMiddleware.
        request_id = self.request_id(environ)
        signals.request_started.send(sender=self.__class__, environ=environ)
        try:
            with request_context(request_id, client_ip_from_meta(environ)):
                yield
        finally:
            signals.request_finished.send(sender=self.__class__)

    @staticmethod
    def request_id(environ: dict[str, Any]) -> str:
        """This request's id (kept in the environ: the answer's X-Request-ID)."""
        found = environ.get(REQUEST_ID)
        if found is None:
            found = environ[REQUEST_ID] = request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))
        return str(found)

    def read_json(self, environ: dict[str, Any], max_body: int = 2048) -> Any:
        """The JSON body of a small request (``None`` if it is not one); the body is
        put back so Django can read it again when the request is handed over."""
        import io
        import json

        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip()
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        if content_type != "application/json" or not 0 < length <= max_body:
            return None
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def respond(
        self,
        environ: dict[str, Any],
        status: str,
        body: bytes,
        *,
        language: str,
        extra: tuple[tuple[str, str], ...] = (),
        content_type: str = "application/json",
    ) -> Answer:
        request_id = self.request_id(environ)
        headers = [
            ("Content-Type", content_type),
            *extra,
            ("Content-Language", language),
            ("Vary", "Accept-Language"),
            ("Content-Length", str(len(body))),
            ("X-Request-ID", request_id),
            *self.security_headers(self.is_secure(environ)),
        ]
        return status, headers, body


# --- Staff devices with an API token ------------------------------------------------

# The rules of ``core.services.api_token_authenticate`` as one CTE ``principal``
# (user_id, scope, token_id) for a fast path that checks its token inside its own
# statement (PostgreSQL): not revoked, not expired, an active user holding
# ``%(capability)s`` through a role (or a superuser),
# the area as ``permissions.scope_path`` gives it (the profile's node; a superuser
# without one: everything); CTE ``noted`` notes the use at most once a minute, as
# ``api_token_in_use``. Parameters ``token_hash`` and ``capability``.
PRINCIPAL_CTE = (
    "principal AS ("
    " SELECT u.id AS user_id, t.id AS token_id,"
    " CASE WHEN s.id IS NOT NULL THEN j.path WHEN u.is_superuser THEN '' END AS scope"
    " FROM core_apitoken t JOIN auth_user u ON u.id = t.user_id"
    " LEFT JOIN core_staffprofile s ON s.user_id = u.id"
    " LEFT JOIN core_jurisdiction j ON j.id = s.jurisdiction_id"
    " WHERE t.token_hash = %(token_hash)s AND t.revoked_at IS NULL"
    " AND (t.expires_at IS NULL OR t.expires_at > now()) AND u.is_active"
    " AND (u.is_superuser OR EXISTS (SELECT 1 FROM core_staffprofile_roles sr"
    " JOIN core_role r ON r.id = sr.role_id"
    " WHERE sr.staffprofile_id = s.id AND r.capabilities ? %(capability)s))"
    "), noted AS ("
    " UPDATE core_apitoken SET last_used_at = now()"
    " WHERE id IN (SELECT token_id FROM principal)"
    " AND (last_used_at IS NULL OR last_used_at < now() - interval '60 seconds')"
    ")"
)


def bearer_token(environ: dict[str, Any]) -> str | None:
    """The API token of a request (``Authorization: Bearer`` or ``X-API-Token``)."""
    header = environ.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _sep, token = header.partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None
    return environ.get("HTTP_X_API_TOKEN") or None


def token_principal(token: str) -> Any | None:
    """The staff user of a valid API token: ``core.services.api_token_authenticate``
    itself (the one Python form of the token rules; ``PRINCIPAL_CTE`` is the SQL
    form, and a test runs both on the same generated tokens)."""
    from fangkong.core.services import api_token_authenticate

    return api_token_authenticate(token)


# Fast paths registered by the apps that own them (``AppConfig.ready``): core
# knows no domain app. Each entry is (order, name, factory); the lowest order is
# the outermost wrapper, the first to look at a request.
_REGISTERED: list[tuple[int, str, Callable[[WSGIApp], WSGIApp]]] = []


def register(name: str, factory: Callable[[WSGIApp], WSGIApp], *, order: int) -> None:
    """Put an app's fast path in front of Django: ``factory(app)`` returns the
    wrapped WSGI application. Called from the owning app's ``AppConfig.ready``
    (registering the same name again replaces it)."""
    _REGISTERED[:] = [entry for entry in _REGISTERED if entry[1] != name]
    _REGISTERED.append((order, name, factory))


def registered() -> list[str]:
    """The registered fast paths' names, outermost first."""
    return [name for _order, name, _factory in sorted(_REGISTERED, key=lambda e: e[0])]


def wrap(app: WSGIApp) -> WSGIApp:
    """``app`` with the registered fast paths in front (status check, check-in,
    sampling scan: the order their apps gave)."""
    if os.environ.get("FANGKONG_FASTPATHS", "1") == "0":
        return app
    for _order, _name, factory in sorted(_REGISTERED, key=lambda e: e[0], reverse=True):
        app = factory(app)
    return app
