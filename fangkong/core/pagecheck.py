"""What a person must never meet on a page, and a browser walk that looks (issue 18).

One checker for the test suite (``fangkong/conftest.py`` re-exports ``watch_page``
and ``raw_codes``) and for ``fangkong screenshots``: console errors (a
Content-Security-Policy violation is one), script errors, failed requests and
answers of 400 or more; internal codes in the visible text (dotted codes, tree
paths, ISO times, snake_case keys, user names); a map without its base layer.

Each app may list the pages a person of each role opens in ``fangkong/<app>/screens.py``:
``def screens() -> list[Screen]`` (paths looked up in the database it runs on, the
demo's). ``walk`` opens them in Debian's Chromium (Playwright), one signed-in session
per screen, in every language, and returns what it found; with ``out`` it writes a
PNG of each page.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LANGUAGES = ("zh-hans", "en")
LANGUAGE_COOKIE = "django_language"

# Internal codes a person must never read: dotted codes (``x.y_z``,
# ``portal.article.publish``), tree paths (``#1-0000…``), ISO timestamps, snake_case.
APP_PREFIXES = (
    "core|investigation|status|screening|zones|portal|notify|entry|quarantine|supplies|"
    "headquarters|match|case|contact|zone|service_request|followup|cluster|api_token"
)
RAW_CODE_PATTERNS = [
    re.compile(r"\b[a-z]+\.[a-z]+_[a-z0-9_]+\b"),
    re.compile(rf"\b(?:{APP_PREFIXES})\.[a-z_]+(?:\.[a-z_]+)*\b"),
    re.compile(r"#\d+-0{6,}"),
    re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"),
    re.compile(r"(?<![\w/.@-])[a-z]+(?:_[a-z0-9]+)+(?![\w/.@-])"),
    # A login name of the demo's kind (zones-demo-officer) where a person's name belongs.
    re.compile(r"(?<![\w/.@-])[a-z]+-demo-[a-z-]+\b"),
]


def raw_codes(text: str, usernames: Iterable[str] = ()) -> list[str]:
    """The internal codes found in a page's visible text (empty when it reads as
    words), and any of ``usernames`` (with a hyphen, underscore or digit) on its own."""
    found: list[str] = []
    for pattern in RAW_CODE_PATTERNS:
        found.extend(m.group(0) for m in pattern.finditer(text))
    for name in usernames:
        # Only names no sentence contains (a login like "auditor" is also a word).
        if re.search(r"[-_\d]", name) and re.search(
            rf"(?<![\w/.@-]){re.escape(name)}(?![\w/.@-])", text
        ):
            found.append(name)
    return sorted(set(found), key=found.index)


def watch_page(page: Any, *, expected_statuses: Iterable[int] = ()) -> list[str]:
    """Start collecting what goes wrong on a Playwright page: console errors (a
    Content-Security-Policy violation is one), uncaught script errors, failed
    requests and answers of 400 or more. Returns the (live) list of problems.

    ``expected_statuses``: answers the walk provokes on purpose (a form sent back
    with its errors answers 422), not counted, nor Chromium's console line for them."""
    problems: list[str] = []
    expected = set(expected_statuses)
    loud = [f"status of {code}" for code in expected]

    def console(m: Any) -> None:
        if m.type == "error" and not any(text in m.text for text in loud):
            problems.append(f"console {m.type}: {m.text}")

    page.on("console", console)
    page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    # A request the browser itself cancelled because its page was left (the walk
    # clicked on before a stylesheet had arrived) fails with ERR_ABORTED: that is
    # the walk's pace, not a fault of the page. Any other failure, and an abort
    # while the page it belongs to is still shown, is a problem.
    navigations = [0]
    issued: dict[Any, int] = {}

    def navigated(frame: Any) -> None:
        if frame == page.main_frame:
            navigations[0] += 1

    def failed(request: Any) -> None:
        left = navigations[0] > issued.pop(request, navigations[0])
        if request.failure == "net::ERR_ABORTED" and left:
            return
        problems.append(f"request failed: {request.url} {request.failure}")

    page.on("framenavigated", navigated)

    def started(request: Any) -> None:
        if request.is_navigation_request() and request.frame == page.main_frame:
            navigations[0] += 1
        issued[request] = navigations[0]

    page.on("request", started)
    page.on("requestfinished", lambda r: issued.pop(r, None))
    page.on("requestfailed", failed)
    page.on(
        "response",
        lambda r: (
            problems.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 and r.status not in expected
            else None
        ),
    )
    return problems


_MAPS_STATE = """() => Array.from(document.querySelectorAll('[data-base-url]')).map(el => ({
  id: el.id || el.className,
  ready: el.getAttribute('data-ready') === '1',
  areas: Number(el.getAttribute('data-base-areas') || 0),
  canvas: el.querySelector('canvas') !== null,
}))"""
_MAPS_READY = """() => Array.from(document.querySelectorAll('[data-base-url]'))
  .every(el => el.getAttribute('data-ready') === '1')"""


