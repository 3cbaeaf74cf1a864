import datetime as dt
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from fangkong.notify import backends
from fangkong.notify.backends import PermanentError, Sms, TransientError
from fangkong.notify.models import Message
from fangkong.notify.services import notify_person
from fangkong.notify.tests.helpers import resident, run_due_tasks, scheduled_etas

pytestmark = pytest.mark.django_db

NOTICE: dict[str, Any] = {
    "purpose": "registry",
    "template_code": "registry_notice",
    "context": {"text": "x"},
}


class FlakyBackend(backends.BaseBackend):
    """Fails the first ``failures`` sends (transiently), then delivers to the outbox."""

    calls = 0
    failures = 2

    def send(self, sms: Sms) -> str:
        FlakyBackend.calls += 1
        if FlakyBackend.calls <= FlakyBackend.failures:
            raise TransientError(f"gateway busy, try later ({sms.to})")
        return backends.LocmemBackend().send(sms)


class RefusingBackend(backends.BaseBackend):
    def send(self, sms: Sms) -> str:
        raise PermanentError(f"number {sms.to} is not a mobile number")


FLAKY = "fangkong.notify.tests.test_retries.FlakyBackend"


@pytest.fixture(autouse=True)
def _reset_flaky():
    FlakyBackend.calls = 0
    FlakyBackend.failures = 2


def _utc_naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None)


@override_settings(FANGKONG_SMS_BACKEND=FLAKY, FANGKONG_SMS_RETRY_BASE_SECONDS=30)
def test_it_retries_with_exponential_backoff_until_the_gateway_accepts(
    city, xiaodian_officer, outbox, time_machine, django_capture_on_commit_callbacks
):
    person = resident(city.xd_building, phone="13900001111")
    start = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        message = notify_person(actor=xiaodian_officer, person_id=person.pk, **NOTICE)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.QUEUED, 1)
    assert "gateway busy" in message.error and "13900001111" not in message.error
    assert scheduled_etas() == [_utc_naive(start + dt.timedelta(seconds=30))]

    time_machine.shift(dt.timedelta(seconds=29))
    assert run_due_tasks() == 0  # not before its time
    time_machine.shift(dt.timedelta(seconds=1))
    assert run_due_tasks() == 1
    message.refresh_from_db()
    assert message.attempts == 2
    # Second failure: wait twice as long.
    assert scheduled_etas() == [_utc_naive(start + dt.timedelta(seconds=30 + 60))]

    time_machine.shift(dt.timedelta(seconds=60))
    run_due_tasks()
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error) == (Message.Status.SENT, 3, "")
    assert len(outbox) == 1 and scheduled_etas() == []


@override_settings(FANGKONG_SMS_BACKEND=FLAKY, FANGKONG_SMS_MAX_ATTEMPTS=2)
def test_it_gives_up_after_the_maximum_number_of_attempts(
    city, xiaodian_officer, outbox, time_machine, django_capture_on_commit_callbacks
):
    FlakyBackend.failures = 10
    person = resident(city.xd_building)
    with django_capture_on_commit_callbacks(execute=True):
        message = notify_person(actor=xiaodian_officer, person_id=person.pk, **NOTICE)
    time_machine.shift(dt.timedelta(minutes=5))
    run_due_tasks()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.FAILED, 2)
    assert message.failed_at is not None and scheduled_etas() == []
    assert outbox == []


@override_settings(FANGKONG_SMS_BACKEND="fangkong.notify.tests.test_retries.RefusingBackend")
def test_a_permanent_refusal_fails_at_once_without_the_number_in_the_error(
    city, xiaodian_officer, django_capture_on_commit_callbacks
):
    person = resident(city.xd_building, phone="13900002222")
    with django_capture_on_commit_callbacks(execute=True):
        message = notify_person(actor=xiaodian_officer, person_id=person.pk, **NOTICE)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.FAILED, 1)
    assert "not a mobile number" in message.error
    assert "13900002222" not in message.error and person.phone_masked in message.error
    assert scheduled_etas() == []


def test_a_message_scheduled_twice_is_sent_once(
    city, xiaodian_officer, outbox, django_capture_on_commit_callbacks
):
    from fangkong.notify.jobs import send_messages

    person = resident(city.xd_building)
    with django_capture_on_commit_callbacks(execute=True):
        message = notify_person(actor=xiaodian_officer, person_id=person.pk, **NOTICE)
    send_messages(message_ids=[message.pk])
    assert len(outbox) == 1


def test_a_message_whose_task_was_lost_is_sent_by_the_periodic_sweep(
    city, xiaodian_officer, outbox, time_machine
):
    from fangkong.notify.jobs import release_due

    person = resident(city.xd_building)
    # No on_commit capture: as if the worker never got the task.
    message = notify_person(actor=xiaodian_officer, person_id=person.pk, **NOTICE)
    assert outbox == []
    time_machine.shift(dt.timedelta(minutes=6))
    assert release_due() == 1
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and len(outbox) == 1


def test_a_queue_outage_does_not_fail_the_request_and_the_sweep_catches_up(
    city, xiaodian_officer, outbox, time_machine, monkeypatch, django_capture_on_commit_callbacks
):
    from fangkong.notify import jobs

    def queue_down(**kwargs: object) -> None:
        raise ConnectionError("redis is down")

    person = resident(city.xd_building)
    with monkeypatch.context() as patch:
        patch.setattr(jobs, "send_messages", queue_down)
        with django_capture_on_commit_callbacks(execute=True):
            message = notify_person(actor=xiaodian_officer, person_id=person.pk, **NOTICE)
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED and outbox == []
    time_machine.shift(dt.timedelta(minutes=6))
    jobs.release_due()
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and len(outbox) == 1
