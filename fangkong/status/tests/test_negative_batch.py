"""Many negative-test facts at once (a lab's file, a whole round) end the same
reasons as one fact at a time, with the audit entries and notices."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fangkong.conftest import make_person
from fangkong.core.errors import ValidationFailed
from fangkong.core.models import AuditEntry
from fangkong.investigation.models import Disease
from fangkong.notify.models import Message
from fangkong.status.models import PersonStatus, Reason
from fangkong.status.selectors import people_with_clearable_reasons, person_status
from fangkong.status.services import (
    NegativeResult,
    negative_results_record,
    reasons_grant,
    test_result_record,
)
from fangkong.status.services import reasons as reasons_module


def covid() -> int:
    return Disease.objects.get(code="covid19").pk


@pytest.fixture
def people(city: Any) -> list[Any]:
    return [make_person(city.xd_building, phone=f"1370000{i:04d}") for i in range(6)]


def _venue(person_ids: list[int], start: dt.datetime) -> None:
    """Venue exposure: ends early after 2 negative tests 24 hours apart."""
    reasons_grant(
        kind="venue_exposed",
        person_ids=person_ids,
        source_type="investigation.contact",
        source_id=1,
        disease_id=covid(),
        starts_at=start,
    )


def _pooled(person_ids: list[int], tube: int = 9) -> None:
    """Pooled positive: ends on one negative retest."""
    reasons_grant(
        kind="pooled_positive", person_ids=person_ids, source_type="screening.tube", source_id=tube
    )


def test_two_spaced_negatives_in_one_batch_end_the_reason(people: list[Any]) -> None:
    person = people[0]
    start = timezone.now() - dt.timedelta(days=3)
    _venue([person.pk], start)
    t1 = start + dt.timedelta(hours=1)
    ended = negative_results_record(
        [
            NegativeResult([person.pk], t1, 1),
            NegativeResult([person.pk], t1 + dt.timedelta(hours=10), 2),  # too soon: no count
            NegativeResult([person.pk], t1 + dt.timedelta(hours=25), 3),
        ]
    )
    assert ended == 1
    reason = Reason.objects.get(person=person)
    assert reason.ended_how == "negative_tests"
    assert len(reason.negatives) == 3
    assert person_status(person.pk)["level"] == "green"
    entry = AuditEntry.objects.get(action="status.reason_end")
    assert entry.object_id == "screening.tube:3"  # the fact that ended it
    assert entry.person_id == person.pk


def test_one_negative_is_remembered_until_the_next(people: list[Any]) -> None:
    person = people[0]
    start = timezone.now() - dt.timedelta(days=3)
    _venue([person.pk], start)
    t1 = start + dt.timedelta(hours=1)
    assert negative_results_record([([person.pk], t1, 1)]) == 0
    assert person_status(person.pk)["level"] == "yellow"
    assert Reason.objects.get(person=person).negatives == [t1.isoformat()]
    # The second, a day later, through the single-fact API: the batch kept the first.
    t2 = t1 + dt.timedelta(hours=25)
    assert test_result_record(person_ids=[person.pk], result="negative", sampled_at=t2) == 1
    assert person_status(person.pk)["level"] == "green"


def test_a_negative_taken_before_the_reason_began_does_not_count(people: list[Any]) -> None:
    person = people[0]
    _pooled([person.pk])
    before = timezone.now() - dt.timedelta(days=1)
    assert negative_results_record([([person.pk], before, 1)]) == 0
    reason = Reason.objects.get(person=person)
    assert reason.ended_at is None
    assert reason.negatives == []
    assert person_status(person.pk)["level"] == "yellow"


def test_a_reason_ended_by_an_earlier_entry_is_not_touched_again(people: list[Any]) -> None:
    person = people[0]
    _pooled([person.pk])
    now = timezone.now()
    ended = negative_results_record(
        [([person.pk], now, 1), ([person.pk], now + dt.timedelta(minutes=1), 2)]
    )
    assert ended == 1
    reason = Reason.objects.get(person=person)
    assert reason.ended_how == "retested"
    assert reason.negatives == [now.isoformat()]
    assert AuditEntry.objects.filter(action="status.reason_end").count() == 1


def test_only_the_people_named_are_cleared_and_each_is_told(
    people: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    ids = [p.pk for p in people]
    with django_capture_on_commit_callbacks(execute=True):
        _pooled(ids[:4])
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        ended = negative_results_record(
            [(ids[:2], now, 1), ([ids[2], ids[5]], now, None)],
        )
    assert ended == 3
    assert person_status(ids[3])["level"] == "yellow"  # not in the batch
    assert PersonStatus.objects.filter(person_id__in=ids[:3], level="green").count() == 3
    for pid in ids[:3]:
        # one notice when it began, one when it ended
        assert Message.objects.filter(person_id=pid, purpose="status_change").count() == 2
    assert Message.objects.filter(person_id=ids[5]).count() == 0  # nothing changed for them
    entries = AuditEntry.objects.filter(action="status.reason_end").order_by("pk")
    assert [e.object_id for e in entries] == ["screening.tube:1", "screening.tube:None"]


@pytest.mark.parametrize("by_person", [False, True])
def test_many_people_at_once_read_the_clearable_reasons_once(
    city: Any, people: list[Any], monkeypatch: pytest.MonkeyPatch, by_person: bool
) -> None:
    """Above FEW_PEOPLE the clearable reasons are read once without the person ids
    and matched in Python; with more such reasons than people, by person after all."""
    ids = [p.pk for p in people] + [
        make_person(city.xd_building, phone=f"1371000{i:04d}").pk for i in range(2)
    ]
    _pooled(ids[:3], tube=1)
    _pooled([ids[3]], tube=2)  # a reason of someone not in the batch
    start = timezone.now() - dt.timedelta(days=3)
    _venue([ids[0]], start)  # needs two negatives: stays
    monkeypatch.setattr(reasons_module, "FEW_PEOPLE", 2)
    now = timezone.now()
    # 5 clearable reasons: 3 people in the batch are fewer, 6 are more.
    batch = ids[:3] if by_person else ids[:3] + ids[5:8]
    with CaptureQueriesContext(connection) as queries:
        assert negative_results_record([(batch, now, 7)]) == 3
    reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and "negatives" in q["sql"]]
    listed = [sql for sql in reads if '"status_reason"."person_id" IN (' in sql]
    assert bool(listed) is by_person
    assert len(reads) == 2 if by_person else len(reads) == 1
    assert Reason.objects.filter(ended_at__isnull=True, kind="pooled_positive").count() == 1
    assert set(
        Reason.objects.filter(ended_how="retested").values_list("person_id", flat=True)
    ) == set(ids[:3])
    venue = Reason.objects.get(kind="venue_exposed")
    assert venue.ended_at is None
    assert venue.negatives == [now.isoformat()]


def test_nothing_to_clear_writes_nothing(people: list[Any]) -> None:
    ids = [p.pk for p in people]
    assert negative_results_record([]) == 0
    assert negative_results_record([(ids, timezone.now(), 1)]) == 0
    assert not AuditEntry.objects.filter(action="status.reason_end").exists()


def test_bad_person_ids_are_refused_and_change_nothing(people: list[Any]) -> None:
    person = people[0]
    _pooled([person.pk])
    with pytest.raises(ValidationFailed):
        bad: list[Any] = ["x"]
        negative_results_record([([person.pk], timezone.now(), 1), (bad, timezone.now(), 2)])
    assert Reason.objects.get(person=person).ended_at is None
    with pytest.raises(ValidationFailed):
        test_result_record(person_ids=[person.pk], result="maybe", sampled_at=timezone.now())


def test_bulk_callers_learn_who_negative_tests_could_clear(people: list[Any]) -> None:
    ids = [p.pk for p in people]
    now = timezone.now()
    assert people_with_clearable_reasons(sampled_by=now, limit=10) == set()
    _pooled(ids[:2])
    reasons_grant(kind="sealed_zone", person_ids=[ids[2]], source_type="zones.zone", source_id=1)
    later = timezone.now()
    # tests do not end a zone's reason; a test taken before a reason began counts for nothing
    assert people_with_clearable_reasons(sampled_by=later, limit=10) == set(ids[:2])
    assert people_with_clearable_reasons(sampled_by=now - dt.timedelta(hours=1), limit=10) == set()
    assert people_with_clearable_reasons(sampled_by=later, limit=1) is None  # too many to list
