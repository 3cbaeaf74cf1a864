"""The API's edge: malformed input is a 400 in the one JSON shape, an error answer
writes nothing, and no route, method, body or sign-in state gives an HTML page."""

import datetime as dt
import json

import pytest
from django.test import Client
from pydantic import ValidationError

from fangkong.conftest import client_for, make_person
from fangkong.core.models import AuditEntry, Jurisdiction
from fangkong.core.schema import Schema
from fangkong.screening.models import Lab, Site

pytestmark = pytest.mark.django_db


def post(client, url, body, method="post"):
    return getattr(client, method)(
        url, json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )


def error(response, status):
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()["error"]
    assert set(body) >= {"code", "message", "fields"}
    return body


def site(city, **extra):
    return {
        "name": "坞城采样点",
        "jurisdiction_id": city.xd_grid.pk,
        "lat": 37.8,
        "lon": 112.5,
        "opens_at": "08:00:00",
        "closes_at": "18:00:00",
        **extra,
    }


# --- Nothing written when the answer is an error -------------------------------------------


def test_a_time_of_day_with_an_offset_is_refused_and_nothing_is_written(city, commander):
    audits = AuditEntry.objects.count()
    r = post(
        client_for(commander), "/api/v1/screening/sites", site(city, opens_at="08:00:00+08:00")
    )
    body = error(r, 400)
    assert body["code"] == "invalid" and "time zone" in body["fields"]["opens_at"]
    assert not Site.objects.exists() and AuditEntry.objects.count() == audits
    r = post(client_for(commander), "/api/v1/screening/sites", site(city))
    assert r.status_code == 201 and r.json()["opens_at"] == "08:00:00"


def test_an_answer_that_fails_after_the_write_rolls_the_write_back(city, commander, monkeypatch):
    from fangkong.screening.services import rounds

    real = rounds.site_create

    def create_then_fail(**kwargs):
        real(**kwargs)
        raise RuntimeError("the answer could not be built")

    monkeypatch.setattr(rounds, "site_create", create_then_fail)
    audits = AuditEntry.objects.count()
    client = client_for(commander)
    client.raise_request_exception = False
    r = post(client, "/api/v1/screening/sites", site(city))
    body = error(r, 500)
    assert body["code"] == "server_error" and "nothing was saved" in body["message"]
    assert not Site.objects.exists() and AuditEntry.objects.count() == audits


def test_a_domain_error_after_a_write_rolls_the_write_back(city, commander, monkeypatch):
    from fangkong.core.errors import Conflict
    from fangkong.screening.services import rounds

    real = rounds.lab_create

    def create_then_refuse(**kwargs):
        real(**kwargs)
        raise Conflict("refused after writing")

    monkeypatch.setattr(rounds, "lab_create", create_then_refuse)
    body = {"name": "迪安", "code": "dian", "capacity_per_day": 10, "jurisdiction_id": city.city.pk}
    assert error(post(client_for(commander), "/api/v1/screening/labs", body), 409)
    assert not Lab.objects.exists()


# --- One validation layer --------------------------------------------------------------------


def test_a_page_number_past_any_integer_column_is_a_400(city):
    for page in ("9223372036854775807", "99999999999999999999999", "0", "x"):
        r = Client().get("/api/v1/portal/articles", {"page": page})
        body = error(r, 400)
        assert "page" in body["fields"], page


@pytest.mark.parametrize(
    ("where", "url", "payload"),
    [
        ("query", "/api/v1/people?q=%00x", None),
        ("body", "/api/v1/screening/labs", {"name": "a\x00b", "code": "x", "capacity_per_day": 1}),
        ("key", "/api/v1/screening/labs", {"na\x00me": "x"}),
        ("surrogate", "/api/v1/screening/labs", '{"name": "\\ud800", "code": "x"}'),
    ],
)
def test_text_that_no_column_can_hold_is_refused(city, commander, where, url, payload):
    client = client_for(commander)
    if payload is None:
        r = client.get(url)
    else:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        r = client.post(url, data, content_type="application/json")
    body = error(r, 400)
    assert body["code"] == "invalid" and "NUL" in next(iter(body["fields"].values()))


@pytest.mark.parametrize(
    ("field", "value"),
    [("capacity_per_day", 2**31), ("capacity_per_day", -1), ("capacity_per_day", True)],
)
def test_integers_past_the_column_and_booleans_are_refused(city, commander, field, value):
    body = {"name": "迪安", "code": "dian", "capacity_per_day": 10, "jurisdiction_id": city.city.pk}
    r = post(client_for(commander), "/api/v1/screening/labs", {**body, field: value})
    assert field in error(r, 400)["fields"]
    assert not Lab.objects.exists()


