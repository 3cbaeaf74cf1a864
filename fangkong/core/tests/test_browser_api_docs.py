"""The API documentation renders its operations offline (Swagger UI from our static
files, no CDN), with nothing failing and no policy violation."""

from typing import Any

import pytest

from fangkong.conftest import BROWSER_TEST, chromium_page, watch_page

pytestmark = BROWSER_TEST


@pytest.fixture
def browser_page(monkeypatch: Any) -> Any:
    yield from chromium_page(monkeypatch, width=1280, height=900)


def test_the_api_docs_render_every_operation_from_our_own_files(
    live_server: Any, browser_page: Any
) -> None:
    page = browser_page
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    problems = watch_page(page)
    page.goto(f"{live_server.url}/api/docs")
    from fangkong.api import api

    expected = sum(len(ops) for ops in api.get_openapi_schema(path_params={})["paths"].values())
    page.wait_for_selector(".opblock", timeout=20_000)
    seen: set[str] = set()  # Swagger UI draws the operations near the viewport only
    height = page.evaluate("document.body.scrollHeight")
    for y in range(0, height + 900, 600):
        page.evaluate(f"window.scrollTo(0, {y})")
        page.wait_for_timeout(100)
        seen.update(page.evaluate("[...document.querySelectorAll('.opblock')].map(e => e.id)"))
    assert len(seen) == expected
    assert expected > 50
    assert not outside, outside
    assert not problems, problems
