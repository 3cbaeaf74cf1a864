"""Status check API and tokens: forged, tampered, expired; staff-only details; denial."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from fangkong.conftest import client_for, make_person, make_staff
from fangkong.core import signing
from fangkong.status.models import StatusPolicy
from fangkong.status.services import reasons_grant
from fangkong.status.tokens import person_id_from_status_token, status_token


@pytest.fixture
def person(city: Any) -> Any:
    return make_person(city.xd_building, name="王小明")


def check(client: Client, token: str) -> Any:
    return client.get("/api/v1/status/check", {"token": token}, HTTP_ACCEPT_LANGUAGE="en")


def test_token_reveals_nothing_and_round_trips(person: Any) -> None:
    token = status_token(person.pk)
    payload, _v = signing.verify("s", token)
    assert "p" not in payload and person.pk not in payload.values()
    assert person_id_from_status_token(token) == person.pk
    assert status_token(person.pk) != token  # a fresh nonce each time


def test_check_anonymous_gets_level_and_emergency_line_only(person: Any) -> None:
    reasons_grant(kind="sealed_zone", person_ids=[person.pk], source_type="zones.zone", source_id=1)
    r = check(Client(), status_token(person.pk))
    assert r.status_code == 200
    body = r.json()
    assert body["level"] == "red"
    assert body["colour"].startswith("#")
    assert "emergenc" in body["emergency"].lower()
    assert "masked_name" not in body
    assert "王" not in json.dumps(body, ensure_ascii=False)
    assert "reasons" not in body


def test_green_person(person: Any) -> None:
    body = check(Client(), status_token(person.pk)).json()
    assert body["level"] == "green"
    assert body["valid_until"] is None


def test_scanner_gets_the_masked_name(city: Any, person: Any) -> None:
    scanner = make_staff("scanner", city.xiaodian, "checkpoint_officer")
    body = check(client_for(scanner), status_token(person.pk)).json()
    assert body["masked_name"] == "王*明"


@pytest.mark.parametrize("bad", ["", "nonsense", "s.1.abc.def"])
def test_forged_tokens_are_refused(person: Any, bad: str) -> None:
    r = check(Client(), bad)
    assert r.status_code == 400
    assert r.json()["error"]["fields"]["token"]


def test_tampered_token_is_refused(person: Any) -> None:
    kind, version, payload, sig = status_token(person.pk).split(".")
    data = json.loads(signing._unb64(payload))
    data["x"] ^= 1  # another person
    forged = ".".join([kind, version, signing._b64(json.dumps(data).encode()), sig])
    r = check(Client(), forged)
    assert r.status_code == 400
    assert "forged" in r.json()["error"]["fields"]["token"]


def test_venue_or_checkin_token_is_not_a_status_token(person: Any) -> None:
    assert check(Client(), signing.person_token(person.pk)).status_code == 400


def test_yesterdays_token_has_expired(person: Any) -> None:
    token = status_token(person.pk)
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        r = check(Client(), token)
    assert r.status_code == 400
    assert "expired" in r.json()["error"]["fields"]["token"]


def test_rate_limit_per_address(person: Any) -> None:
    StatusPolicy.objects.update(check_rate_per_minute=3)
    from fangkong.status import rules

    rules.clear_cache()
    token = status_token(person.pk)
    codes = [check(Client(), token).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200]
    assert codes[-1] == 429
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert check(other, token).status_code == 200


def test_staff_status_panel_api_other_jurisdiction_is_404(
    person: Any, xiaodian_officer: Any, yingze_officer: Any, nobody: Any
) -> None:
    reasons_grant(kind="sealed_zone", person_ids=[person.pk], source_type="zones.zone", source_id=1)
    ok = client_for(xiaodian_officer).get(f"/api/v1/status/people/{person.pk}")
    assert ok.status_code == 200
    assert ok.json()["reasons"][0]["kind"] == "sealed_zone"
    denied = client_for(yingze_officer).get(f"/api/v1/status/people/{person.pk}")
    assert denied.status_code == 404
    assert denied.json()["error"]["code"] == "not_found"
    assert client_for(nobody).get(f"/api/v1/status/people/{person.pk}").status_code == 403


def test_manual_request_api_bad_input_and_four_eyes(
    person: Any, grid_worker: Any, xiaodian_officer: Any
) -> None:
    c = client_for(grid_worker)
    r = c.post(
        "/api/v1/status/manual-requests",
        {"action": "grant", "basis": "", "text": "x", "person_ids": [person.pk], "level": "red"},
        content_type="application/json",
    )
    assert r.status_code == 400
    fields = r.json()["error"]["fields"]
    assert {"basis", "text", "ends_at"} <= set(fields)
    r = c.post(
        "/api/v1/status/manual-requests",
        {
            "action": "grant",
            "basis": "epidemiological_investigation",
            "source_ref": "Case 2022-0117",
            "text": "Same household as a confirmed case",
            "person_ids": [person.pk],
            "level": "red",
            "ends_at": (timezone.now() + dt.timedelta(days=2)).isoformat(),
        },
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    rid = r.json()["id"]
    own = c.post(
        f"/api/v1/status/manual-requests/{rid}/approve", {}, content_type="application/json"
    )
    assert own.status_code == 403
    ok = client_for(xiaodian_officer).post(
        f"/api/v1/status/manual-requests/{rid}/approve", {}, content_type="application/json"
    )
    assert ok.status_code == 200
    assert ok.json()["state"] == "approved"


def test_plain_view_answers_like_the_api(person: Any) -> None:
    reasons_grant(kind="sealed_zone", person_ids=[person.pk], source_type="zones.zone", source_id=1)
    token = status_token(person.pk)
    api = check(Client(), token).json()
    plain = Client().get("/status/check", {"token": token}, HTTP_ACCEPT_LANGUAGE="en")
    assert plain.status_code == 200
    assert plain.json() == api
    bad = Client().get("/status/check", {"token": "s.1.x.y"}, HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"]["token"]