def test_site_lanes_and_venue_capacity_are_bounded(city, commander):
    r = post(client_for(commander), "/api/v1/screening/sites", site(city, lanes=40000))
    assert "lanes" in error(r, 400)["fields"]
    r = post(
        client_for(commander),
        "/api/v1/venues",
        {"name": "店", "category": "shop", "building_id": city.xd_building.pk, "capacity": 2**40},
    )
    assert "capacity" in error(r, 400)["fields"]


def test_a_boolean_is_never_an_id(city, commander):
    from fangkong.investigation.models import Case

    make_person(city.xd_building)
    body = {
        "person_id": True,
        "classification": "confirmed",
        "report_date": "2022-10-06",
        "found_by": "screening",
    }
    r = post(client_for(commander), "/api/v1/cases", body)
    assert error(r, 400)["fields"]["person_id"] == "Give a number, not true or false."
    assert not Case.objects.exists()


class When(Schema):
    at: dt.datetime


@pytest.mark.parametrize("offset", ["+25:00", "+18:30", "-19:00"])
def test_time_zone_offsets_out_of_range_are_refused(offset):
    with pytest.raises(ValidationError):
        When.model_validate({"at": f"2022-10-06T08:00:00{offset}"})


def test_aware_times_are_kept_in_utc_and_the_calendars_edge_is_refused():
    at = When.model_validate({"at": "2022-10-06T08:00:00+08:00"}).at
    assert at == dt.datetime(2022, 10, 6, 0, 0, tzinfo=dt.UTC) and at.utcoffset() == dt.timedelta()
    with pytest.raises(ValidationError):
        When.model_validate({"at": "0001-01-01T00:00:00+01:00"})


def test_an_out_of_range_offset_in_a_body_is_a_400(city):
    body = {"venue_token": "v", "person_token": "p", "time": "2022-10-06T08:00:00+20:00"}
    r = post(Client(), "/api/v1/checkins", body)
    assert "time" in error(r, 400)["fields"]


def test_explicit_null_into_a_required_column_is_a_400(city, commander):
    url = f"/api/v1/jurisdictions/{city.xd_grid.pk}"
    r = post(client_for(commander), url, {"name_en": None}, method="patch")
    assert "name_en" in error(r, 400)["fields"]
    assert Jurisdiction.objects.get(pk=city.xd_grid.pk).name_en == "Pingyang Grid 1"
    # A column that may be empty still takes null.
    r = post(client_for(commander), url, {"code": None}, method="patch")
    assert r.status_code == 200


# --- Every error in the one shape ---------------------------------------------------------


def test_unknown_routes_and_non_integer_ids_are_json_404s(city, commander):
    client = client_for(commander)
    for url in ("/api/v1/nothing-here", "/api/v1/people/abc", "/api/v1/people/1.5", "/api/v1/"):
        assert error(client.get(url), 404)["code"] == "not_found", url
    assert error(client.get("/api/v1/people/99999999999999999999999"), 404)


def test_a_method_not_allowed_is_a_json_405(city, commander):
    r = client_for(commander).delete("/api/v1/people")
    assert error(r, 405)["code"] == "method_not_allowed" and "GET" in r["Allow"]


def test_malformed_and_oversized_bodies(city, commander, settings):
    client = client_for(commander)
    for raw in ("{not json", "NaN", '{"capacity_per_day": NaN}', "[1, 2"):
        r = client.post("/api/v1/screening/labs", raw, content_type="application/json")
        assert error(r, 400)["code"] == "malformed", raw
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    r = client.post("/api/v1/screening/labs", json.dumps({"name": "x" * 2000}), "application/json")
    assert error(r, 413)["code"] == "too_large"


def test_an_unauthenticated_post_is_a_401_not_a_csrf_failure(city, commander):
    anonymous = Client(enforce_csrf_checks=True)
    r = anonymous.post("/api/v1/screening/labs", "{}", content_type="application/json")
    assert error(r, 401)["code"] == "unauthenticated"
    # A session cookie without a signed-in user is no sign-in either.
    anonymous.cookies["sessionid"] = "not-a-session"
    r = anonymous.post("/api/v1/screening/labs", "{}", content_type="application/json")
    assert error(r, 401)["code"] == "unauthenticated"


def test_a_signed_in_post_without_its_csrf_token_is_a_json_403(city, commander):
    client = Client(enforce_csrf_checks=True)
    client.force_login(commander, backend="django.contrib.auth.backends.ModelBackend")
    r = client.post("/api/v1/screening/labs", "{}", content_type="application/json")
    assert error(r, 403)["code"] == "csrf_failed"


def test_field_messages_are_translated(city, commander):
    client = client_for(commander)
    r = client.post(
        "/api/v1/screening/labs",
        json.dumps({"name": "迪安", "code": "dian", "capacity_per_day": True}),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    fields = error(r, 400)["fields"]
    assert fields["capacity_per_day"] == "请填写数字，而不是 true 或 false。"
    assert fields["jurisdiction_id"] == "此项为必填项。"
