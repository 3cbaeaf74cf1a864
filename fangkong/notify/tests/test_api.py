from typing import Any

import pytest

from fangkong.conftest import client_for
from fangkong.core.models import KeyGroup
from fangkong.notify.models import Batch, Message
from fangkong.notify.services import batch_create
from fangkong.notify.tests.helpers import post, resident

pytestmark = pytest.mark.django_db

BATCHES = "/api/v1/notify/batches"
BODY: dict[str, Any] = {
    "purpose": "screening_reminder",
    "template_code": "registry_notice",
    "context": {"text": "明天8点核酸检测。"},
}


def test_it_creates_a_batch_from_a_list_and_shows_its_counts(
    city, xiaodian_officer, outbox, django_capture_on_commit_callbacks
):
    a, b = resident(city.xd_building), resident(city.xd_building2)
    with django_capture_on_commit_callbacks(execute=True):
        r = post(client_for(xiaodian_officer), BATCHES, {**BODY, "person_ids": [a.pk, b.pk, a.pk]})
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["total"], body["deduplicated"], body["queued"]) == (3, 1, 2)
    assert body["created_by"] == "xiaodian" and body["status"] == "queued"
    # The response was built before the worker ran: it reports what was queued.
    assert body["progress"]["queued"] == 2 and body["sent"] == 0
    assert len(outbox) == 2

    detail = client_for(xiaodian_officer).get(f"{BATCHES}/{body['id']}").json()
    assert detail["status"] == "completed"
    assert detail["sent"] == 2 and detail["progress"]["sent"] == 2
    assert detail["percent_done"] == 100.0
    listed = client_for(xiaodian_officer).get(BATCHES).json()["items"][0]
    assert (listed["sent"], listed["delivered"], listed["failed"]) == (2, 0, 0)


def test_the_request_only_queues_the_sending_happens_after_commit_in_the_worker(
    city, xiaodian_officer, outbox, django_capture_on_commit_callbacks
):
    person = resident(city.xd_building)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = post(client_for(xiaodian_officer), BATCHES, {**BODY, "person_ids": [person.pk]})
    assert r.status_code == 201
    assert outbox == []  # nothing sent while the request ran
    assert Message.objects.get().status == Message.Status.QUEUED
    assert len(callbacks) == 1
    callbacks[0]()  # the commit hands the batch to the worker
    assert len(outbox) == 1


def test_a_batch_larger_than_a_request_prepares_is_accepted_and_shows_its_progress(
    city, xiaodian_officer, outbox, settings, django_capture_on_commit_callbacks
):
    settings.FANGKONG_SMS_INLINE_BATCH = 2
    people = [resident(city.xd_building) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = post(
            client_for(xiaodian_officer), BATCHES, {**BODY, "person_ids": [p.pk for p in people]}
        )
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["status"], body["total"], body["prepared"], body["queued"]) == (
        "preparing",
        3,
        0,
        0,
    )
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()  # the worker prepares the batch, then sends it
    detail = client_for(xiaodian_officer).get(f"{BATCHES}/{body['id']}").json()
    assert (detail["status"], detail["prepared"], detail["sent"]) == ("completed", 3, 3)
    assert len(outbox) == 3


