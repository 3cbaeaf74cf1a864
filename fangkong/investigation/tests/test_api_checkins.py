import datetime as dt

import pytest
from django.test import Client

from fangkong.conftest import client_for, make_person, make_staff
from fangkong.core import signing
from fangkong.core.crypto import decrypt
from fangkong.core.services import api_token_create
from fangkong.investigation.models import CheckIn, Contact, ExposureMatch, Venue, VenueCode
from fangkong.investigation.services.venues import venue_code_issue
from fangkong.investigation.tests.checkins_support import (
    make_case,
    make_checkin,
    make_stop,
    make_venue,
    patch,
    post,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def venue(city):
    return make_venue(city.xd_building)


@pytest.fixture
def issued(venue, commander):
    return venue_code_issue(actor=commander, venue_id=venue.pk)


# --- Venues ----------------------------------------------------------------------


def test_it_creates_a_venue(city, xiaodian_officer):
    r = post(
        client_for(xiaodian_officer),
        "/api/v1/venues",
        {"name": "坞城药店", "category": "pharmacy", "building_id": city.xd_building.pk},
    )
    assert r.status_code == 201, r.content
    assert r.json()["name"] == "坞城药店"
    assert Venue.objects.get().scope_path == city.xd_building.path


def test_creating_a_venue_with_bad_input_names_the_field(city, xiaodian_officer):
    c = client_for(xiaodian_officer)
    r = post(c, "/api/v1/venues", {"name": "x", "category": "casino", "building_id": 1})
    assert r.status_code == 400
    assert "category" in r.json()["error"]["fields"]
    r = post(c, "/api/v1/venues", {"name": "x", "category": "shop", "building_id": city.xd_grid.pk})
    assert r.status_code == 400
    assert "building_id" in r.json()["error"]["fields"]
    assert not Venue.objects.exists()


def test_it_lists_only_venues_of_the_users_area(city, xiaodian_officer):
    mine = make_venue(city.xd_building)
    make_venue(city.yz_building, name="迎泽商场")
    r = client_for(xiaodian_officer).get("/api/v1/venues")
    assert r.status_code == 200
    assert [v["id"] for v in r.json()["items"]] == [mine.pk]


def test_a_venue_of_another_district_does_not_exist(venue, yingze_officer):
    c = client_for(yingze_officer)
    assert c.get(f"/api/v1/venues/{venue.pk}").status_code == 404
    assert patch(c, f"/api/v1/venues/{venue.pk}", {"name": "x"}).status_code == 404
    assert post(c, f"/api/v1/venues/{venue.pk}/codes", {}).status_code == 404


def test_it_updates_a_venue(venue, xiaodian_officer):
    c = client_for(xiaodian_officer)
    assert c.get(f"/api/v1/venues/{venue.pk}").json()["name"] == venue.name
    r = patch(c, f"/api/v1/venues/{venue.pk}", {"capacity": 80, "reason": "核定"})
    assert r.status_code == 200
    assert r.json()["capacity"] == 80


def test_updating_a_venue_with_bad_input_names_the_field(venue, xiaodian_officer):
    r = patch(client_for(xiaodian_officer), f"/api/v1/venues/{venue.pk}", {"capacity": -1})
    assert r.status_code == 400
    assert "capacity" in r.json()["error"]["fields"]
    r = patch(client_for(xiaodian_officer), f"/api/v1/venues/{venue.pk}", {"name": None})
    assert r.status_code == 400
    assert "name" in r.json()["error"]["fields"]


# --- Venue codes -------------------------------------------------------------------


def test_it_issues_lists_prints_and_revokes_codes(venue, xiaodian_officer):
    c = client_for(xiaodian_officer)
    r = post(c, f"/api/v1/venues/{venue.pk}/codes", {})
    assert r.status_code == 201
    code = r.json()
    assert code["token"].startswith("v.")
    listed = c.get(f"/api/v1/venues/{venue.pk}/codes").json()
    assert [x["id"] for x in listed] == [code["id"]] and "token" not in listed[0]
    qr = c.get(f"/api/v1/venue-codes/{code['id']}/qr.svg")
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml"
    assert b"<svg" in qr.content
    r = post(c, f"/api/v1/venue-codes/{code['id']}/reissue", {"reason": "破损"})
    assert r.status_code == 201 and r.json()["serial"] == 2
    assert VenueCode.objects.get(pk=code["id"]).revoked_at is not None
    assert c.get(f"/api/v1/venue-codes/{code['id']}/qr.svg").status_code == 400


def test_revoking_a_code_without_a_reason_names_the_field(issued, xiaodian_officer):
    r = post(client_for(xiaodian_officer), f"/api/v1/venue-codes/{issued[0].pk}/revoke", {})
    assert r.status_code == 400
    assert "reason" in r.json()["error"]["fields"]
    assert VenueCode.objects.get().revoked_at is None


def test_listing_venues_with_a_bad_category_names_the_field(xiaodian_officer):
    r = client_for(xiaodian_officer).get("/api/v1/venues", {"category": "casino"})
    assert r.status_code == 400
    assert "category" in r.json()["error"]["fields"]


def test_reissuing_a_code_without_a_reason_names_the_field(issued, xiaodian_officer):
    r = post(client_for(xiaodian_officer), f"/api/v1/venue-codes/{issued[0].pk}/reissue", {})
    assert r.status_code == 400
    assert "reason" in r.json()["error"]["fields"]
    assert VenueCode.objects.count() == 1


def test_codes_of_another_districts_venue_do_not_exist(issued, yingze_officer):
    c = client_for(yingze_officer)
    pk = issued[0].pk
    assert c.get(f"/api/v1/venues/{issued[0].venue_id}/codes").status_code == 404
    assert post(c, f"/api/v1/venue-codes/{pk}/reissue", {"reason": "x"}).status_code == 404
    assert VenueCode.objects.count() == 1
    assert post(c, f"/api/v1/venue-codes/{pk}/revoke", {"reason": "x"}).status_code == 404
    assert c.get(f"/api/v1/venue-codes/{pk}/qr.svg").status_code == 404
    assert VenueCode.objects.get().revoked_at is None


# --- Check-ins ---------------------------------------------------------------------


def test_a_resident_checks_in_with_their_phone_without_signing_in(city, issued):
    person = make_person(city.xd_building)
    r = post(
        Client(),
        "/api/v1/checkins",
        {"venue_token": issued[1], "person_token": signing.person_token(person.pk)},
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["venue_name"] == "老鼠仓超市"
    assert body["visits"][0]["extended"] is False
    assert CheckIn.objects.get().person_id == person.pk


def test_a_self_scan_needs_no_csrf_token_but_a_staff_session_does(city, issued, grid_worker):
    person = make_person(city.xd_building)
    phone = Client(enforce_csrf_checks=True)
    r = post(
        phone,
        "/api/v1/checkins",
        {"venue_token": issued[1], "person_token": signing.person_token(person.pk)},
    )
    assert r.status_code == 201, r.content
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(grid_worker, backend="django.contrib.auth.backends.ModelBackend")
    r = post(
        browser,
        "/api/v1/checkins",
        {
            "venue_token": issued[1],
            "doc_type": "prc_id",
            "doc_number": decrypt(person.doc_number_encrypted),
        },
    )
    assert r.status_code == 403
    assert CheckIn.objects.count() == 1


def test_bad_check_ins_name_the_field_and_store_nothing(city, issued):
    person = make_person(city.xd_building)
    c = Client()
    cases = [
        (
            {"venue_token": "v.1.xx.yy", "person_token": signing.person_token(person.pk)},
            "venue_token",
        ),
        ({"venue_token": issued[1], "person_token": "p.1.forged.sig"}, "person_token"),
        ({"venue_token": issued[1]}, "person_token"),
        ({"person_token": signing.person_token(person.pk)}, "venue_token"),
        (
            {
                "venue_token": issued[1],
                "person_token": signing.person_token(person.pk),
                "time": (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat(),
            },
            "time",
        ),
    ]
    for body, field in cases:
        r = post(c, "/api/v1/checkins", body)
        assert r.status_code == 400, body
        assert field in r.json()["error"]["fields"], (body, r.json())
    assert not CheckIn.objects.exists()


def test_a_staff_assisted_scan_needs_a_signed_in_staff_member(city, issued, grid_worker):
    person = make_person(city.xd_building)
    body = {
        "venue_token": issued[1],
        "doc_type": "prc_id",
        "doc_number": decrypt(person.doc_number_encrypted),
    }
    assert post(Client(), "/api/v1/checkins", body).status_code == 401
    assert not CheckIn.objects.exists()
    r = post(client_for(grid_worker), "/api/v1/checkins", body)
    assert r.status_code == 201
    assert CheckIn.objects.get().source == "staff"


def test_a_staff_assisted_scan_works_with_an_api_token(city, issued, grid_worker):
    person = make_person(city.xd_building)
    _token, clear = api_token_create(actor=grid_worker, name="扫码枪")
    r = Client().post(
        "/api/v1/checkins",
        {
            "venue_token": issued[1],
            "doc_type": "prc_id",
            "doc_number": decrypt(person.doc_number_encrypted),
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {clear}",
    )
    assert r.status_code == 201
    assert CheckIn.objects.get().person_id == person.pk


def test_staff_of_another_district_cannot_assist_at_this_venue(city, issued, yingze_officer):
    person = make_person(city.xd_building)
    r = post(
        client_for(yingze_officer),
        "/api/v1/checkins",
        {
            "venue_token": issued[1],
            "doc_type": "prc_id",
            "doc_number": decrypt(person.doc_number_encrypted),
        },
    )
    assert r.status_code == 404
    assert not CheckIn.objects.exists()


def test_an_investigator_sees_a_persons_check_ins(city, venue, investigator):
    person = make_person(city.xd_building)
    t = dt.datetime(2022, 10, 5, 10, 0, tzinfo=dt.UTC)
    make_checkin(venue, person, t)
    make_checkin(venue, person, t + dt.timedelta(hours=5))
    c = client_for(investigator)
    r = c.get(f"/api/v1/people/{person.pk}/checkins")
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["time"][:16] for i in items] == ["2022-10-05T15:00", "2022-10-05T10:00"]
    assert items[0]["venue_name"] == venue.name
    r = c.get(f"/api/v1/people/{person.pk}/checkins", {"since": "2022-10-05T12:00:00Z"})
    assert r.json()["count"] == 1


def test_listing_check_ins_with_a_bad_date_names_the_field(city, investigator):
    person = make_person(city.xd_building)
    r = client_for(investigator).get(f"/api/v1/people/{person.pk}/checkins", {"since": "soon"})
    assert r.status_code == 400
    assert "since" in r.json()["error"]["fields"]


def test_check_ins_of_a_person_of_another_district_do_not_exist(city, venue):
    person = make_person(city.xd_building)
    make_checkin(venue, person, dt.datetime(2022, 10, 5, 10, 0, tzinfo=dt.UTC))
    yingze_investigator = make_staff("yz_investigator", city.yingze, "investigator")
    r = client_for(yingze_investigator).get(f"/api/v1/people/{person.pk}/checkins")
    assert r.status_code == 404


def test_staff_without_checkin_view_cannot_list_check_ins(city, xiaodian_officer):
    person = make_person(city.xd_building)
    r = client_for(xiaodian_officer).get(f"/api/v1/people/{person.pk}/checkins")
    assert r.status_code == 403


# --- Matching ----------------------------------------------------------------------

STOP_START = dt.datetime(2022, 10, 5, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def matched_case(city, venue):
    case = make_case(make_person(city.xd_building, name="病例"))
    make_stop(case, venue, STOP_START, STOP_START + dt.timedelta(hours=1))
    for name, stay in (("短暂", 5), ("久留", 50)):
        make_checkin(
            venue,
            make_person(city.xd_building, name=name),
            STOP_START,
            left_at=STOP_START + dt.timedelta(minutes=stay),
        )
    return case


def test_an_investigator_runs_matching_and_sees_the_ranked_list(matched_case, investigator):
    c = client_for(investigator)
    r = post(c, f"/api/v1/cases/{matched_case.pk}/match", {})
    assert r.status_code == 200, r.content
    assert r.json()["created"] == 2
    r = c.get(f"/api/v1/cases/{matched_case.pk}/matches", {"page_size": 1})
    body = r.json()
    assert body["count"] == 2 and body["has_next"] is True
    top = body["items"][0]
    assert top["person_name"] == "久留" and top["overlap_minutes"] == 50
    assert top["venue_name"] == "老鼠仓超市" and top["window_start"].startswith("2022-10-05T")
    r = c.get(f"/api/v1/cases/{matched_case.pk}/matches", {"status": "confirmed"})
    assert r.json()["count"] == 0


def test_listing_matches_with_a_bad_status_names_the_field(matched_case, investigator):
    r = client_for(investigator).get(f"/api/v1/cases/{matched_case.pk}/matches", {"status": "x"})
    assert r.status_code == 400
    assert "status" in r.json()["error"]["fields"]


def test_an_investigator_confirms_and_dismisses_matches(matched_case, investigator):
    c = client_for(investigator)
    post(c, f"/api/v1/cases/{matched_case.pk}/match", {})
    first, second = ExposureMatch.objects.order_by("-overlap_minutes")
    r = post(c, f"/api/v1/matches/{first.pk}/confirm", {})
    assert r.status_code == 200, r.content
    assert Contact.objects.get(pk=r.json()["contact_id"]).match_id == first.pk
    r = post(c, f"/api/v1/matches/{second.pk}/dismiss", {"reason": "只在门口"})
    assert r.status_code == 200
    assert r.json()["status"] == "dismissed"
    r = post(c, f"/api/v1/matches/{second.pk}/confirm", {})
    assert r.status_code == 409


def test_deciding_a_match_with_bad_input_names_the_field(matched_case, investigator):
    c = client_for(investigator)
    post(c, f"/api/v1/cases/{matched_case.pk}/match", {})
    m = ExposureMatch.objects.order_by("id")[0]
    r = post(c, f"/api/v1/matches/{m.pk}/dismiss", {})
    assert r.status_code == 400 and "reason" in r.json()["error"]["fields"]
    r = post(c, f"/api/v1/matches/{m.pk}/confirm", {"category": "best_friend"})
    assert r.status_code == 400 and "category" in r.json()["error"]["fields"]
    m.refresh_from_db()
    assert m.status == "pending" and not Contact.objects.exists()


def test_matches_of_a_case_of_another_district_do_not_exist(city, matched_case, investigator):
    post(client_for(investigator), f"/api/v1/cases/{matched_case.pk}/match", {})
    m = ExposureMatch.objects.order_by("id")[0]
    c = client_for(make_staff("yz_inv", city.yingze, "investigator"))
    assert post(c, f"/api/v1/cases/{matched_case.pk}/match", {}).status_code == 404
    assert c.get(f"/api/v1/cases/{matched_case.pk}/matches").status_code == 404
    assert post(c, f"/api/v1/matches/{m.pk}/confirm", {}).status_code == 404
    assert post(c, f"/api/v1/matches/{m.pk}/dismiss", {"reason": "x"}).status_code == 404
    m.refresh_from_db()
    assert m.status == "pending"
