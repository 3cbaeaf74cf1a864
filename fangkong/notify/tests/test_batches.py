import bisect
import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from fangkong.conftest import make_person
from fangkong.core.errors import NotFound, ValidationFailed
from fangkong.core.models import AuditEntry, Person
from fangkong.notify.jobs import plan_slots
from fangkong.notify.models import Batch, Message
from fangkong.notify.services import batch_create, batch_create_system, optout_set
from fangkong.notify.tests.helpers import resident, run_due_tasks, scheduled_etas

pytestmark = pytest.mark.django_db

NOTICE: dict[str, Any] = {
    "purpose": "screening_reminder",
    "template_code": "registry_notice",
    "context": {"text": "明天8点请到小区广场做核酸。"},
}


def test_a_batch_reaches_everyone_once_and_counts_what_it_skipped(
    city, xiaodian_officer, outbox, django_capture_on_commit_callbacks
):
    a = resident(city.xd_building, phone="13900000001")
    b = resident(city.xd_building, phone="13900000002")
    c = resident(city.xd_building, phone="13900000003")
    no_phone = make_person(city.xd_building)
    optout_set(actor=xiaodian_officer, person_id=c.pk, purpose="screening_reminder")
    with django_capture_on_commit_callbacks(execute=True):
        batch = batch_create(
            actor=xiaodian_officer, person_ids=[a.pk, b.pk, a.pk, c.pk, no_phone.pk], **NOTICE
        )
    assert (batch.total, batch.deduplicated, batch.queued) == (5, 1, 2)
    assert (batch.skipped_opt_out, batch.skipped_no_phone) == (1, 1)
    assert sorted(sms.to for sms in outbox) == ["+8613900000001", "+8613900000002"]
    assert Message.objects.filter(batch=batch, person=a).count() == 1
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED and batch.completed_at is not None
    assert batch.scope_path == city.xd_building.path


def test_requeuing_with_the_same_dedup_key_is_a_no_op(
    city, xiaodian_officer, outbox, django_capture_on_commit_callbacks
):
    people = [resident(city.xd_building) for _ in range(2)]
    ids = [p.pk for p in people]
    with django_capture_on_commit_callbacks(execute=True):
        first = batch_create(actor=xiaodian_officer, person_ids=ids, dedup_key="round-3", **NOTICE)
        second = batch_create(actor=xiaodian_officer, person_ids=ids, dedup_key="round-3", **NOTICE)
    assert first.queued == 2
    assert (second.queued, second.deduplicated) == (0, 2)
    assert second.status == Batch.Status.COMPLETED
    assert len(outbox) == 2


def test_without_a_dedup_key_each_batch_is_its_own(city, xiaodian_officer):
    person = resident(city.xd_building)
    first = batch_create(actor=xiaodian_officer, person_ids=[person.pk], **NOTICE)
    second = batch_create(actor=xiaodian_officer, person_ids=[person.pk], **NOTICE)
    assert first.queued == second.queued == 1


def test_a_legally_required_batch_reaches_people_who_opted_out(
    city, xiaodian_officer, outbox, django_capture_on_commit_callbacks
):
    person = resident(city.xd_building)
    optout_set(actor=xiaodian_officer, person_id=person.pk)
    with django_capture_on_commit_callbacks(execute=True):
        batch = batch_create(
            actor=xiaodian_officer, person_ids=[person.pk], legally_required=True, **NOTICE
        )
    assert batch.skipped_opt_out == 0 and batch.legally_required
    assert Message.objects.get(batch=batch).legally_required
    assert len(outbox) == 1


def test_each_person_reads_the_batch_in_their_own_language(
    city, xiaodian_officer, outbox, django_capture_on_commit_callbacks
):
    resident(city.xd_building, name="Carol", language="en")
    resident(city.xd_building, name="赵六")
    with django_capture_on_commit_callbacks(execute=True):
        batch_create(
            actor=xiaodian_officer,
            people=Person.objects.all(),
            purpose="screening_reminder",
            template_code="registry_notice",
            context={"text": "test at 8."},
        )
    assert sorted(sms.body for sms in outbox) == [
        "[Fangkong] Dear Carol, test at 8.",
        "【防控】赵六您好：test at 8.",
    ]


def test_people_outside_the_senders_area_do_not_exist(city, xiaodian_officer):
    mine = resident(city.xd_building)
    theirs = resident(city.yz_building)
    with pytest.raises(NotFound) as exc:
        batch_create(actor=xiaodian_officer, person_ids=[mine.pk, theirs.pk], **NOTICE)
    assert str(theirs.pk) in exc.value.fields["person_ids"]
    assert not Batch.objects.exists() and not Message.objects.exists()


def test_a_queryset_is_narrowed_to_the_senders_area(city, xiaodian_officer):
    resident(city.xd_building)
    resident(city.yz_building)
    batch = batch_create(actor=xiaodian_officer, people=Person.objects.all(), **NOTICE)
    assert batch.total == 1
    assert Message.objects.get().person.scope_path.startswith(city.xiaodian.path)


def test_a_placeholder_missing_for_any_recipient_language_is_refused(city, xiaodian_officer):
    from fangkong.notify.models import MessageTemplate

    MessageTemplate.objects.filter(code="registry_notice", language="en").update(
        body="Dear {person_name}, {text} ({deadline})",
        placeholders=["person_name", "text", "deadline"],
    )
    resident(city.xd_building, language="en")
    resident(city.xd_building)
    with pytest.raises(ValidationFailed) as exc:
        batch_create(actor=xiaodian_officer, people=Person.objects.all(), **NOTICE)
    assert "deadline" in exc.value.fields["context"]
    assert not Batch.objects.exists()


