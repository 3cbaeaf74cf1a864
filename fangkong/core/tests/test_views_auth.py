"""Sign-in, lockout, second factor and language switch of the staff pages."""

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from fangkong.conftest import PASSWORD, client_for
from fangkong.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def test_the_sign_in_page_renders(db):
    r = Client().get("/login/")
    assert r.status_code == 200
    assert b'name="username"' in r.content and b'name="password"' in r.content


def test_it_signs_a_user_in_and_out(commander):
    c = Client()
    r = c.post("/login/", {"username": "commander", "password": PASSWORD})
    assert r.status_code == 302 and r["Location"] == reverse("core:home")
    assert c.get(reverse("core:home")).status_code == 200
    r = c.post("/logout/")
    assert r.status_code == 302
    assert c.get(reverse("core:home")).status_code == 302


def test_it_follows_a_safe_next_url_only(commander):
    c = Client()
    r = c.post("/login/", {"username": "commander", "password": PASSWORD, "next": "/people/"})
    assert r["Location"] == "/people/"
    c.post("/logout/")
    r = c.post(
        "/login/", {"username": "commander", "password": PASSWORD, "next": "https://evil.test/"}
    )
    assert r["Location"] == reverse("core:home")


def test_a_wrong_password_shows_an_error_and_signs_nobody_in(commander):
    c = Client()
    r = c.post("/login/", {"username": "commander", "password": "wrong-password"})
    assert r.status_code == 422
    assert "_auth_user_id" not in c.session


def test_anonymous_visitors_are_sent_to_sign_in(city):
    c = Client()
    for url in ["/console/", "/people/", "/jurisdictions/", "/audit/", "/account/two-factor/"]:
        r = c.get(url)
        assert r.status_code == 302, url
        assert r["Location"].startswith("/login/?next="), url


def test_an_htmx_request_without_a_session_is_redirected_by_header(city):
    r = Client().get("/people/?q=a", HTTP_HX_REQUEST="true")
    assert r.status_code == 204
    assert r["HX-Redirect"] == "/login/"


def test_it_locks_the_account_after_repeated_failures(commander, settings):
    c = Client()
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        r = c.post("/login/", {"username": "commander", "password": "wrong-password"})
        assert r.status_code == 422
    r = c.post("/login/", {"username": "commander", "password": "wrong-password"})
    assert r.status_code == 429
    # Locked: even the right password is refused now.
    r = c.post("/login/", {"username": "commander", "password": PASSWORD})
    assert r.status_code == 429
    assert "_auth_user_id" not in c.session
    assert "core/locked_out.html" in [t.name for t in r.templates]


def test_a_user_with_a_device_must_enter_a_code_after_the_password(commander):
    device = TOTPDevice.objects.create(user=commander, name="phone", confirmed=True)
    c = Client()
    r = c.post("/login/", {"username": "commander", "password": PASSWORD, "next": "/people/"})
    assert r.status_code == 302 and r["Location"] == "/login/code/"
    assert "_auth_user_id" not in c.session
    assert c.get("/people/").status_code == 302  # not signed in yet

    r = c.post("/login/code/", {"token": "000000" if code_for(device) != "000000" else "111111"})
    assert r.status_code == 422
    assert "_auth_user_id" not in c.session

    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    r = c.post("/login/code/", {"token": code_for(device)})
    assert r.status_code == 302 and r["Location"] == "/people/"
    assert c.get("/people/").status_code == 200


def test_the_code_step_needs_a_password_first(commander):
    r = Client().get("/login/code/")
    assert r.status_code == 302 and r["Location"] == "/login/"


def test_a_session_without_the_second_factor_cannot_see_personal_data(commander):
    TOTPDevice.objects.create(user=commander, name="phone", confirmed=True)
    r = client_for(commander).get("/people/")
    assert r.status_code == 302
    assert r["Location"].startswith("/login/")


def test_staff_can_enrol_a_totp_device(commander):
    c = client_for(commander)
    r = c.get("/account/two-factor/")
    assert r.status_code == 200
    assert b"<svg" in r.content
    device = TOTPDevice.objects.get(user=commander)
    assert device.confirmed is False

    r = c.post("/account/two-factor/", {"token": "12"})
    assert r.status_code == 422
    device.refresh_from_db()
    assert device.confirmed is False

    r = c.post("/account/two-factor/", {"token": code_for(device)})
    assert r.status_code == 302
    device.refresh_from_db()
    assert device.confirmed is True
    assert AuditEntry.objects.filter(action="otp.enrol", actor=commander).count() == 1
    # The session that enrolled is verified and keeps working.
    assert c.get("/people/").status_code == 200
    assert b"status-ok" in c.get("/account/two-factor/").content


def test_the_language_switch_changes_the_rendered_language(db):
    c = Client()
    r = c.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert r.status_code == 302 and r["Location"] == "/login/"
    assert r.cookies["django_language"].value == "en"
    page = c.get("/login/").content.decode()
    assert '<html lang="en">' in page
    assert "Username" in page  # translated by Django itself

    c.post("/i18n/setlang/", {"language": "zh-hans", "next": "/login/"})
    page = c.get("/login/").content.decode()
    assert '<html lang="zh-hans">' in page
    assert "用户名" in page
