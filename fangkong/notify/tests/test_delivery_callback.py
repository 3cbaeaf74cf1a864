from typing import Any

import pytest
from django.test import Client, override_settings

from fangkong.notify.models import Message
from fangkong.notify.services import notify_person
from fangkong.notify.tests.helpers import post, resident

pytestmark = pytest.mark.django_db

URL = "/api/v1/notify/callbacks/delivery"
TOKEN = "cb-token-0123456789"
NOTICE: dict[str, Any] = {
    "purpose": "registry",
    "template_code": "registry_notice",
    "context": {"text": "x"},
}


@pytest.fixture
def sent_message(city, xiaodian_officer, django_capture_on_commit_callbacks):
    person = resident(city.xd_building)
    with django_capture_on_commit_callbacks(execute=True):
        message = notify_person(actor=xiaodian_officer, person_id=person.pk, **NOTICE)
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    return message


@override_settings(FANGKONG_SMS_CALLBACK_TOKEN=TOKEN)
def test_a_good_token_marks_the_message_delivered(sent_message):
    r = post(
        Client(),
        URL,
        {"reference": sent_message.reference, "status": "delivered"},
        HTTP_X_FANGKONG_TOKEN=TOKEN,
    )
    assert r.status_code == 200, r.content
    assert r.json() == {"reference": sent_message.reference, "status": "delivered"}
    sent_message.refresh_from_db()
    assert sent_message.status == Message.Status.DELIVERED
    assert sent_message.delivered_at is not None


@override_settings(FANGKONG_SMS_CALLBACK_TOKEN=TOKEN)
def test_reports_are_idempotent_and_found_by_provider_id(sent_message):
    body = {"provider_message_id": sent_message.provider_message_id, "status": "DELIVRD"}
    headers = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    first = post(Client(), URL, body, **headers)
    sent_message.refresh_from_db()
    delivered_at = sent_message.delivered_at
    second = post(Client(), URL, body, **headers)
    assert first.status_code == second.status_code == 200
    sent_message.refresh_from_db()
    assert sent_message.status == Message.Status.DELIVERED
    assert sent_message.delivered_at == delivered_at
    # A late failure report does not undo a delivery.
    post(Client(), URL, {**body, "status": "failed"}, **headers)
    sent_message.refresh_from_db()
    assert sent_message.status == Message.Status.DELIVERED


@override_settings(FANGKONG_SMS_CALLBACK_TOKEN=TOKEN)
def test_a_failure_report_marks_the_message_failed(sent_message):
    r = post(
        Client(),
        f"{URL}?token={TOKEN}",
        {"reference": sent_message.reference, "status": "undelivered", "error": "handset off"},
    )
    assert r.status_code == 200
    sent_message.refresh_from_db()
    assert sent_message.status == Message.Status.FAILED
    assert sent_message.error == "handset off"


@override_settings(FANGKONG_SMS_CALLBACK_TOKEN=TOKEN)
@pytest.mark.parametrize("headers", [{}, {"HTTP_X_FANGKONG_TOKEN": "wrong"}])
def test_a_missing_or_wrong_token_is_refused(sent_message, headers):
    r = post(Client(), URL, {"reference": sent_message.reference, "status": "delivered"}, **headers)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthenticated"
    sent_message.refresh_from_db()
    assert sent_message.status == Message.Status.SENT


@override_settings(FANGKONG_SMS_CALLBACK_TOKEN="")
def test_callbacks_are_refused_when_no_token_is_configured(sent_message):
    r = post(
        Client(),
        URL,
        {"reference": sent_message.reference, "status": "delivered"},
        HTTP_X_FANGKONG_TOKEN="",
    )
    assert r.status_code == 403
    sent_message.refresh_from_db()
    assert sent_message.status == Message.Status.SENT


@override_settings(FANGKONG_SMS_CALLBACK_TOKEN=TOKEN)
def test_an_unknown_message_is_not_found(db):
    r = post(
        Client(), URL, {"reference": "nope", "status": "delivered"}, HTTP_X_FANGKONG_TOKEN=TOKEN
    )
    assert r.status_code == 404


@override_settings(FANGKONG_SMS_CALLBACK_TOKEN=TOKEN)
@pytest.mark.parametrize(
    ("body", "field"),
    [({"reference": "x", "status": "maybe"}, "status"), ({"status": "delivered"}, "reference")],
)
def test_bad_reports_name_the_field(sent_message, body, field):
    r = post(Client(), URL, body, HTTP_X_FANGKONG_TOKEN=TOKEN)
    assert r.status_code == 400
    assert field in r.json()["error"]["fields"]
    sent_message.refresh_from_db()
    assert sent_message.status == Message.Status.SENT
