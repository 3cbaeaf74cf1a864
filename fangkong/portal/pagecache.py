"""Public pages are cached per language; any content change bumps one generation
number, so every cached page of the old generation is simply never read again."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, overload

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language

GEN_KEY = "portal:gen"
TIMEOUT = 300
SHORT_TIMEOUT = 30  # pages with zones, testing sites and daily figures


def generation() -> int:
    gen = cache.get(GEN_KEY)
    if gen is None:
        gen = 1
        cache.add(GEN_KEY, gen, None)
    return int(gen)


def bump() -> None:
    """Invalidate every cached public page (after the transaction commits)."""

    def _bump() -> None:
        try:
            cache.incr(GEN_KEY)
        except ValueError:
            cache.set(GEN_KEY, 2, None)

    transaction.on_commit(_bump)


def _has_messages(request: HttpRequest) -> bool:
    from django.contrib.messages import get_messages

    return len(get_messages(request)) > 0


View = Callable[..., HttpResponse]


@overload
def cached_public_page(view: View, *, timeout: int = TIMEOUT) -> View: ...
@overload
def cached_public_page(view: None = None, *, timeout: int = TIMEOUT) -> Callable[[View], View]: ...
def cached_public_page(
    view: View | None = None, *, timeout: int = TIMEOUT
) -> View | Callable[[View], View]:
    """Whole-response cache for anonymous GETs, keyed by language and full path.
    Pages showing other apps' data (zones, sites, figures), whose changes do not
    bump the portal's generation, use a short ``timeout``."""
    if view is None:
        return lambda v: _cached(v, timeout)
    return _cached(view, timeout)


def _cached(view: View, timeout: int) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "GET" or request.user.is_authenticated or _has_messages(request):
            return view(request, *args, **kwargs)  # personal: never from or into the cache
        key = f"portal:page:{generation()}:{get_language()}:{request.get_full_path()}"
        hit = cache.get(key)
        if hit is not None:
            status, content_type, body = hit
            response = HttpResponse(body, status=status, content_type=content_type)
            response["X-Portal-Cache"] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if response.status_code in (200, 404) and not response.cookies:
            if hasattr(response, "render") and callable(response.render):
                response.render()
            cache.set(
                key, (response.status_code, response["Content-Type"], response.content), timeout
            )
        response["X-Portal-Cache"] = "miss"
        return response

    return wrapper
