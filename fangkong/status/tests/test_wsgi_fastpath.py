"""The status check answered in front of Django (``status.wsgi``): the same answer as
Django's, and everything unusual handed to Django unchanged."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
from django.core.cache import cache
from django.test import override_settings

from fangkong.conftest import make_person, make_staff
from fangkong.core.services import api_token_create
from fangkong.core.tests.wsgi_support import SECURITY_HEADERS, Recorder, wsgi_call
from fangkong.status import fastpath
from fangkong.status.models import StatusPolicy
from fangkong.status.services import reasons_grant
from fangkong.status.services.reasons import cache_key
from fangkong.status.tokens import status_token
from fangkong.status.wsgi import CHECK_PATH, StatusCheckFastPath


def call(app: Any, query: str, **extra: Any) -> tuple[int, dict[str, str], Any]:
    return wsgi_call(app, "GET", CHECK_PATH, query=query, **extra)


@pytest.fixture
def person(city: Any) -> Any:
    return make_person(city.xd_building, name="王小明")


@pytest.fixture
def app() -> Recorder:
    return Recorder()


def warm(app: Recorder, token: str) -> None:
    """One check through Django fills the cache entry (as the first check of a day does)."""
    call(app, f"token={token}", REMOTE_ADDR="10.9.9.9")
    app.calls = 0


@pytest.mark.parametrize("language", ["en", "zh-CN,zh;q=0.9"])
def test_cached_check_is_answered_without_django_and_alike(
    app: Recorder, person: Any, language: str
) -> None:
    reasons_grant(kind="sealed_zone", person_ids=[person.pk], source_type="zones.zone", source_id=1)
    token = status_token(person.pk)
    warm(app, token)
    fast = StatusCheckFastPath(app)
    status, headers, body = call(fast, f"token={token}", HTTP_ACCEPT_LANGUAGE=language)
    assert app.calls == 0  # Django never saw it
    d_status, d_headers, d_body = call(app, f"token={token}", HTTP_ACCEPT_LANGUAGE=language)
    assert app.calls == 1
    assert (status, body) == (d_status, d_body)
    assert body["level"] == "red"
    assert "masked_name" not in body
    for name in (*SECURITY_HEADERS, "Cache-Control"):
        assert headers.get(name) == d_headers.get(name), name
    assert "Accept-Language" in headers["Vary"]
    assert headers["X-Request-ID"]


def test_english_and_chinese_emergency_lines(app: Recorder, person: Any) -> None:
    token = status_token(person.pk)
    warm(app, token)
    fast = StatusCheckFastPath(app)
    _s, h_en, en = call(fast, f"token={token}", HTTP_ACCEPT_LANGUAGE="en")
    _s, h_zh, zh = call(fast, f"token={token}", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert app.calls == 0
    assert "emergenc" in en["emergency"].lower() and h_en["Content-Language"] == "en"
    assert "急" in zh["emergency"] and h_zh["Content-Language"] == "zh-hans"


def test_status_change_is_seen_at_once(app: Recorder, person: Any) -> None:
    token = status_token(person.pk)
    warm(app, token)
    fast = StatusCheckFastPath(app)
    assert call(fast, f"token={token}")[2]["level"] == "green"
    reasons_grant(kind="sealed_zone", person_ids=[person.pk], source_type="zones.zone", source_id=1)
    assert call(fast, f"token={token}")[2]["level"] == "red"


def test_cache_miss_and_stale_entry_go_to_the_database(app: Recorder, person: Any) -> None:
    token = status_token(person.pk)
    fast = StatusCheckFastPath(app)
    cache.delete(cache_key(person.pk))
    status, _h, body = call(fast, f"token={token}")
    assert (status, body["level"], app.calls) == (200, "green", 1)
    cache.set(cache_key(person.pk), ("red", time.time() - 5), 60)  # expired red
    status, _h, body = call(fast, f"token={token}")
    assert (status, body["level"], app.calls) == (200, "green", 2)


def test_scanner_credentials_are_djangos(city: Any, app: Recorder, person: Any) -> None:
    scanner = make_staff("scanner", city.xiaodian, "checkpoint_officer")
    _row, secret = api_token_create(actor=scanner, name="gate 3")
    token = status_token(person.pk)
    warm(app, token)
    fast = StatusCheckFastPath(app)
    status, _h, body = call(fast, f"token={token}", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert app.calls == 1
    assert (status, body["masked_name"]) == (200, "王*明")
    call(fast, f"token={token}", HTTP_COOKIE="sessionid=abc")
    assert app.calls == 2


@pytest.mark.parametrize("bad", ["", "token=nonsense", "token=s.1.abc.def"])
def test_bad_tokens_get_djangos_explained_refusal(db: Any, app: Recorder, bad: str) -> None:
    status, _h, body = call(StatusCheckFastPath(app), bad, HTTP_ACCEPT_LANGUAGE="en")
    assert status == 400 and body["error"]["fields"]["token"]
    assert app.calls == 1


def test_unknown_host_is_refused_by_django(app: Recorder, person: Any) -> None:
    token = status_token(person.pk)
    warm(app, token)
    status, _h, _b = call(StatusCheckFastPath(app), f"token={token}", HTTP_HOST="evil.example")
    assert status == 400 and app.calls == 1


def test_rate_limit_counts_each_check_once(app: Recorder, person: Any) -> None:
    policy = StatusPolicy.objects.order_by("pk").first() or StatusPolicy.objects.create()
    StatusPolicy.objects.filter(pk=policy.pk).update(check_rate_per_minute=6)
    from fangkong.status import rules

    rules.clear_cache()
    token = status_token(person.pk)
    fast = StatusCheckFastPath(app)
    cache.delete(cache_key(person.pk))
    # Misses go through Django, hits do not: both count once.
    got = [call(fast, f"token={token}", REMOTE_ADDR="10.7.7.7")[0] for _i in range(8)]
    assert got == [200] * 6 + [429] * 2
    assert call(fast, f"token={token}", REMOTE_ADDR="10.7.7.8")[0] == 200  # another address


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.3) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/15",
        "KEY_PREFIX": "fk-test-fastpath",
    }
}


@pytest.mark.skipif(not _redis_up(), reason="needs Redis at 127.0.0.1:6379")
@override_settings(CACHES=REDIS)
def test_with_redis_one_round_trip_counts_and_reads(app: Recorder, person: Any) -> None:
    from django.core.cache import caches

    caches["default"].clear()
    try:
        reasons_grant(
            kind="sealed_zone", person_ids=[person.pk], source_type="zones.zone", source_id=1
        )
        token = status_token(person.pk)
        warm(app, token)
        fast = StatusCheckFastPath(app)
        status, _h, body = call(fast, f"token={token}", REMOTE_ADDR="10.5.5.5")
        assert (status, body["level"], app.calls) == (200, "red", 0)
        count, entry = fastpath.lookup("10.5.5.5", person.pk)
        assert count == 2 and entry[0] == "red"
        # A Redis restart loses the script: loaded again, no error.
        import redis as redis_lib

        redis_lib.Redis.from_url(REDIS["default"]["LOCATION"]).script_flush()
        count, entry = fastpath.lookup("10.5.5.5", person.pk)
        assert count == 3 and entry[0] == "red"
    finally:
        caches["default"].clear()
