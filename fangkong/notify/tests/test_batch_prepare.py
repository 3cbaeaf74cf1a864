"""A batch too large for the request that creates it is prepared by the worker,
chunk by chunk, with its progress shown, and sent when it is ready."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from fangkong.conftest import make_person
from fangkong.core.errors import Conflict
from fangkong.core.models import AuditEntry
from fangkong.notify import services
from fangkong.notify.jobs import release_due
from fangkong.notify.models import Batch, Message
from fangkong.notify.services import batch_create, batch_prepare, optout_set
from fangkong.notify.tests.helpers import resident

pytestmark = pytest.mark.django_db

NOTICE: dict[str, Any] = {
    "purpose": "screening_reminder",
    "template_code": "registry_notice",
    "context": {"text": "明天8点请到小区广场做核酸。"},
}


@pytest.fixture(autouse=True)
def _small_batches(settings: Any, monkeypatch: Any) -> None:
    """Above two recipients a batch goes to the worker, two recipients a chunk."""
    settings.FANGKONG_SMS_INLINE_BATCH = 2
    monkeypatch.setattr(services, "PREPARE_CHUNK", 2)


def _crowd(city: Any, officer: Any) -> list[Any]:
    people = [resident(city.xd_building) for _ in range(3)]
    opted = resident(city.xd_building)
    optout_set(actor=officer, person_id=opted.pk, purpose="screening_reminder")
    return [*people, opted, make_person(city.xd_building)]  # the last has no phone


def test_a_large_batch_is_accepted_at_once_and_prepared_chunk_by_chunk(
    city, xiaodian_officer, outbox, django_capture_on_commit_callbacks
):
    crowd = _crowd(city, xiaodian_officer)
    ids = [p.pk for p in crowd] + [crowd[0].pk]  # one repeat in the list
    with django_capture_on_commit_callbacks() as handed:
        batch = batch_create(actor=xiaodian_officer, person_ids=ids, **NOTICE)
    assert batch.status == Batch.Status.PREPARING and len(handed) == 1
    assert (batch.total, batch.prepared, batch.deduplicated) == (6, 1, 1)
    assert not Message.objects.filter(batch=batch).exists()
    assert batch.scope_path == city.xd_building.path

    batch_prepare(batch_id=batch.pk, max_chunks=1)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.PREPARING and batch.prepared == 3
    assert Message.objects.filter(batch=batch).count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        batch_prepare(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.prepared == batch.total == 6
    assert (batch.queued, batch.skipped_opt_out, batch.skipped_no_phone) == (3, 1, 1)
    assert batch.deduplicated == 1 and batch.recipients is None
    assert Message.objects.filter(batch=batch).count() == 5
    assert len(outbox) == 3 and batch.status == Batch.Status.COMPLETED
    entry = AuditEntry.objects.get(action="notify.batch_prepared", object_id=str(batch.pk))
    assert entry.changes["queued"] == [None, 3] and entry.actor_username == "system"


def test_the_worker_prepares_and_sends_once_the_request_commits(
    city, xiaodian_officer, outbox, django_capture_on_commit_callbacks
):
    people = [resident(city.xd_building) for _ in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        batch = batch_create(actor=xiaodian_officer, person_ids=[p.pk for p in people], **NOTICE)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED and batch.prepared == 5
    assert len(outbox) == 5


def test_a_worker_that_stops_midway_is_taken_up_again_without_duplicates(
    city, xiaodian_officer, outbox, time_machine, django_capture_on_commit_callbacks
):
    people = [resident(city.xd_building) for _ in range(5)]
    batch = batch_create(actor=xiaodian_officer, person_ids=[p.pk for p in people], **NOTICE)
    batch_prepare(batch_id=batch.pk, max_chunks=1)  # then the worker died
    time_machine.shift(dt.timedelta(minutes=6))
    with django_capture_on_commit_callbacks(execute=True):
        release_due()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED and batch.prepared == 5
    assert Message.objects.filter(batch=batch).count() == 5
    assert sorted(sms.to for sms in outbox) == sorted({sms.to for sms in outbox})
    assert len(outbox) == 5


def test_messages_of_a_batch_still_being_prepared_wait_for_it(
    city, xiaodian_officer, outbox, time_machine
):
    people = [resident(city.xd_building) for _ in range(5)]
    batch = batch_create(actor=xiaodian_officer, person_ids=[p.pk for p in people], **NOTICE)
    batch_prepare(batch_id=batch.pk, max_chunks=1)
    time_machine.shift(dt.timedelta(minutes=6))
    # The worker is still at it (its last chunk is recent): nothing is sent early.
    Batch.objects.filter(pk=batch.pk).update(updated_at=timezone.now())
    release_due()
    assert outbox == []
    batch.refresh_from_db()
    assert batch.status == Batch.Status.PREPARING and batch.prepared == 2


def test_a_second_batch_with_the_same_key_waits_until_the_first_is_prepared(city, xiaodian_officer):
    people = [resident(city.xd_building) for _ in range(3)]
    ids = [p.pk for p in people]
    batch_create(actor=xiaodian_officer, person_ids=ids, dedup_key="round-9", **NOTICE)
    with pytest.raises(Conflict) as exc:
        batch_create(actor=xiaodian_officer, person_ids=ids, dedup_key="round-9", **NOTICE)
    assert "dedup_key" in exc.value.fields
    assert Batch.objects.count() == 1


def test_people_reminded_by_an_earlier_batch_are_dropped_while_preparing(
    city, xiaodian_officer, django_capture_on_commit_callbacks
):
    people = [resident(city.xd_building) for _ in range(4)]
    ids = [p.pk for p in people]
    with django_capture_on_commit_callbacks(execute=True):
        batch_create(actor=xiaodian_officer, person_ids=ids[:2], dedup_key="round-7", **NOTICE)
        second = batch_create(actor=xiaodian_officer, person_ids=ids, dedup_key="round-7", **NOTICE)
    second.refresh_from_db()
    assert (second.queued, second.deduplicated) == (2, 2)


@given(st.sets(st.integers(min_value=1, max_value=2**40), max_size=300))
def test_recipient_ids_are_stored_and_read_back_exactly(ids: set[int]) -> None:
    wanted = sorted(ids)
    assert services.unpack_ids(services.pack_ids(wanted)) == wanted
