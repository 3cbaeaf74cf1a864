"""Redis as a cache that the system can lose (issue 22).

``ResilientRedisCache`` is Django's Redis cache that keeps answering when Redis
cannot be reached: reads miss (the callers read the database, slower), counters
(``add``/``incr``: rate limits) count in this process's memory, other writes are
dropped and their keys remembered. Each fallback is counted (``fallbacks()``) and
the outage is logged once, not once a request. After a failure Redis is not tried
again for ``RETRY_SECONDS`` (a request does not wait for a dead server each time);
the first request after that which reaches it ends the outage: the keys written or
deleted meanwhile are deleted in Redis (so no entry invalidated during the outage
is served stale) and the local counters are dropped.

The remembered keys live in the process: a process that dies during an outage
forgets its own, and entries then end with their timeout (status entries: at most
``status.services.reasons.CACHE_SECONDS``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

log = logging.getLogger(__name__)

T = TypeVar("T")
RETRY_SECONDS = 5.0
MAX_REMEMBERED = 100_000

_state_lock = threading.Lock()
_state: dict[str, Any] = {"down_since": None, "retry_at": 0.0, "fallbacks": 0, "dirty": set()}


def _errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (RedisConnectionError, RedisTimeoutError, OSError)


def fallbacks() -> int:
    """How many cache operations this process answered without Redis (the metric)."""
    return int(_state["fallbacks"])


def redis_down() -> bool:
    """Whether Redis is taken as unreachable now (inside the retry pause)."""
    return _state["down_since"] is not None and time.monotonic() < _state["retry_at"]


def note_failure(exc: BaseException | None = None) -> None:
    """Redis failed: count a fallback, pause before the next try, log the outage once."""
    with _state_lock:
        _state["fallbacks"] += 1
        _state["retry_at"] = time.monotonic() + RETRY_SECONDS
        first = _state["down_since"] is None
        if first:
            _state["down_since"] = time.time()
    if first:
        log.error(
            "Redis cannot be reached (%s); answering from the database until it returns.",
            exc.__class__.__name__ if exc is not None else "paused",
        )


def note_fallback() -> None:
    with _state_lock:
        _state["fallbacks"] += 1


def reset() -> None:
    """Forget any outage (tests)."""
    with _state_lock:
        _state.update(down_since=None, retry_at=0.0, fallbacks=0, dirty=set())


class ResilientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._local = LocMemCache(f"fangkong-redis-fallback-{id(self)}", {"MAX_ENTRIES": 100_000})

    # --- the guard ------------------------------------------------------------------

    def _try(self, operation: Callable[[], T], fallback: Callable[[], T], keys: Iterable[Any]) -> T:
        if _state["down_since"] is not None and (redis_down() or not self._recovered()):
            note_fallback()
            self._remember(keys)
            return fallback()
        try:
            return operation()
        except _errors() as exc:
            note_failure(exc)
            self._remember(keys)
            return fallback()

    def _remember(self, keys: Iterable[Any]) -> None:
        dirty: set[Any] = _state["dirty"]
        with _state_lock:
            for key in keys:
                if len(dirty) < MAX_REMEMBERED:
                    dirty.add(key)

    def _recovered(self) -> bool:
        """After the pause: Redis answers again? Then first delete the keys written
        during the outage (none is served stale), and the outage ends."""
        dirty: set[Any] = _state["dirty"]
        keys = list(dirty)
        try:
            if keys:
                self._cache.delete_many(keys)  # the keys as stored (made)
            else:
                self._cache.get_client(None, write=True).ping()
        except _errors() as exc:
            note_failure(exc)
            return False
        with _state_lock:
            since = _state["down_since"]
            dirty.difference_update(keys)
            _state.update(down_since=None, retry_at=0.0)
        self._local.clear()
        if since is not None:
            log.warning(
                "Redis is back after %.0f s; %d keys written during the outage were cleared.",
                time.time() - since,
                len(keys),
            )
        return True

    # --- reads miss, counters count locally, writes are remembered ----------------------

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._try(
            lambda: super(ResilientRedisCache, self).get(key, default, version),
            lambda: self._local.get(key, default, version),
            (),
        )

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        return self._try(
            lambda: super(ResilientRedisCache, self).get_many(keys, version),
            lambda: self._local.get_many(keys, version),
            (),
        )

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._try(
            lambda: super(ResilientRedisCache, self).has_key(key, version),
            lambda: self._local.has_key(key, version),
            (),
        )

    def add(self, key: Any, value: Any, timeout: Any = 300, version: int | None = None) -> bool:
        return self._try(
            lambda: super(ResilientRedisCache, self).add(key, value, timeout, version),
            lambda: self._local.add(key, value, timeout, version),
            (self.make_key(key, version),),
        )

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return self._try(
            lambda: super(ResilientRedisCache, self).incr(key, delta, version),
            lambda: self._local.incr(key, delta, version),
            (self.make_key(key, version),),
        )

    def set(self, key: Any, value: Any, timeout: Any = 300, version: int | None = None) -> None:
        self._try(
            lambda: super(ResilientRedisCache, self).set(key, value, timeout, version),
            lambda: self._local.delete(key, version),  # never serve a value set meanwhile
            (self.make_key(key, version),),
        )

    def set_many(self, data: Any, timeout: Any = 300, version: int | None = None) -> list[Any]:
        return self._try(
            lambda: super(ResilientRedisCache, self).set_many(data, timeout, version),
            lambda: [],
            [self.make_key(k, version) for k in data],
        )

    def touch(self, key: Any, timeout: Any = 300, version: int | None = None) -> bool:
        return self._try(
            lambda: super(ResilientRedisCache, self).touch(key, timeout, version),
            lambda: False,
            (),
        )

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._try(
            lambda: super(ResilientRedisCache, self).delete(key, version),
            lambda: self._local.delete(key, version),
            (self.make_key(key, version),),
        )

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        keys = list(keys)
        self._try(
            lambda: super(ResilientRedisCache, self).delete_many(keys, version),
            lambda: self._local.delete_many(keys, version),
            [self.make_key(k, version) for k in keys],
        )
