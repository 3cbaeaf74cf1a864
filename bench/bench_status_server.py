"""The WSGI application of the status benchmark: the project's own application
and URLs, plus one bare Django view returning a constant JSON (the framework
floor), served by the same gunicorn workers through the same middleware.

Importing this module changes nothing global: its requests carry their own
URLconf (``request.urlconf``), the project's settings stay as they are.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")

_BODY = b'{"level": "green", "colour": "#16a34a", "valid_until": null}'


def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_BODY, content_type="application/json")


class _Request(WSGIRequest):
    def __init__(self, environ: Any) -> None:
        super().__init__(environ)
        self.urlconf = __name__


class _Handler(WSGIHandler):
    request_class = _Request


def _application() -> WSGIHandler:
    import django

    django.setup(set_prefix=False)
    from fangkong.core.fastpaths import wrap

    return wrap(_Handler())  # type: ignore[return-value]


application = _application()
urlpatterns = [path("bench/floor", floor), path("", include(settings.ROOT_URLCONF))]
