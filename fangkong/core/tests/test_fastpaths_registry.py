"""Apps register their fast paths with core; core names none of them."""

from __future__ import annotations

from typing import Any

from fangkong.core import fastpaths


def test_the_apps_register_their_fast_paths_outermost_first() -> None:
    assert fastpaths.registered() == [
        "status.check",
        "investigation.checkin",
        "screening.scan",
    ]


def test_wrap_puts_the_lowest_order_outermost(monkeypatch: Any) -> None:
    monkeypatch.setattr(fastpaths, "_REGISTERED", [])
    seen: list[str] = []

    def layer(name: str) -> Any:
        def factory(app: Any) -> Any:
            def wrapped(environ: Any, start_response: Any) -> Any:
                seen.append(name)
                return app(environ, start_response)

            return wrapped

        return factory

    fastpaths.register("inner", layer("inner"), order=20)
    fastpaths.register("outer", layer("outer"), order=10)
    fastpaths.register("inner", layer("inner"), order=30)  # again: replaced, not doubled

    def django(environ: Any, start_response: Any) -> list[bytes]:
        seen.append("django")
        return [b""]

    fastpaths.wrap(django)({}, lambda status, headers: None)
    assert seen == ["outer", "inner", "django"]


def test_fast_paths_off(monkeypatch: Any) -> None:
    monkeypatch.setenv("FANGKONG_FASTPATHS", "0")

    def django(environ: Any, start_response: Any) -> list[bytes]:
        return [b""]

    assert fastpaths.wrap(django) is django
