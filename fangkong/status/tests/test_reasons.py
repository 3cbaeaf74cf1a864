"""Rules: levels combine, reasons end on the right event, early clears, bulk."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from fangkong.conftest import make_person
from fangkong.core.errors import ValidationFailed
from fangkong.investigation.models import Disease
from fangkong.notify.models import Message
from fangkong.status.models import PersonStatus, Reason
from fangkong.status.selectors import effective, person_status
from fangkong.status.services import (
    reasons_end,
    reasons_expire,
    reasons_grant,
    test_result_record,
)


@pytest.fixture
def person(city: Any) -> Any:
    return make_person(city.xd_building, phone="13800138000")


def covid() -> int:
    return Disease.objects.get(code="covid19").pk


def test_green_without_reasons(person: Any) -> None:
    st = person_status(person.pk)
    assert st["level"] == "green"
    assert st["reasons"] == []


def test_levels_combine_to_the_most_severe(person: Any) -> None:
    reasons_grant(
        kind="controlled_zone", person_ids=[person.pk], source_type="zones.zone", source_id=1
    )
    assert person_status(person.pk)["level"] == "yellow"
    reasons_grant(
        kind="confirmed_case",
        person_ids=[person.pk],
        source_type="investigation.case",
        source_id=7,
        disease_id=covid(),
    )
    st = person_status(person.pk)
    assert st["level"] == "red"
    assert [r["kind"] for r in st["reasons"]] == ["confirmed_case", "controlled_zone"]
    assert st["valid_until"] is None
    reasons_end(source_type="investigation.case", source_id=7, how="case_released")
    assert person_status(person.pk)["level"] == "yellow"
    reasons_end(source_type="zones.zone", source_id=1, how="zone_lifted")
    assert person_status(person.pk)["level"] == "green"
    assert PersonStatus.objects.get(person=person).level == "green"


def test_grant_is_idempotent_and_rule_gives_level_and_end(person: Any) -> None:
    n = reasons_grant(
        kind="close_contact",
        person_ids=[person.pk, person.pk],
        source_type="investigation.contact",
        source_id=3,
        disease_id=covid(),
    )
    assert n == 1
    assert (
        reasons_grant(
            kind="close_contact",
            person_ids=[person.pk],
            source_type="investigation.contact",
            source_id=3,
            disease_id=covid(),
        )
        == 0
    )
    r = Reason.objects.get(person=person)
    assert r.level == "red"  # COVID-19 close contact: red per the rule
    assert r.rule is not None and r.rule.version == 1
    assert r.ends_at is not None
    assert (r.ends_at - r.starts_at).days == 8


def test_measles_close_contact_is_yellow_for_21_days(person: Any) -> None:
    measles = Disease.objects.get(code="measles").pk
    reasons_grant(
        kind="close_contact",
        person_ids=[person.pk],
        source_type="investigation.contact",
        source_id=4,
        disease_id=measles,
    )
    r = Reason.objects.get(person=person)
    assert r.level == "yellow"
    assert r.ends_at is not None
    assert (r.ends_at - r.starts_at).days == 21


def test_arrival_clears_after_two_negatives_24h_apart(person: Any) -> None:
    start = timezone.now() - dt.timedelta(days=2)
    reasons_grant(
        kind="arrival_risk",
        person_ids=[person.pk],
        source_type="portal.arrival",
        source_id=1,
        starts_at=start,
    )
    assert person_status(person.pk)["level"] == "yellow"
    t1 = start + dt.timedelta(hours=1)
    assert test_result_record(person_ids=[person.pk], result="negative", sampled_at=t1) == 0
    # Too soon after the first: does not count.
    t2 = t1 + dt.timedelta(hours=10)
    assert test_result_record(person_ids=[person.pk], result="negative", sampled_at=t2) == 0
    assert person_status(person.pk)["level"] == "yellow"
    t3 = t1 + dt.timedelta(hours=25)
    assert test_result_record(person_ids=[person.pk], result="negative", sampled_at=t3) == 1
    assert person_status(person.pk)["level"] == "green"
    assert Reason.objects.get(person=person).ended_how == "negative_tests"


def test_pooled_positive_clears_on_retest_and_positive_changes_nothing(person: Any) -> None:
    reasons_grant(
        kind="pooled_positive", person_ids=[person.pk], source_type="screening.tube", source_id=9
    )
    now = timezone.now()
    assert test_result_record(person_ids=[person.pk], result="positive", sampled_at=now) == 0
    assert person_status(person.pk)["level"] == "yellow"
    assert test_result_record(person_ids=[person.pk], result="negative", sampled_at=now) == 1
    assert Reason.objects.get(person=person).ended_how == "retested"


def test_negative_before_the_reason_does_not_clear(person: Any) -> None:
    reasons_grant(
        kind="pooled_positive", person_ids=[person.pk], source_type="screening.tube", source_id=9
    )
    before = timezone.now() - dt.timedelta(days=1)
    assert test_result_record(person_ids=[person.pk], result="negative", sampled_at=before) == 0


def test_expiry_job_ends_reasons_and_recomputes(person: Any) -> None:
    start = timezone.now() - dt.timedelta(days=10)
    reasons_grant(
        kind="secondary_contact",
        person_ids=[person.pk],
        source_type="investigation.contact",
        source_id=5,
        disease_id=covid(),
        starts_at=start,
    )
    # Already past its 7 days: effective status ignores it even before the job.
    assert effective(person.pk)[0] == "green"
    assert reasons_expire() == 1
    assert Reason.objects.get(person=person).ended_how == "expiry"


def test_cache_follows_changes(person: Any, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        reasons_grant(
            kind="sealed_zone", person_ids=[person.pk], source_type="zones.zone", source_id=2
        )
    assert cache.get(f"st:{person.pk}")[0] == "red"
    with django_capture_on_commit_callbacks(execute=True):
        reasons_end(source_type="zones.zone", source_id=2, how="zone_lifted")
    assert cache.get(f"st:{person.pk}")[0] == "green"


def test_every_change_notifies_the_person(
    person: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        reasons_grant(
            kind="sealed_zone", person_ids=[person.pk], source_type="zones.zone", source_id=2
        )
    msgs = Message.objects.filter(person=person, purpose="status_change")
    assert msgs.count() == 1
    # Same level again from another source: no change, no message.
    reasons_grant(kind="sealed_zone", person_ids=[person.pk], source_type="zones.zone", source_id=3)
    assert msgs.count() == 1
    reasons_end(source_type="zones.zone", source_id=2, how="zone_lifted")
    assert msgs.count() == 1  # still red from zone 3
    reasons_end(source_type="zones.zone", source_id=3, how="zone_lifted")
    assert msgs.count() == 2


def test_bulk_grant_one_batch(city: Any, django_capture_on_commit_callbacks: Any) -> None:
    people = [make_person(city.xd_building, phone=f"1390000{i:04d}") for i in range(250)]
    ids = [p.pk for p in people]
    with django_capture_on_commit_callbacks(execute=True):
        n = reasons_grant(kind="sealed_zone", person_ids=ids, source_type="zones.zone", source_id=1)
    assert n == 250
    assert PersonStatus.objects.filter(person_id__in=ids, level="red").count() == 250
    from fangkong.notify.models import Batch

    assert Batch.objects.filter(purpose="status_change").count() == 1
    assert (
        reasons_end(source_type="zones.zone", source_id=1, how="zone_lifted", person_ids=ids[:10])
        == 10
    )
    assert PersonStatus.objects.filter(person_id__in=ids, level="green").count() == 10


def test_bad_input_changes_nothing(person: Any) -> None:
    with pytest.raises(ValidationFailed):
        reasons_grant(
            kind="nonsense", person_ids=[person.pk], source_type="zones.zone", source_id=1
        )
    with pytest.raises(ValidationFailed):
        reasons_grant(kind="sealed_zone", person_ids=[person.pk], source_type="x.y", source_id=1)
    with pytest.raises(ValidationFailed):
        reasons_grant(kind="manual", person_ids=[person.pk], source_type="zones.zone", source_id=1)
    with pytest.raises(ValidationFailed):
        reasons_end(source_type="zones.zone", source_id=1, how="because")
    assert not Reason.objects.exists()