def test_the_rate_limit_spreads_a_batch_over_time(
    city, xiaodian_officer, outbox, django_capture_on_commit_callbacks
):
    people = [resident(city.xd_building) for _ in range(7)]
    with django_capture_on_commit_callbacks(execute=True):
        batch = batch_create(
            actor=xiaodian_officer, person_ids=[p.pk for p in people], rate_per_minute=12, **NOTICE
        )
    # 12 a minute: chunks of 2, one every 10 seconds; the first goes at once.
    assert len(outbox) == 2
    start = timezone.now()
    slots = (
        Message.objects.filter(batch=batch)
        .order_by("not_before")
        .values_list("not_before", flat=True)
    )
    assert [(s - start).total_seconds() for s in slots if s] == [0, 0, 10, 10, 20, 20, 30]
    etas = scheduled_etas()
    naive_start = start.astimezone(dt.UTC).replace(tzinfo=None)
    assert [(e - naive_start).total_seconds() for e in etas] == [10, 20, 30]
    batch.refresh_from_db()
    assert batch.status == Batch.Status.SENDING


def test_the_scheduled_chunks_send_the_rest_when_their_time_comes(
    city, xiaodian_officer, outbox, time_machine, django_capture_on_commit_callbacks
):
    people = [resident(city.xd_building) for _ in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        batch = batch_create(
            actor=xiaodian_officer, person_ids=[p.pk for p in people], rate_per_minute=6, **NOTICE
        )
    assert len(outbox) == 1
    time_machine.shift(dt.timedelta(seconds=25))
    run_due_tasks()
    assert len(outbox) == 3  # slots at 0, 10 and 20 seconds
    time_machine.shift(dt.timedelta(seconds=60))
    run_due_tasks()
    assert len(outbox) == 5
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED


def test_slots_never_put_more_than_the_rate_in_a_minute():
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for rate in (1, 5, 7, 60, 600, 1000):
        slots = plan_slots(3 * rate + 1, rate, start)
        assert slots == sorted(slots)
        for i, first in enumerate(slots):
            in_window = bisect.bisect_left(slots, first + dt.timedelta(minutes=1)) - i
            assert in_window <= rate, rate
        assert slots[-1] - start < dt.timedelta(minutes=3, seconds=1), rate  # not slower either


def test_a_batch_is_audited_once_without_phone_numbers(city, xiaodian_officer):
    people = [resident(city.xd_building, phone=f"1380000{n:04d}") for n in range(3)]
    batch = batch_create(actor=xiaodian_officer, person_ids=[p.pk for p in people], **NOTICE)
    entry = AuditEntry.objects.get(action="notify.batch_create")
    assert entry.object_id == str(batch.pk) and entry.actor_username == "xiaodian"
    assert entry.changes["queued"] == [None, 3]
    dump = str(entry.changes)
    assert "1380000" not in dump and "小区广场" not in dump


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"person_ids": []}, "person_ids"),
        ({}, "person_ids"),
        ({"person_ids": [1], "people": Person.objects.none()}, "person_ids"),
        ({"person_ids": [1], "purpose": "Not A Slug!"}, "purpose"),
        ({"person_ids": [1], "rate_per_minute": 0}, "rate_per_minute"),
        ({"person_ids": [1], "template_code": "nope"}, "template_code"),
        ({"person_ids": [1], "template_code": "one_time_code"}, "template_code"),
        ({"person_ids": [1], "context": {"bad key": "x"}}, "context"),
    ],
)
def test_bad_input_names_the_field(city, xiaodian_officer, kwargs, field):
    args = {**NOTICE, **kwargs}
    with pytest.raises(ValidationFailed) as exc:
        batch_create(actor=xiaodian_officer, **args)
    assert field in exc.value.fields
    assert not Batch.objects.exists()


def test_a_system_batch_for_a_fact_reaches_people_of_any_district_once(
    city, yingze_officer, outbox, django_capture_on_commit_callbacks
):
    # A fact with no human sender (many statuses changed at once): the calling
    # service has checked permissions; no staff account stands in for "the system".
    xiaodian = resident(city.xd_building, phone="13900000011")
    yingze = resident(city.yz_building, phone="13900000012")
    opted = resident(city.yz_building, phone="13900000013")
    optout_set(actor=yingze_officer, person_id=opted.pk, purpose="status_change")
    with django_capture_on_commit_callbacks(execute=True):
        batch = batch_create_system(
            person_ids=[xiaodian.pk, yingze.pk, xiaodian.pk, opted.pk],
            purpose="status_change",
            template_code="registry_notice",
            context={"text": "您的状态已变更。"},
            dedup_key="st-1",
        )
        again = batch_create_system(
            person_ids=[xiaodian.pk],
            purpose="status_change",
            template_code="registry_notice",
            context={"text": "您的状态已变更。"},
            dedup_key="st-1",
        )
    assert (batch.total, batch.deduplicated, batch.queued) == (4, 1, 2)
    assert batch.skipped_opt_out == 1 and batch.created_by is None
    assert (again.queued, again.deduplicated) == (0, 1)
    assert sorted(sms.to for sms in outbox) == ["+8613900000011", "+8613900000012"]
    entry = AuditEntry.objects.get(action="notify.batch_create", object_id=str(batch.pk))
    assert entry.actor_username == "system"
