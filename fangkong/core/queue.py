"""The job queue on Redis, for a worker that outlives Redis outages (issue 22).

Huey's consumer logs a traceback for each failed read of the queue and the
schedule: with Redis down a worker wrote hundreds of lines a second. Here the
worker's reads back off (1 s doubling to ``MAX_PAUSE_SECONDS``), the outage is
logged once when it starts and once when it ends, and nothing is lost: a job
waits in Redis until the worker can read it. Enqueueing from a web request still
fails loudly (the caller must know its job was not queued).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from huey import RedisHuey
from huey.storage import RedisStorage

log = logging.getLogger(__name__)

MAX_PAUSE_SECONDS = 30.0


def _errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (RedisConnectionError, RedisTimeoutError, OSError)


class ResilientRedisStorage(RedisStorage):
    sleep = staticmethod(time.sleep)  # replaced in tests

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._outage_lock = threading.Lock()
        self._down_since: float | None = None
        self._pause = 0.0

    def _failed(self, exc: BaseException) -> None:
        with self._outage_lock:
            first = self._down_since is None
            if first:
                self._down_since = time.time()
                self._pause = 1.0
            else:
                self._pause = min(self._pause * 2, MAX_PAUSE_SECONDS)
            pause = self._pause
        if first:
            log.error(
                "The job queue (Redis) cannot be reached (%s: %s); retrying, at most every "
                "%.0f s, without logging each try.",
                exc.__class__.__name__,
                exc,
                MAX_PAUSE_SECONDS,
            )
        self.sleep(pause)

    def _succeeded(self) -> None:
        if self._down_since is None:
            return
        with self._outage_lock:
            since, self._down_since, self._pause = self._down_since, None, 0.0
        if since is not None:
            log.warning("The job queue (Redis) is back after %.0f s.", time.time() - since)

    def dequeue(self) -> Any:
        try:
            data = super().dequeue()
        except _errors() as exc:
            self._failed(exc)
            return None
        self._succeeded()
        return data

    def read_schedule(self, ts: Any) -> list[Any]:
        try:
            items: list[Any] = super().read_schedule(ts)
        except _errors() as exc:
            self._failed(exc)
            return []
        self._succeeded()
        return items


class ResilientRedisHuey(RedisHuey):
    storage_class = ResilientRedisStorage
