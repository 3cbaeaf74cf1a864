import datetime as dt
import json

import pytest

from fangkong.conftest import client_for, make_person
from fangkong.core.identity import make_prc_id
from fangkong.core.models import Person

pytestmark = pytest.mark.django_db


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_it_lists_only_people_in_the_users_subtree(city, xiaodian_officer):
    mine = make_person(city.xd_building, name="小店居民")
    make_person(city.yz_building, name="迎泽居民", region="140106")
    r = client_for(xiaodian_officer).get("/api/v1/people")
    assert r.status_code == 200
    body = r.json()
    assert [p["id"] for p in body["items"]] == [mine.pk]
    assert body["count"] == 1 and body["has_next"] is False


def test_a_person_of_another_district_does_not_exist(city, yingze_officer):
    p = make_person(city.xd_building)
    r = client_for(yingze_officer).get(f"/api/v1/people/{p.pk}")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_bad_input_names_the_field(city, xiaodian_officer):
    r = post(
        client_for(xiaodian_officer),
        "/api/v1/people",
        {
            "doc_type": "prc_id",
            "doc_number": "140105199003071230",
            "name": "李四",
            "home_id": city.xd_building.pk,
        },
    )
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "invalid"
    assert "doc_number" in err["fields"]
    assert Person.objects.count() == 0


def test_it_creates_a_person(city, xiaodian_officer):
    doc = make_prc_id("140105", dt.date(1990, 3, 7), 124)
    r = post(
        client_for(xiaodian_officer),
        "/api/v1/people",
        {
            "doc_type": "prc_id",
            "doc_number": doc,
            "name": "李四",
            "phone": "13800138000",
            "home_id": city.xd_building.pk,
            "key_groups": ["teachers"],
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["sex"] == "F" and body["doc_masked"].startswith("1401")
    assert body["key_groups"] == ["teachers"]


def test_anonymous_requests_are_refused(city):
    from django.test import Client

    r = Client().get("/api/v1/people")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthenticated"