def map_problems(page: Any, timeout_ms: int = 10_000) -> list[str]:
    """Every map on the page (an element with ``data-base-url``, fangkong/maps.js)
    drawn on a canvas with the districts and streets of its base layer."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(_MAPS_READY, timeout=timeout_ms)
    except PlaywrightTimeout:
        pass  # noqa: S110 - a map that never drew is reported below, by name
    problems = []
    for state in page.evaluate(_MAPS_STATE):
        if not (state["ready"] and state["canvas"] and state["areas"] > 0):
            problems.append(
                f"map {state['id']} without its base layer "
                f"(drawn={state['ready']}, canvas={state['canvas']}, areas={state['areas']})"
            )
    return problems


# The page's visible text without what is meant to be typed as shown (``<code>``,
# ``<kbd>``, ``<samp>``: a file's column names, a command).
_VISIBLE_TEXT = """() => {
  let text = document.body.innerText;
  document.body.querySelectorAll('code, kbd, samp').forEach(el => {
    const part = el.innerText;
    if (part) { text = text.replace(part, ' '); }
  });
  return text;
}"""


def visible_text(page: Any) -> str:
    """What a person reads on the page (what ``<code>`` shows verbatim left out)."""
    return str(page.evaluate(_VISIBLE_TEXT))


def page_problems(page: Any, usernames: Iterable[str] = ()) -> list[str]:
    """What is wrong in what the page shows now: raw codes and maps without a base."""
    problems = [
        f"raw code in the text: {code!r}" for code in raw_codes(visible_text(page), usernames)
    ]
    return problems + map_problems(page)


@dataclass(frozen=True)
class Screen:
    """Pages of one module as one demo login sees them (``login`` None: the public)."""

    module: str
    login: str | None
    paths: Sequence[str]


@dataclass
class Finding:
    module: str
    login: str | None
    language: str
    path: str
    problems: list[str] = field(default_factory=list)
    screenshot: Path | None = None


def screen_modules() -> list[Screen]:
    """Every app's screens (``fangkong/<app>/screens.py: screens()``), in app order."""
    from django.apps import apps

    found: list[Screen] = []
    for config in apps.get_app_configs():
        if not config.name.startswith("fangkong."):
            continue
        name = f"{config.name}.screens"
        if importlib.util.find_spec(name) is None:
            continue
        found.extend(importlib.import_module(name).screens())
    return found


def _slug(path: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")
    return slug or "home"


def _sign_in(page: Any, base_url: str, login: str, password: str) -> list[str]:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", login)
    page.fill("#id_password", password)
    page.locator("form[action='/login/'] button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    if "/login/" in page.url:
        return [f"could not sign in as {login}"]
    return []


def walk(
    base_url: str,
    screens: Sequence[Screen],
    password: str,
    *,
    languages: Sequence[str] = LANGUAGES,
    out: Path | None = None,
    usernames: Iterable[str] = (),
    width: int = 1280,
    height: int = 860,
    timeout_ms: int = 20_000,
) -> list[Finding]:
    """Open every screen's pages in each language; one signed-in session per screen.

    Runs Playwright's synchronous API (an event loop in this thread): look up
    whatever the pages need in the database before calling it."""
    from playwright.sync_api import sync_playwright

    names = list(usernames)
    findings: list[Finding] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            for screen in screens:
                context = browser.new_context(viewport={"width": width, "height": height})
                page = context.new_page()
                page.set_default_timeout(timeout_ms)
                problems = watch_page(page)
                if screen.login is not None:
                    failed = _sign_in(page, base_url, screen.login, password)
                    if failed:
                        findings.append(Finding(screen.module, screen.login, "", "/login/", failed))
                        context.close()
                        continue
                for language in languages:
                    context.add_cookies(
                        [{"name": LANGUAGE_COOKIE, "value": language, "url": base_url}]
                    )
                    for path in screen.paths:
                        del problems[:]
                        page.goto(f"{base_url}{path}", wait_until="networkidle")
                        found = Finding(screen.module, screen.login, language, path)
                        found.problems = list(problems) + page_problems(page, names)
                        if out is not None:
                            who = screen.login or "public"
                            target = out / screen.module / f"{who}-{_slug(path)}-{language}.png"
                            target.parent.mkdir(parents=True, exist_ok=True)
                            page.screenshot(path=str(target), full_page=True)
                            found.screenshot = target
                        findings.append(found)
                context.close()
        finally:
            browser.close()
    return findings


def report(findings: Sequence[Finding]) -> str:
    """The findings with problems, one block per page (empty when all is well)."""
    lines = []
    for f in findings:
        if not f.problems:
            continue
        who = f.login or "public"
        lines.append(f"{f.module} as {who} [{f.language}] {f.path}:")
        lines.extend(f"    {p}" for p in f.problems)
    return "\n".join(lines)
