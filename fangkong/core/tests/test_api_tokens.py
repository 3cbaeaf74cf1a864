"""Personal API tokens (issue 22): a default lifetime, revocation by the owner and by a
system administrator (audited), a list with last use, only a session creates one,
an already-expired one is refused, and signing out revokes them."""

import datetime as dt
import json

import pytest
import time_machine
from django.test import Client, override_settings
from django.utils import timezone

from fangkong.conftest import client_for, make_staff
from fangkong.core import services
from fangkong.core.errors import NotFound, PermissionDenied, ValidationFailed
from fangkong.core.models import ApiToken, AuditEntry

pytestmark = pytest.mark.django_db


def _post(client, url, body=None, **headers):
    return client.post(url, json.dumps(body or {}), content_type="application/json", **headers)


def _bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def sysadmin(city):
    return make_staff("sysadmin", city.city, "sysadmin")


@pytest.fixture
def yz_sysadmin(city):
    return make_staff("yz_sysadmin", city.yingze, "sysadmin")


# --- Lifetime ------------------------------------------------------------------------


@override_settings(FANGKONG_API_TOKEN_DAYS=30)
def test_a_token_made_without_an_end_lasts_the_standard_lifetime(city, xiaodian_officer):
    with time_machine.travel("2030-01-01T00:00:00Z", tick=False):
        r = _post(client_for(xiaodian_officer), "/api/v1/tokens", {"name": "etl"})
        assert r.status_code == 201
        token = r.json()["token"]
        assert r.json()["expires_at"].startswith("2030-01-31")
    with time_machine.travel("2030-01-30T23:00:00Z"):
        assert Client().get("/api/v1/me", **_bearer(token)).status_code == 200
    with time_machine.travel("2030-01-31T00:00:01Z"):
        assert Client().get("/api/v1/me", **_bearer(token)).status_code == 401


def test_a_token_that_would_be_born_expired_is_refused(city, xiaodian_officer):
    r = _post(
        client_for(xiaodian_officer),
        "/api/v1/tokens",
        {"name": "late", "expires_at": "2001-01-01T00:00:00Z"},
    )
    assert r.status_code == 400
    assert "expires_at" in r.json()["error"]["fields"]
    assert not ApiToken.objects.exists()


@override_settings(FANGKONG_API_TOKEN_MAX_DAYS=365)
def test_a_token_may_not_be_made_to_last_longer_than_the_maximum(city, xiaodian_officer):
    too_far = (timezone.now() + dt.timedelta(days=400)).isoformat()
    r = _post(
        client_for(xiaodian_officer), "/api/v1/tokens", {"name": "forever", "expires_at": too_far}
    )
    assert r.status_code == 400 and "expires_at" in r.json()["error"]["fields"]


# --- Only a session makes tokens -------------------------------------------------------


def test_a_token_cannot_mint_another_token(city, xiaodian_officer):
    _row, clear = services.api_token_create(actor=xiaodian_officer, name="device")
    r = _post(Client(), "/api/v1/tokens", {"name": "second"}, **_bearer(clear))
    assert r.status_code == 403
    r = _post(Client(), "/api/v1/tokens", {"name": "third"}, HTTP_X_API_TOKEN=clear)
    assert r.status_code == 403
    assert ApiToken.objects.count() == 1


def test_without_credentials_no_token_is_made(city):
    r = _post(Client(), "/api/v1/tokens", {"name": "anon"})
    assert r.status_code in (401, 403)
    assert not ApiToken.objects.exists()


# --- The list ------------------------------------------------------------------------


def test_one_lists_ones_own_tokens_with_their_last_use_and_never_the_secret(
    city, xiaodian_officer, yingze_officer
):
    _mine, clear = services.api_token_create(actor=xiaodian_officer, name="scanner")
    services.api_token_create(actor=yingze_officer, name="not mine")
    assert Client().get("/api/v1/me", **_bearer(clear)).status_code == 200
    body = client_for(xiaodian_officer).get("/api/v1/tokens").json()
    assert [t["name"] for t in body] == ["scanner"]
    assert body[0]["last_used_at"] is not None
    assert body[0]["prefix"] == clear[:8]
    assert clear not in json.dumps(body)
    assert "token_hash" not in body[0]


