"""Client address and rate limits (issue 22): forwarded headers count only from the
configured proxies, and a registered scanning device has its own limit."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from fangkong.conftest import make_person, make_staff
from fangkong.core.middleware import client_ip_from_meta
from fangkong.core.services import api_token_create
from fangkong.core.tests.wsgi_support import Recorder, wsgi_call
from fangkong.status import rules
from fangkong.status.models import StatusPolicy
from fangkong.status.tokens import status_token
from fangkong.status.wsgi import CHECK_PATH, StatusCheckFastPath


@pytest.fixture
def person(city: Any) -> Any:
    return make_person(city.xd_building, name="王小明")


def _limits(per_address: int, per_device: int) -> None:
    policy = StatusPolicy.objects.order_by("pk").first() or StatusPolicy.objects.create()
    StatusPolicy.objects.filter(pk=policy.pk).update(
        check_rate_per_minute=per_address, device_check_rate_per_minute=per_device
    )
    rules.clear_cache()


def check(client: Client, token: str, **headers: Any) -> int:
    return client.get("/api/v1/status/check", {"token": token}, **headers).status_code


# --- Whose forwarded headers count ------------------------------------------------


def test_without_configured_proxies_the_peer_address_counts() -> None:
    meta = {
        "REMOTE_ADDR": "203.0.113.7",
        "HTTP_X_REAL_IP": "1.2.3.4",
        "HTTP_X_FORWARDED_FOR": "5.6.7.8",
    }
    assert client_ip_from_meta(meta) == "203.0.113.7"


@override_settings(FANGKONG_TRUSTED_PROXIES=["10.0.0.1", "192.168.0.0/24"])
def test_a_trusted_proxys_forwarded_for_names_the_client() -> None:
    # The client wrote a made-up address at the left; the proxies appended theirs.
    meta = {
        "REMOTE_ADDR": "10.0.0.1",
        "HTTP_X_FORWARDED_FOR": "9.9.9.9, 198.51.100.23, 192.168.0.5",
    }
    assert client_ip_from_meta(meta) == "198.51.100.23"
    meta = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_REAL_IP": "198.51.100.24"}
    assert client_ip_from_meta(meta) == "198.51.100.24"
    meta = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_REAL_IP": "not an address"}
    assert client_ip_from_meta(meta) == "10.0.0.1"
    # Anyone else's headers are ignored.
    meta = {
        "REMOTE_ADDR": "10.0.0.2",
        "HTTP_X_FORWARDED_FOR": "1.1.1.1",
        "HTTP_X_REAL_IP": "2.2.2.2",
    }
    assert client_ip_from_meta(meta) == "10.0.0.2"


def test_rotating_x_real_ip_does_not_escape_the_rate_limit(person: Any) -> None:
    _limits(per_address=3, per_device=100)
    token = status_token(person.pk)
    codes = [
        check(Client(), token, HTTP_X_REAL_IP=f"1.2.3.{i}", HTTP_X_FORWARDED_FOR=f"4.3.2.{i}")
        for i in range(5)
    ]
    assert codes == [200, 200, 200, 429, 429]


def test_rotating_x_real_ip_does_not_escape_the_fast_paths_limit(person: Any) -> None:
    _limits(per_address=3, per_device=100)
    token = status_token(person.pk)
    fast = StatusCheckFastPath(Recorder())
    got = [
        wsgi_call(fast, "GET", CHECK_PATH, query=f"token={token}", HTTP_X_REAL_IP=f"1.2.3.{i}")[0]
        for i in range(5)
    ]
    assert got == [200, 200, 200, 429, 429]


@override_settings(FANGKONG_TRUSTED_PROXIES=["127.0.0.1"])
def test_behind_a_trusted_proxy_each_client_has_its_own_limit(person: Any) -> None:
    _limits(per_address=2, per_device=100)
    token = status_token(person.pk)
    first = [check(Client(), token, HTTP_X_FORWARDED_FOR="198.51.100.1") for _ in range(3)]
    assert first == [200, 200, 429]
    assert check(Client(), token, HTTP_X_FORWARDED_FOR="198.51.100.2") == 200


def test_the_audit_trail_records_the_peer_not_a_claimed_address(city: Any) -> None:
    import json

    from fangkong.conftest import client_for
    from fangkong.core.models import AuditEntry

    officer = make_staff("officer", city.xiaodian, "district_officer")
    client_for(officer).post(
        "/api/v1/tokens",
        json.dumps({"name": "x"}),
        content_type="application/json",
        HTTP_X_REAL_IP="8.8.8.8",
    )
    assert AuditEntry.objects.get(action="api_token.create").client_ip == "127.0.0.1"


# --- Scanning devices ------------------------------------------------------------


def test_scanning_devices_behind_one_address_each_have_their_own_limit(
    city: Any, person: Any
) -> None:
    _limits(per_address=2, per_device=3)
    scanner = make_staff("gate", city.xiaodian, "checkpoint_officer")
    _a, lane1 = api_token_create(actor=scanner, name="lane 1")
    _b, lane2 = api_token_create(actor=scanner, name="lane 2")
    token = status_token(person.pk)
    # Phones at the same address use up the address's limit...
    assert [check(Client(), token) for _ in range(3)] == [200, 200, 429]
    # ...the devices are counted on their own, each up to its limit.
    for device in (lane1, lane2):
        got = [check(Client(), token, HTTP_AUTHORIZATION=f"Bearer {device}") for _ in range(4)]
        assert got == [200, 200, 200, 429]
    r = Client().get(
        "/api/v1/status/check",
        {"token": token},
        HTTP_AUTHORIZATION=f"Bearer {lane1}",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "device" in r.json()["error"]["message"]


def test_a_token_without_status_scan_is_counted_by_its_address(city: Any, person: Any) -> None:
    _limits(per_address=2, per_device=100)
    officer = make_staff("lab", city.xiaodian, "lab_technician")
    _t, secret = api_token_create(actor=officer, name="lab")
    token = status_token(person.pk)
    got = [check(Client(), token, HTTP_AUTHORIZATION=f"Bearer {secret}") for _ in range(3)]
    assert got == [200, 200, 429]
