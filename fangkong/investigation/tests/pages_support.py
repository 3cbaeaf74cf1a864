"""Helpers of the investigation page tests (not a test module)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.test import Client
from django.utils import timezone

from fangkong.conftest import client_for


def en_client(user: Any) -> Client:
    """A signed-in client reading the pages in English."""
    c = client_for(user)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return c


def local(days_back: int, hour: int, minute: int = 0) -> dt.datetime:
    """An aware local time ``days_back`` days ago at ``hour:minute``."""
    day = timezone.localdate() - dt.timedelta(days=days_back)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def form_time(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}
