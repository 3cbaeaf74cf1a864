"""Every module's pages as the demo logins see them, in Chinese and English (issue 18).

The demo (a small city, every app's outbreak seed) is built once in the test
database and served by the live server; each module is walked signing in once per
screen (``fangkong/<app>/screens.py``) and opens a handful of its pages
with the checker of ``make screenshots`` (core.pagecheck): no console error, no
failed request, no internal code or login name in the visible text, every map
drawn over its base layer.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from fangkong.conftest import PASSWORD, load_shipped_defaults
from fangkong.core import pagecheck

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not pagecheck.CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]

RESIDENTS = 600
PAGES_PER_SCREEN = 4
MODULES = [
    "core",
    "investigation",
    "zones",
    "screening",
    "status",
    "quarantine",
    "portal",
    "headquarters",
]


def demo_build() -> tuple[list[pagecheck.Screen], list[str]]:
    """The demo (small city, every app's seed, the demo logins) in the test database."""
    from django.contrib.auth import get_user_model

    from fangkong.core.demo import DEMO_SEED
    from fangkong.core.management.commands.demo import demo_logins_ensure, demo_modules_seed
    from fangkong.core.synth import synthetic_city_build

    load_shipped_defaults()
    synthetic_city_build(residents=RESIDENTS, seed=DEMO_SEED)
    demo_logins_ensure(PASSWORD)
    demo_modules_seed()
    usernames = list(get_user_model().objects.values_list("username", flat=True))
    return pagecheck.screen_modules(), usernames


def test_every_module_reads_as_words_in_both_languages(live_server: Any, monkeypatch: Any) -> None:
    """One demo for every module (built once: it takes most of the time); each module's
    screens are walked with their own sign-in and the findings name module and page."""
    screens, usernames = demo_build()
    assert set(MODULES) | {"public"} <= {s.module for s in screens}
    # Playwright's sync API runs an event loop in this thread; Django then refuses
    # ORM calls here unless told otherwise (the walk makes none).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    short = [replace(s, paths=list(s.paths)[:PAGES_PER_SCREEN]) for s in screens]
    findings = pagecheck.walk(
        live_server.url, short, PASSWORD, usernames=usernames, timeout_ms=30_000
    )
    walked = {f.module for f in findings}
    assert set(MODULES) | {"public"} <= walked
    assert len(findings) == sum(len(s.paths) for s in short) * len(pagecheck.LANGUAGES)
    assert pagecheck.report(findings) == ""
