"""The hot read path of ``GET /api/v1/status/check``: rate limit + cached status.

With Redis (production) both take one round trip: one small Lua script does
``SET NX EX`` and ``INCR`` on the per-address counter and ``GET`` of the status entry, on a client
kept per process (building a Redis client per cache call costs more than the
call). Entries are the ones ``django.core.cache`` writes (same key function, same
pickle serialisation), so writes and invalidations stay with the Django cache.
Any other cache backend takes the generic path.
"""

from __future__ import annotations

import pickle  # noqa: S403 - our own cache entries
import threading
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache

from fangkong.status.services.reasons import cache_key

_lock = threading.Lock()
_client: dict[str, Any] = {}


def _redis() -> Any | None:
    conf = settings.CACHES.get("default", {})
    if not str(conf.get("BACKEND", "")).endswith("RedisCache"):
        return None
    client = _client.get("c")
    if client is None:
        import redis

        with _lock:
            client = _client.get("c")
            if client is None:
                location = conf["LOCATION"]
                url = location[0] if isinstance(location, list | tuple) else location
                client = redis.Redis.from_url(url)
                _client["c"] = client
    return client


# One command instead of a pipeline of three: count this address's check (the
# counter lives 70 s, one per minute) and read the status entry.
_LUA = """
redis.call('SET', KEYS[1], 0, 'EX', 70, 'NX')
return {redis.call('INCR', KEYS[1]), redis.call('GET', KEYS[2])}
"""


def _script_sha(client: Any) -> str:
    sha = _client.get("sha")
    if sha is None:
        sha = client.script_load(_LUA)
        _client["sha"] = sha
    return str(sha)


def lookup(client_address: str | None, person_id: int) -> tuple[int, Any]:
    """``(checks from this address this minute, cached entry or None)``."""
    minute = int(time.time() // 60)
    rl_key = cache.make_key(f"st:rl:{client_address}:{minute}")
    st_key = cache.make_key(cache_key(person_id))
    client = _redis()
    if client is not None:
        from redis.exceptions import NoScriptError

        try:
            count, raw = client.evalsha(_script_sha(client), 2, rl_key, st_key)
        except NoScriptError:  # Redis restarted: load the script again
            _client.pop("sha", None)
            count, raw = client.evalsha(_script_sha(client), 2, rl_key, st_key)
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
