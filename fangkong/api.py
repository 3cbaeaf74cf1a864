"""The JSON API: one NinjaAPI under /api/v1/, one error shape, session or token auth.

Every error is ``{"error": {"code": ..., "message": ..., "fields": {...}}}`` with a
translated message (``fangkong.core.apiedge``: the edge around every operation).
Apps contribute routers (``fangkong.<app>.api.router``) whose schemas derive from
``fangkong.core.schema``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja import Swagger
from ninja.security import APIKeyHeader, HttpBearer

from fangkong.core.apiedge import FangkongAPI, session_auth


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


class OfflineSwagger(Swagger):
    """The API documentation with Swagger UI from our own static files (npm package
    ``swagger-ui-dist``), started by a script file (the Content-Security-Policy
    allows no inline script): an intranet without internet reads it too."""

    template = "core/api_docs.html"

    def render_page(self, request: HttpRequest, api: Any, **kwargs: Any) -> HttpResponse:
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        context = {"swagger_settings": self.settings, "api": api}
        return render(request, self.template, context)


api = FangkongAPI(
    title="Fangkong API",
    version="1",
    description=(
        "Outbreak prevention and control command platform. Authenticate with a staff "
        "session (browser, with CSRF token) or a personal API token "
        "(`Authorization: Bearer fk_…`). Every error has the shape "
        '`{"error": {"code", "message", "fields"}}`; a write whose answer is an error '
        "changes nothing."
    ),
    auth=[BearerToken(), HeaderToken(), session_auth],
    urls_namespace="api",
    docs_url="/docs",
    docs=OfflineSwagger(),
)


def error_response(
    request: HttpRequest, status: int, code: str, message: str, fields: dict[str, Any] | None = None
) -> HttpResponse:
    return api.error_response(request, status, code, message, fields)


def register_routers() -> None:
    from fangkong.core.api import router as core_router
    from fangkong.core.api_exports import router as exports_router
    from fangkong.core.api_imports import router as imports_router
    from fangkong.entry.api import router as entry_router
    from fangkong.headquarters.api import router as hq_router
    from fangkong.headquarters.api_ops import router as hq_ops_router
    from fangkong.investigation.api_cases import router as cases_router
    from fangkong.investigation.api_checkins import router as checkins_router
    from fangkong.notify.api import router as notify_router
    from fangkong.portal.api import router as portal_router
    from fangkong.quarantine.api import router as quarantine_router
    from fangkong.screening.api import router as screening_router
    from fangkong.status.api import router as status_router
    from fangkong.supplies.api import router as supplies_router
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
    api.add_router("/quarantine", quarantine_router)
    api.add_router("/entry", entry_router)
    api.add_router("/hq", hq_router)
    api.add_router("/hq", hq_ops_router)
    api.add_router("/supplies", supplies_router)


register_routers()
