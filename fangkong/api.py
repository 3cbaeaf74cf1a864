"""The JSON API: one NinjaAPI under /api/v1/, one error shape, session or token auth.

Every error is ``{"error": {"code": ..., "message": ..., "fields": {...}}}`` with a
translated message. Apps contribute routers (``fangkong.<app>.api.router``).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyHeader, HttpBearer, django_auth

from fangkong.core.errors import ApplicationError


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from fangkong.core.services import api_token_authenticate

        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class HeaderToken(APIKeyHeader):
    param_name = "X-API-Token"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if not key:
            return None
        return BearerToken().authenticate(request, key)


api = NinjaAPI(
    title="Fangkong API",
    version="1",
    description=(
        "Outbreak prevention and control command platform. Authenticate with a staff "
        "session (browser, with CSRF token) or a personal API token "
        "(`Authorization: Bearer fk_…`). Every error has the shape "
        '`{"error": {"code", "message", "fields"}}`.'
    ),
    auth=[BearerToken(), HeaderToken(), django_auth],
    urls_namespace="api",
    docs_url="/docs",
)


def error_response(
    request: HttpRequest, status: int, code: str, message: str, fields: dict[str, Any] | None = None
) -> HttpResponse:
    return api.create_response(
        request,
        {"error": {"code": code, "message": message, "fields": fields or {}}},
        status=status,
    )


@api.exception_handler(ApplicationError)
def _application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


_SOURCES = {"body", "query", "path", "form", "file", "header", "cookie"}
_WRAPPERS = {"payload", "filters", "data"}


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, str] = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", [])]
        # Drop where the value came from (body, query, file ...) and the name of
        # the schema parameter that wraps the fields, keeping the field's own name.
        if len(loc) > 1 and loc[0] in _SOURCES:
            loc = loc[1:]
        if len(loc) > 1 and loc[0] in _WRAPPERS:
            loc = loc[1:]
        key = ".".join(loc) or "__all__"
        fields.setdefault(key, str(err.get("msg", _("Invalid value."))))
    return error_response(request, 400, "invalid", _("Some fields are not valid."), fields)


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(request, 401, "unauthenticated", _("Please sign in."))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found", _("Not found."))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(request, exc.status_code, "error", str(exc))


def register_routers() -> None:
    from fangkong.core.api import router as core_router
    from fangkong.core.api_exports import router as exports_router
    from fangkong.core.api_imports import router as imports_router
    from fangkong.investigation.api_cases import router as cases_router
    from fangkong.investigation.api_checkins import router as checkins_router
    from fangkong.notify.api import router as notify_router
    from fangkong.portal.api import router as portal_router
    from fangkong.screening.api import router as screening_router
    from fangkong.status.api import router as status_router
    from fangkong.zones.api import router as zones_router

    # Check-ins first: the hottest path (every venue scan) resolves with the fewest
    # URL patterns tried. Then import/export routes: fixed paths (/people/export.csv)
    # before /people/{id}.
    api.add_router("/status", status_router)  # the public status check: hottest read path
    api.add_router("/", checkins_router)
    api.add_router("/", imports_router)
    api.add_router("/", exports_router)
    api.add_router("/", core_router)
    api.add_router("/notify", notify_router)
    api.add_router("/", cases_router)
    api.add_router("/screening", screening_router)
    api.add_router("/zones", zones_router)
    api.add_router("/portal", portal_router)


register_routers()