def test_it_creates_a_batch_from_a_filter(
    city, xiaodian_officer, django_capture_on_commit_callbacks
):
    teacher = resident(city.xd_building)
    teacher.key_groups.set(KeyGroup.objects.filter(code="teachers"))
    resident(city.xd_building)
    filt = {"jurisdiction_id": city.xd_grid.pk, "key_group": "teachers"}
    r = post(client_for(xiaodian_officer), BATCHES, {**BODY, "filter": filt})
    assert r.status_code == 201, r.content
    assert r.json()["total"] == 1
    assert Message.objects.get().person_id == teacher.pk


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"template_code": "nope"}, "template_code"),
        ({"context": {}}, "context"),
        ({"purpose": "Bad Purpose"}, "purpose"),
        ({"person_ids": None}, "person_ids"),
        ({"filter": {"key_group": "astronauts"}}, "filter.key_group"),
        ({"filter": {"key_group": "teachers"}}, "filter"),  # matches no one
        ({"rate_per_minute": 0}, "rate_per_minute"),
        ({"person_ids": "1,2"}, "person_ids"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(city, xiaodian_officer, change, field):
    person = resident(city.xd_building)
    body = {**BODY, "person_ids": [person.pk], **change}
    if "filter" in change:
        body.pop("person_ids")
    r = post(client_for(xiaodian_officer), BATCHES, body)
    assert r.status_code == 400, r.content
    assert field in r.json()["error"]["fields"]
    assert not Batch.objects.exists() and not Message.objects.exists()


def test_people_of_another_district_do_not_exist(city, yingze_officer):
    person = resident(city.xd_building)
    r = post(client_for(yingze_officer), BATCHES, {**BODY, "person_ids": [person.pk]})
    assert r.status_code == 404
    r = post(
        client_for(yingze_officer),
        BATCHES,
        {**BODY, "filter": {"jurisdiction_id": city.xiaodian.pk}},
    )
    assert r.status_code == 404
    assert not Batch.objects.exists()


def test_batches_of_another_district_do_not_exist(city, xiaodian_officer, yingze_officer):
    person = resident(city.xd_building)
    batch = batch_create(actor=xiaodian_officer, person_ids=[person.pk], **BODY)
    other = client_for(yingze_officer)
    assert other.get(f"{BATCHES}/{batch.pk}").status_code == 404
    assert other.get(f"{BATCHES}/{batch.pk}/messages").status_code == 404
    assert other.get(BATCHES).json()["count"] == 0


def test_the_batch_list_is_paginated_and_scoped(city, commander, xiaodian_officer, yingze_officer):
    xd = resident(city.xd_building)
    yz = resident(city.yz_building)
    for _ in range(3):
        batch_create(actor=xiaodian_officer, person_ids=[xd.pk], **BODY)
    batch_create(actor=yingze_officer, person_ids=[yz.pk], **BODY)
    mine = client_for(xiaodian_officer).get(BATCHES, {"page_size": 2}).json()
    assert mine["count"] == 3 and len(mine["items"]) == 2 and mine["has_next"] is True
    assert mine["items"][0]["queued"] == 1
    everyone = client_for(commander).get(BATCHES).json()
    assert everyone["count"] == 4


def test_staff_without_notify_view_see_no_batches(city, grid_worker):
    r = client_for(grid_worker).get(BATCHES)
    assert r.status_code == 403


def test_the_messages_of_a_batch_are_listed_masked(city, xiaodian_officer):
    person = resident(city.xd_building, phone="13900004321")
    batch = batch_create(actor=xiaodian_officer, person_ids=[person.pk], **BODY)
    r = client_for(xiaodian_officer).get(f"{BATCHES}/{batch.pk}/messages")
    assert r.status_code == 200
    item = r.json()["items"][0]
    assert item["person_id"] == person.pk and item["status"] == "queued"
    assert item["phone_masked"] == person.phone_masked
    assert "13900004321" not in r.content.decode()
    bad = client_for(xiaodian_officer).get(f"{BATCHES}/{batch.pk}/messages", {"status": "lost"})
    assert bad.status_code == 400 and "status" in bad.json()["error"]["fields"]


def test_it_sends_a_single_notice(
    city, xiaodian_officer, outbox, django_capture_on_commit_callbacks
):
    person = resident(city.xd_building, name="Dana", language="en")
    with django_capture_on_commit_callbacks(execute=True):
        r = post(
            client_for(xiaodian_officer),
            f"/api/v1/notify/people/{person.pk}",
            {"purpose": "registry", "template_code": "registry_notice", "context": {"text": "hi"}},
        )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["body"] == "[Fangkong] Dear Dana, hi" and body["language"] == "en"
    assert [sms.body for sms in outbox] == ["[Fangkong] Dear Dana, hi"]


def test_a_single_notice_with_bad_input_names_the_field(city, xiaodian_officer):
    person = resident(city.xd_building)
    r = post(
        client_for(xiaodian_officer),
        f"/api/v1/notify/people/{person.pk}",
        {"purpose": "registry", "template_code": "registry_notice", "context": {"txt": "hi"}},
    )
    assert r.status_code == 400
    assert "text" in r.json()["error"]["fields"]["context"]
    assert not Message.objects.exists()


def test_a_single_notice_to_another_district_is_not_found(city, yingze_officer):
    person = resident(city.xd_building)
    r = post(
        client_for(yingze_officer),
        f"/api/v1/notify/people/{person.pk}",
        {"purpose": "registry", "template_code": "registry_notice", "context": {"text": "x"}},
    )
    assert r.status_code == 404
    assert not Message.objects.exists()


def test_it_lists_the_templates_with_their_placeholders(city, xiaodian_officer):
    r = client_for(xiaodian_officer).get("/api/v1/notify/templates", {"code": "one_time_code"})
    assert r.status_code == 200
    items = r.json()["items"]
    assert [t["language"] for t in items] == ["en", "zh-hans"]
    assert items[0]["placeholders"] == ["code", "minutes"] and items[0]["transactional"]