# --- Revocation ----------------------------------------------------------------------


def test_the_owner_revokes_a_token_and_it_stops_working(city, xiaodian_officer):
    row, clear = services.api_token_create(actor=xiaodian_officer, name="lost phone")
    r = _post(client_for(xiaodian_officer), f"/api/v1/tokens/{row.pk}/revoke", {"reason": "lost"})
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    assert Client().get("/api/v1/me", **_bearer(clear)).status_code == 401
    entry = AuditEntry.objects.get(action="api_token.revoke")
    assert entry.actor == xiaodian_officer and entry.reason == "lost"
    # Again: nothing more happens.
    r = _post(client_for(xiaodian_officer), f"/api/v1/tokens/{row.pk}/revoke")
    assert r.status_code == 200
    assert AuditEntry.objects.filter(action="api_token.revoke").count() == 1


def test_a_system_administrator_revokes_the_token_of_staff_of_their_area(
    city, xiaodian_officer, sysadmin
):
    row, clear = services.api_token_create(actor=xiaodian_officer, name="leaked")
    r = _post(client_for(sysadmin), f"/api/v1/tokens/{row.pk}/revoke", {"reason": "leaked"})
    assert r.status_code == 200
    assert Client().get("/api/v1/me", **_bearer(clear)).status_code == 401
    assert AuditEntry.objects.get(action="api_token.revoke").actor == sysadmin


def test_someone_elses_token_is_not_found_for_other_staff_and_other_areas(
    city, xiaodian_officer, yingze_officer, yz_sysadmin
):
    row, clear = services.api_token_create(actor=xiaodian_officer, name="mine")
    for other in (yingze_officer, yz_sysadmin):
        r = _post(client_for(other), f"/api/v1/tokens/{row.pk}/revoke")
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_found"
    r = _post(client_for(xiaodian_officer), "/api/v1/tokens/999999/revoke")
    assert r.status_code == 404
    assert Client().get("/api/v1/me", **_bearer(clear)).status_code == 200


def test_a_token_revokes_itself_but_not_another(city, xiaodian_officer, yingze_officer):
    row, clear = services.api_token_create(actor=xiaodian_officer, name="script")
    theirs, _c = services.api_token_create(actor=yingze_officer, name="theirs")
    assert (
        _post(Client(), f"/api/v1/tokens/{theirs.pk}/revoke", **_bearer(clear)).status_code == 404
    )
    assert _post(Client(), f"/api/v1/tokens/{row.pk}/revoke", **_bearer(clear)).status_code == 200
    assert Client().get("/api/v1/me", **_bearer(clear)).status_code == 401


def test_the_revoke_service_refuses_anonymous_callers(city, xiaodian_officer):
    row, _clear = services.api_token_create(actor=xiaodian_officer, name="x")
    with pytest.raises(NotFound):
        services.api_token_revoke(actor=None, token_id=row.pk)


def test_the_create_service_refuses_a_token_authenticated_actor(city, xiaodian_officer):
    _row, clear = services.api_token_create(actor=xiaodian_officer, name="x")
    user = services.api_token_authenticate(clear)
    with pytest.raises(PermissionDenied):
        services.api_token_create(actor=user, name="y")
    with pytest.raises(ValidationFailed):
        services.api_token_create(
            actor=xiaodian_officer, name="y", expires_at=timezone.now() - dt.timedelta(seconds=1)
        )


# --- Sign-out ----------------------------------------------------------------------


