import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fangkong.notify.jobs import release_deferred, release_due
from fangkong.notify.models import Batch, Message, QuietHours
from fangkong.notify.services import QuietWindow, batch_create, notify_person, notify_system
from fangkong.notify.tests.helpers import resident, run_due_tasks

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT = dt.datetime(2026, 3, 10, 23, 30, tzinfo=SHANGHAI)
MORNING = dt.datetime(2026, 3, 11, 7, 0, tzinfo=SHANGHAI)
NOTICE: dict[str, Any] = {
    "purpose": "registry",
    "template_code": "registry_notice",
    "context": {"text": "x"},
}


def test_a_notice_at_night_waits_until_quiet_hours_end(
    city, xiaodian_officer, outbox, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(NIGHT, tick=False)
    person = resident(city.xd_building)
    with django_capture_on_commit_callbacks(execute=True):
        message = notify_person(actor=xiaodian_officer, person_id=person.pk, **NOTICE)
    assert message.status == Message.Status.DEFERRED
    assert message.not_before == MORNING
    assert outbox == []

    time_machine.move_to(MORNING - dt.timedelta(minutes=1), tick=False)
    release_deferred()
    assert outbox == []

    time_machine.move_to(MORNING + dt.timedelta(seconds=20), tick=False)
    release_deferred()
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert len(outbox) == 1


def test_a_legally_required_notice_is_sent_at_night(
    city, xiaodian_officer, outbox, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(NIGHT, tick=False)
    person = resident(city.xd_building)
    with django_capture_on_commit_callbacks(execute=True):
        notify_person(actor=xiaodian_officer, person_id=person.pk, legally_required=True, **NOTICE)
    assert len(outbox) == 1


def test_a_one_time_code_is_sent_at_night(
    city, outbox, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(NIGHT, tick=False)
    person = resident(city.xd_building)
    with django_capture_on_commit_callbacks(execute=True):
        notify_system(
            person=person,
            purpose="login",
            template_code="one_time_code",
            context={"code": "123456", "minutes": 5},
        )
    assert len(outbox) == 1


def test_a_batch_at_night_records_that_quiet_hours_applied(
    city, xiaodian_officer, outbox, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(dt.datetime(2026, 3, 11, 2, 0, tzinfo=SHANGHAI), tick=False)
    people = [resident(city.xd_building) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        batch = batch_create(
            actor=xiaodian_officer, person_ids=[p.pk for p in people], rate_per_minute=60, **NOTICE
        )
    assert batch.quiet_hours_applied and batch.deferred == 3
    assert outbox == []
    time_machine.move_to(MORNING, tick=False)
    assert release_due() == 3
    assert len(outbox) == 3
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED


def test_a_jurisdiction_may_set_its_own_quiet_hours(
    city, commander, outbox, time_machine, django_capture_on_commit_callbacks
):
    QuietHours.objects.create(jurisdiction=city.xiaodian, start=dt.time(12, 0), end=dt.time(14, 0))
    time_machine.move_to(dt.datetime(2026, 3, 10, 12, 30, tzinfo=SHANGHAI), tick=False)
    xd = resident(city.xd_building, phone="13900000001")
    yz = resident(city.yz_building, phone="13900000002")
    with django_capture_on_commit_callbacks(execute=True):
        batch = batch_create(actor=commander, person_ids=[xd.pk, yz.pk], **NOTICE)
    assert (batch.queued, batch.deferred) == (2, 1)
    assert Message.objects.get(person=xd).not_before == dt.datetime(
        2026, 3, 10, 14, 0, tzinfo=SHANGHAI
    )
    assert [sms.to for sms in outbox] == ["+8613900000002"]  # Yingze keeps the default hours


@pytest.mark.parametrize(
    ("local", "release"),
    [
        ("21:59", None),
        ("22:00", "2026-03-11 07:00"),
        ("23:59", "2026-03-11 07:00"),
        ("00:00", "2026-03-10 07:00"),
        ("06:59", "2026-03-10 07:00"),
        ("07:00", None),
        ("12:00", None),
    ],
)
def test_quiet_hours_span_midnight(local, release):
    window = QuietWindow(dt.time(22, 0), dt.time(7, 0), SHANGHAI)
    hour, minute = map(int, local.split(":"))
    now = dt.datetime(2026, 3, 10, hour, minute, tzinfo=SHANGHAI).astimezone(dt.UTC)
    expected = dt.datetime.fromisoformat(release).replace(tzinfo=SHANGHAI) if release else None
    assert window.release_time(now) == expected


def test_a_batch_whose_tail_runs_into_the_night_waits_for_the_morning(
    city, xiaodian_officer, outbox, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(dt.datetime(2026, 3, 10, 21, 59, 30, tzinfo=SHANGHAI), tick=False)
    people = [resident(city.xd_building) for _ in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        batch = batch_create(
            actor=xiaodian_officer, person_ids=[p.pk for p in people], rate_per_minute=6, **NOTICE
        )
    assert len(outbox) == 1  # slots at :30, :40, :50, 22:00:00 and 22:00:10
    time_machine.shift(dt.timedelta(seconds=25))  # 21:59:55
    run_due_tasks()
    assert len(outbox) == 3
    time_machine.shift(dt.timedelta(seconds=20))  # 22:00:15, quiet
    run_due_tasks()
    assert len(outbox) == 3
    waiting = Message.objects.filter(batch=batch, status=Message.Status.DEFERRED)
    assert waiting.count() == 2
    assert {m.not_before for m in waiting} == {MORNING}
    assert {m.attempts for m in waiting} == {0}
    time_machine.move_to(MORNING, tick=False)
    release_due()
    assert len(outbox) == 4  # still at the batch's rate: the next one 10 s later
    time_machine.shift(dt.timedelta(seconds=10))
    run_due_tasks()
    assert len(outbox) == 5
