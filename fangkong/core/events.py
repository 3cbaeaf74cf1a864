"""Domain facts published by one app and acted on by others, in the same transaction.

An app that owns a fact (a case confirmed, a zone lifted, a tube positive) calls
``publish("case.confirmed", ...)`` inside its service transaction; apps that react
(status, notify) register handlers in their ``AppConfig.ready`` with
``subscribe``. Handlers run synchronously, in registration order, inside the
publisher's transaction: if one raises, the whole write is rolled back, so a fact
never exists without its consequences. New reason sources plug in by publishing
new fact names; nothing in the publisher knows who listens.

Fact names and their keyword payloads are documented in ``docs/events.md``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Handler = Callable[..., None]

_handlers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(name: str, handler: Handler) -> None:
    """Register ``handler(**payload)`` for the fact ``name`` (idempotent)."""
    if handler not in _handlers[name]:
        _handlers[name].append(handler)


def unsubscribe(name: str, handler: Handler) -> None:
    if handler in _handlers.get(name, []):
        _handlers[name].remove(handler)


def publish(name: str, **payload: Any) -> None:
    """Run every handler of ``name`` with the payload (keyword arguments only)."""
    for handler in list(_handlers.get(name, ())):
        handler(**payload)


def subscribers(name: str) -> list[Handler]:
    return list(_handlers.get(name, ()))