def test_signing_out_revokes_the_users_tokens(city, xiaodian_officer, yingze_officer):
    _a, mine = services.api_token_create(actor=xiaodian_officer, name="a")
    _b, mine_too = services.api_token_create(actor=xiaodian_officer, name="b")
    _c, theirs = services.api_token_create(actor=yingze_officer, name="c")
    client = client_for(xiaodian_officer)
    assert client.post("/logout/").status_code == 302
    for clear in (mine, mine_too):
        assert Client().get("/api/v1/me", **_bearer(clear)).status_code == 401
    assert Client().get("/api/v1/me", **_bearer(theirs)).status_code == 200
    entry = AuditEntry.objects.get(action="api_token.revoke_at_sign_out")
    assert entry.changes["count"] == [None, 2]


# --- The admin -----------------------------------------------------------------------


def test_the_admin_revokes_tokens_with_an_audit_entry(city, xiaodian_officer):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", password="x-Long-passw0rd!")
    row, clear = services.api_token_create(actor=xiaodian_officer, name="leaked")
    client = client_for(root)
    r = client.get("/admin/core/apitoken/")
    assert r.status_code == 200 and "leaked" in r.content.decode()
    r = client.post(
        "/admin/core/apitoken/",
        {"action": "revoke_tokens", "_selected_action": [row.pk]},
    )
    assert r.status_code == 302
    assert Client().get("/api/v1/me", **_bearer(clear)).status_code == 401
    assert AuditEntry.objects.get(action="api_token.revoke").actor == root


# --- The page ------------------------------------------------------------------------


def test_the_page_lists_only_ones_own_tokens_and_cannot_revoke_anothers(
    city, xiaodian_officer, yingze_officer
):
    mine, _c = services.api_token_create(actor=xiaodian_officer, name="my scanner")
    theirs, their_clear = services.api_token_create(actor=yingze_officer, name="their scanner")
    client = client_for(xiaodian_officer)
    page = client.get("/account/tokens/").content.decode()
    assert "my scanner" in page and "their scanner" not in page
    assert client.post(f"/account/tokens/{theirs.pk}/revoke/").status_code == 404
    assert Client().get("/api/v1/me", **_bearer(their_clear)).status_code == 200
    assert client.post(f"/account/tokens/{mine.pk}/revoke/").status_code == 302
    assert ApiToken.objects.get(pk=mine.pk).revoked_at is not None


def test_the_page_refuses_an_end_in_the_past_inline(city, xiaodian_officer):
    r = client_for(xiaodian_officer).post(
        "/account/tokens/", {"name": "late", "expires_on": "2001-01-01"}
    )
    assert r.status_code == 422
    assert "令牌的到期时间必须晚于现在" in r.content.decode()  # the page speaks Chinese
    assert not ApiToken.objects.exists()


def test_a_revoked_token_is_refused_even_from_a_signed_in_browser(city):
    """A request naming a token is judged by that token alone: the session of the
    browser it comes from does not carry a revoked or unknown token."""
    user = make_staff("scanner_owner", city.xiaodian, "sampler")
    token, secret = services.api_token_create(actor=user, name="lane 1")
    browser = client_for(user)
    assert browser.get("/api/v1/me").status_code == 200  # the session alone
    assert browser.get("/api/v1/me", **_bearer(secret)).status_code == 200
    services.api_token_revoke(actor=user, token_id=token.pk)
    for headers in (_bearer(secret), _bearer("fk_unknown"), {"HTTP_X_API_TOKEN": secret}):
        answer = browser.get("/api/v1/me", **headers)
        assert answer.status_code == 401, headers
        assert answer.json()["error"]["code"]


def test_reloading_the_tokens_page_after_creating_one_makes_no_second_token(city):
    user = make_staff("reloader", city.xiaodian, "sampler")
    browser = client_for(user)
    made = browser.post("/account/tokens/", {"name": "lane 2"})
    assert made.status_code == 302  # post, redirect, get
    shown = browser.get("/account/tokens/").content.decode()
    assert 'data-testid="new-token"' in shown
    again = browser.get("/account/tokens/").content.decode()
    assert 'data-testid="new-token"' not in again  # the secret is shown once
    assert ApiToken.objects.filter(user=user).count() == 1
