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


def patch(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


def test_patch_corrects_a_name_and_the_timeline_shows_it(city, grid_worker):
    p = make_person(city.xd_building)
    c = client_for(grid_worker)
    r = patch(c, f"/api/v1/people/{p.pk}", {"name": "张三丰", "reason": "typo"})
    assert r.status_code == 200 and r.json()["name"] == "张三丰"
    timeline = c.get(f"/api/v1/people/{p.pk}/timeline").json()["items"]
    assert timeline[0]["action"] == "person.update"
    assert timeline[0]["changes"]["name"] == ["张三", "张三丰"]


def test_patch_with_a_bad_phone_names_the_field_and_changes_nothing(city, grid_worker):
    p = make_person(city.xd_building, phone="13800138000")
    r = patch(client_for(grid_worker), f"/api/v1/people/{p.pk}", {"phone": "999"})
    assert r.status_code == 400 and "phone" in r.json()["error"]["fields"]
    p.refresh_from_db()
    assert p.phone_masked.endswith("8000")


def test_patch_from_another_district_is_not_found(city, yingze_officer):
    p = make_person(city.xd_building)
    r = patch(client_for(yingze_officer), f"/api/v1/people/{p.pk}", {"name": "x"})
    assert r.status_code == 404


def test_unmask_api_requires_capability_and_reason(city, grid_worker, investigator):
    p = make_person(city.xd_building)
    url = f"/api/v1/people/{p.pk}/unmask"
    assert post(client_for(grid_worker), url, {"reason": "curious"}).status_code == 403
    r = post(client_for(investigator), url, {"reason": ""})
    assert r.status_code == 400 and "reason" in r.json()["error"]["fields"]
    r = post(client_for(investigator), url, {"reason": "tracing call"})
    assert r.status_code == 200 and "*" not in r.json()["doc_number"]


def test_merge_api(city, xiaodian_officer, yingze_officer):
    a, b = make_person(city.xd_building), make_person(city.xd_building)
    body = {"keep_id": a.pk, "duplicate_id": b.pk, "reason": "same person"}
    assert post(client_for(yingze_officer), "/api/v1/people/merge", body).status_code == 404
    r = post(client_for(xiaodian_officer), "/api/v1/people/merge", body)
    assert r.status_code == 200 and r.json()["id"] == a.pk
    assert client_for(xiaodian_officer).get("/api/v1/people").json()["count"] == 1


def test_search_finds_a_person_by_full_document_number_only(city, grid_worker):
    from fangkong.core.crypto import decrypt

    p = make_person(city.xd_building, name="欧阳娜娜")
    doc = decrypt(p.doc_number_encrypted)
    c = client_for(grid_worker)
    assert [x["id"] for x in c.get(f"/api/v1/people?q={doc}").json()["items"]] == [p.pk]
    assert c.get(f"/api/v1/people?q={doc[:10]}").json()["count"] == 0
    assert c.get("/api/v1/people?q=欧阳").json()["count"] == 1


def test_filters_by_node_and_key_group_and_pages(city, xiaodian_officer):
    for _ in range(3):
        make_person(city.xd_building, key_groups=["delivery"])
    make_person(city.xd_building2, key_groups=["delivery"])
    make_person(city.xd_building)
    c = client_for(xiaodian_officer)
    r = c.get(
        f"/api/v1/people?jurisdiction_id={city.xd_building.pk}&key_group=delivery&page_size=2"
    )
    body = r.json()
    assert (body["count"], len(body["items"]), body["has_next"]) == (3, 2, True)
    r = c.get(f"/api/v1/people?jurisdiction_id={city.yz_building.pk}")
    assert r.status_code == 404
    r = c.get("/api/v1/people?page_size=100000")
    assert r.status_code == 400 and "page_size" in r.json()["error"]["fields"]
