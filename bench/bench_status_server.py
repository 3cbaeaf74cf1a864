"""The WSGI application of the status benchmark: the project's own application
and URLs, plus one bare Django view returning a constant JSON (the framework
floor), served by the same gunicorn workers through the same middleware."""

from __future__ import annotations

import os

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from fangkong import envfile

envfile.load()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

_BODY = b'{"level": "green", "colour": "#16a34a", "valid_until": null}'


def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_BODY, content_type="application/json")


urlpatterns = [path("bench/floor", floor), path("", include(settings.ROOT_URLCONF))]
settings.ROOT_URLCONF = __name__
