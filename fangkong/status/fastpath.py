"""The hot read path of ``GET /api/v1/status/check``: rate limit + cached status.

With Redis (production) both take one round trip: one small Lua script does
``SET NX EX`` and ``INCR`` on the per-address counter and ``GET`` of the status
entry. Entries are the ones ``django.core.cache`` writes (same key function, same
pickle serialisation), so writes and invalidations stay with the Django cache.

The round trip goes over one plain socket per thread speaking RESP, parsed by
hiredis: the general client costs more CPU than the rest of the check together.
Anything unusual (TLS, no hiredis, a socket error) takes the redis-py client, and
any other cache backend takes the generic path through ``django.core.cache``.
"""

from __future__ import annotations

import hashlib
import pickle  # noqa: S403 - our own cache entries
import socket
import threading
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache

from fangkong.core import cache as resilience
from fangkong.status.services.reasons import cache_key

_lock = threading.Lock()
_client: dict[str, Any] = {}
_local = threading.local()

# One command instead of a pipeline of three: count this address's check (the
# counter lives 70 s, one per minute) and read the status entry.
_LUA = """
redis.call('SET', KEYS[1], 0, 'EX', 70, 'NX')
return {redis.call('INCR', KEYS[1]), redis.call('GET', KEYS[2])}
"""
_SHA = hashlib.sha1(_LUA.encode()).hexdigest()  # noqa: S324 - the name Redis gives it
# How long a check waits for Redis before Django's path answers instead.
REDIS_TIMEOUT_SECONDS = 1.0


def _redis_url() -> str | None:
    conf = settings.CACHES.get("default", {})
    if not str(conf.get("BACKEND", "")).endswith("RedisCache"):
        return None
    location = conf["LOCATION"]
    return str(location[0] if isinstance(location, list | tuple) else location)


def _redis() -> Any | None:
    url = _redis_url()
    if url is None:
        return None
    client = _client.get("c")
    if client is None:
        import redis

        with _lock:
            client = _client.get("c")
            if client is None:
                client = redis.Redis.from_url(url)
                _client["c"] = client
    return client


def _pack(*args: bytes) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


class _Conn:
    """One thread's socket to Redis (plain ``redis://`` URLs only)."""

    def __init__(self, url: str) -> None:
        import hiredis
        from redis.connection import parse_url

        opts = parse_url(url)  # type: ignore[no-untyped-call]  # (redis-py has no types here)
        self.sock = socket.create_connection(
            (opts.get("host", "127.0.0.1"), int(opts.get("port", 6379))),
            timeout=REDIS_TIMEOUT_SECONDS,
        )
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = hiredis.Reader()
        if opts.get("password"):
            user = opts.get("username")
            auth = (
                (user.encode(), opts["password"].encode()) if user else (opts["password"].encode(),)
            )
            self._checked(self.call(b"AUTH", *auth))
        if opts.get("db"):
            self._checked(self.call(b"SELECT", str(opts["db"]).encode()))

    @staticmethod
    def _checked(reply: Any) -> Any:
        if isinstance(reply, Exception):
            raise reply
        return reply

    def call(self, *args: bytes) -> Any:
        self.sock.sendall(_pack(*args))
        while True:
            reply = self.reader.gets()
            if reply is not False:
                return reply
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("Redis closed the connection")
            self.reader.feed(data)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def _raw(url: str, rl_key: str, st_key: str) -> tuple[int, Any] | None:
    """The script over this thread's socket; ``None`` when that cannot be done."""
    if not url.startswith("redis://"):
        return None
    conn: _Conn | None = getattr(_local, "conn", None)
    try:
        if conn is None:
            conn = _Conn(url)
            _local.conn = conn
        keys = (b"2", rl_key.encode(), st_key.encode())
        reply = conn.call(b"EVALSHA", _SHA.encode(), *keys)
        if isinstance(reply, Exception) and "NOSCRIPT" in str(reply):  # Redis restarted
            reply = conn.call(b"EVAL", _LUA.encode(), *keys)
        count, raw = conn._checked(reply)
        return int(count), raw
    except Exception:  # noqa: BLE001 - any trouble: the general client answers
        if conn is not None:
            conn.close()
        _local.conn = None
        return None


def lookup(
    client_address: str | None, person_id: int, *, counted: int | None = None
) -> tuple[int, Any]:
    """``(checks from this address this minute, cached entry or None)``.

    ``counted``: this check was counted already (by the WSGI fast path); only read.
    """
    if counted is not None:
        return counted, cache.get(cache_key(person_id))
    minute = int(time.time() // 60)
    url = _redis_url()
    if url is not None and not resilience.redis_down():
        rl_key = cache.make_key(f"st:rl:{client_address}:{minute}")
        st_key = cache.make_key(cache_key(person_id))
        got = _raw(url, rl_key, st_key)
        if got is None:
            from redis.exceptions import ConnectionError as RedisConnectionError
            from redis.exceptions import NoScriptError
            from redis.exceptions import TimeoutError as RedisTimeoutError

            client = _redis()
            assert client is not None
            try:
                try:
                    got = client.evalsha(_SHA, 2, rl_key, st_key)
                except NoScriptError:  # Redis restarted: the script travels once more
                    got = client.eval(_LUA, 2, rl_key, st_key)
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                # Redis is down: the cache's fallback counts, the database answers.
                resilience.note_failure(exc)
                got = None
        if got is not None:
            count, raw = got
            entry = pickle.loads(raw) if raw is not None else None  # noqa: S301
            return int(count), entry
    short_rl = f"st:rl:{client_address}:{minute}"
    if cache.add(short_rl, 1, 70):
        count = 1
    else:
        try:
            count = int(cache.incr(short_rl))
        except ValueError:
            count = 1
    return count, cache.get(cache_key(person_id))
