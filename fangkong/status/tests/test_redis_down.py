"""Redis down (issue 22): with REDIS_URL on a closed port the public status check,
the portal home page and the staff status panel answer from the database (slower,
counted), and the cache recovers when Redis returns; the worker backs off and logs
once."""

from __future__ import annotations

import datetime as dt
import logging
import socket
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client, override_settings

from fangkong.conftest import client_for, make_person
from fangkong.core import cache as resilience
from fangkong.status import fastpath
from fangkong.status.services import reasons_grant
from fangkong.status.tokens import status_token
from fangkong.status.wsgi import CHECK_PATH, StatusCheckFastPath


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nobody listens once it is closed


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.3) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _caches(url: str) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "fangkong.core.cache.ResilientRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "fk-test-redis-down",
        }
    }


DOWN = _caches(f"redis://127.0.0.1:{_closed_port()}/2")
UP = _caches("redis://127.0.0.1:6379/2")


@pytest.fixture(autouse=True)
def _fresh() -> Any:
    resilience.reset()
    fastpath._client.clear()
    fastpath._local.conn = None
    yield
    resilience.reset()
    fastpath._client.clear()
    fastpath._local.conn = None


@pytest.fixture
def person(city: Any) -> Any:
    return make_person(city.xd_building, name="王小明")


@override_settings(CACHES=DOWN)
def test_the_public_check_answers_from_the_database_and_counts_it(person: Any) -> None:
    reasons_grant(kind="sealed_zone", person_ids=[person.pk], source_type="zones.zone", source_id=1)
    token = status_token(person.pk)
    r = Client().get("/api/v1/status/check", {"token": token})
    assert r.status_code == 200 and r.json()["level"] == "red"
    assert resilience.fallbacks() >= 1
    # The fast path hands it to Django, which answers too; the rate limit still counts.
    from fangkong.core.tests.wsgi_support import Recorder, wsgi_call

    status, _h, body = wsgi_call(
        StatusCheckFastPath(Recorder()), "GET", CHECK_PATH, query=f"token={token}"
    )
    assert (status, body["level"]) == (200, "red")


@override_settings(CACHES=DOWN)
def test_the_rate_limit_still_holds_without_redis(person: Any) -> None:
    from fangkong.status import rules
    from fangkong.status.models import StatusPolicy

    policy = StatusPolicy.objects.order_by("pk").first() or StatusPolicy.objects.create()
    StatusPolicy.objects.filter(pk=policy.pk).update(check_rate_per_minute=2)
    rules.clear_cache()
    token = status_token(person.pk)
    codes = [Client().get("/api/v1/status/check", {"token": token}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


@override_settings(CACHES=DOWN)
def test_the_staff_status_panel_answers_from_the_database(
    person: Any, xiaodian_officer: Any
) -> None:
    reasons_grant(kind="sealed_zone", person_ids=[person.pk], source_type="zones.zone", source_id=1)
    r = client_for(xiaodian_officer).get(f"/api/v1/status/people/{person.pk}")
    assert r.status_code == 200
    assert resilience.fallbacks() >= 1


@override_settings(CACHES=DOWN)
def test_the_portal_home_page_answers_without_redis(db: Any) -> None:
    r = Client().get("/")
    assert r.status_code == 200
    assert resilience.fallbacks() >= 1


@override_settings(CACHES=DOWN)
def test_an_outage_is_logged_once_not_once_a_request(
    person: Any, caplog: pytest.LogCaptureFixture
) -> None:
    token = status_token(person.pk)
    with caplog.at_level(logging.ERROR, logger="fangkong.core.cache"):
        for _ in range(20):
            assert Client().get("/api/v1/status/check", {"token": token}).status_code == 200
    assert len([r for r in caplog.records if r.name == "fangkong.core.cache"]) == 1
    assert resilience.fallbacks() >= 20


@pytest.mark.skipif(not _redis_up(), reason="needs Redis at 127.0.0.1:6379")
@override_settings(CACHES=UP)
def test_when_redis_returns_the_keys_written_meanwhile_are_cleared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    cache = caches["default"]
    cache.set("status-entry", "old red", 300)
    client = cache._cache  # type: ignore[attr-defined]

    def down(*args: Any, **kwargs: Any) -> Any:
        raise RedisConnectionError("Connection refused")

    real = {name: getattr(client, name) for name in ("get", "set", "delete")}
    for name in real:
        monkeypatch.setattr(client, name, down)
    # During the outage: reads miss, the invalidation is remembered.
    assert cache.get("status-entry") is None
    cache.delete("status-entry")
    assert resilience.redis_down()
    # Redis returns (and the pause is over): the first call clears the key.
    for name, fn in real.items():
        monkeypatch.setattr(client, name, fn)
    monkeypatch.setattr(resilience, "RETRY_SECONDS", 0.0)
    resilience._state["retry_at"] = 0.0
    assert cache.get("status-entry") is None  # not the stale "old red"
    assert not resilience.redis_down()
    cache.set("status-entry", "green", 300)
    assert cache.get("status-entry") == "green"
    cache.delete("status-entry")


def test_the_worker_backs_off_and_logs_the_outage_once(caplog: pytest.LogCaptureFixture) -> None:
    from fangkong.core.queue import MAX_PAUSE_SECONDS, ResilientRedisHuey

    huey = ResilientRedisHuey("fk-test", url=f"redis://127.0.0.1:{_closed_port()}/2")
    pauses: list[float] = []
    huey.storage.sleep = pauses.append
    with caplog.at_level(logging.INFO, logger="fangkong.core.queue"):
        for _ in range(200):
            assert huey.storage.dequeue() is None
            assert huey.storage.read_schedule(dt.datetime(2030, 1, 1)) == []
    assert len(caplog.records) == 1
    assert pauses[:4] == [1.0, 2.0, 4.0, 8.0]
    assert max(pauses) == MAX_PAUSE_SECONDS
