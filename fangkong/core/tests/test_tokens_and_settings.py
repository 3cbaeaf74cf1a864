import json
import os
import subprocess
import sys

import pytest
import time_machine
from django.test import Client

from fangkong.conftest import client_for, make_person
from fangkong.core.models import ApiToken

pytestmark = pytest.mark.django_db


def test_a_personal_token_authenticates_api_calls(city, xiaodian_officer):
    r = client_for(xiaodian_officer).post(
        "/api/v1/tokens", json.dumps({"name": "etl"}), content_type="application/json"
    )
    assert r.status_code == 201
    token = r.json()["token"]
    assert token.startswith("fk_")
    assert not ApiToken.objects.filter(token_hash=token).exists()  # only the hash is stored
    make_person(city.xd_building)
    r = Client().get("/api/v1/people", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 200 and r.json()["count"] == 1
    r = Client().get("/api/v1/me", HTTP_X_API_TOKEN=token)
    assert r.json()["username"] == "xiaodian"


def test_a_wrong_or_expired_token_is_refused(city, xiaodian_officer):
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION="Bearer fk_nope").status_code == 401
    with time_machine.travel("2029-12-31T00:00:00Z"):
        r = client_for(xiaodian_officer).post(
            "/api/v1/tokens",
            json.dumps({"name": "short", "expires_at": "2030-01-01T00:00:00Z"}),
            content_type="application/json",
        )
    token = r.json()["token"]
    with time_machine.travel("2030-01-02T00:00:00Z"):
        assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_me_lists_roles_and_capabilities(city, investigator):
    body = client_for(investigator).get("/api/v1/me").json()
    assert body["roles"] == ["investigator"]
    assert "person.unmask" in body["capabilities"]
    assert body["jurisdiction_id"] == city.xiaodian.pk


def _settings_import(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "SECRET_KEY",
            "FANGKONG_FIELD_KEYS",
            "FANGKONG_LOOKUP_KEY",
            "ALLOWED_HOSTS",
            "DATABASE_URL",
            "FANGKONG_ENV",
        }
    }
    clean.update(env)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import fangkong.settings as s; print(s.DEBUG, s.SESSION_COOKIE_SECURE)",
        ],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_to_start_without_its_secrets(tmp_path):
    r = _settings_import({"FANGKONG_ENV": "production", "FANGKONG_VAR_DIR": str(tmp_path)})
    assert r.returncode != 0
    assert "SECRET_KEY must be set" in r.stderr


def test_production_defaults_are_safe(tmp_path):
    r = _settings_import(
        {
            "FANGKONG_ENV": "production",
            "FANGKONG_VAR_DIR": str(tmp_path),
            "SECRET_KEY": "x" * 50,
            "FANGKONG_FIELD_KEYS": "ZGV2LW9ubHktZmllbGQta2V5LTMyLWJ5dGVzLWxvbmc=",
            "FANGKONG_LOOKUP_KEY": "y" * 40,
            "ALLOWED_HOSTS": "fangkong.example",
        }
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "True"]  # DEBUG off, secure cookies
