"""Many source facts of one kind granted at once (a lab file with many positive
pools): the same reasons, audit rows and notices as one call per source."""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.conftest import make_person
from fangkong.core.errors import ValidationFailed
from fangkong.core.models import AuditEntry
from fangkong.notify.models import Message
from fangkong.status.models import Reason
from fangkong.status.selectors import effective
from fangkong.status.services import reasons_grant, reasons_grant_many

SOURCE = "screening.tube"


@pytest.fixture
def crowd(city: Any) -> list[Any]:
    return [make_person(city.xd_building, phone=f"1380013{i:04d}") for i in range(6)]


def test_each_source_gives_its_members_a_reason(crowd: list[Any]) -> None:
    a, b, c, d, e, f = (p.pk for p in crowd)
    created = reasons_grant_many(
        kind="pooled_positive",
        grants=[(11, [a, b, c]), (12, [d, e]), (13, [])],
        source_type=SOURCE,
    )
    assert created == 5
    rows = set(Reason.objects.values_list("source_id", "person_id", "kind"))
    assert rows == {
        (11, a, "pooled_positive"),
        (11, b, "pooled_positive"),
        (11, c, "pooled_positive"),
        (12, d, "pooled_positive"),
        (12, e, "pooled_positive"),
    }
    assert effective(a)[0] == effective(d)[0] != effective(f)[0]
    # One audit row per person, naming the source, as reasons_grant writes them.
    audits = AuditEntry.objects.filter(action="status.reason_grant")
    assert sorted(audits.values_list("object_id", "person_id")) == sorted(
        [(f"{SOURCE}:11", p) for p in (a, b, c)] + [(f"{SOURCE}:12", p) for p in (d, e)]
    )
    assert Message.objects.filter(person_id__in=[a, b, c, d, e]).count() == 5


def test_it_is_idempotent_and_matches_one_call_per_source(crowd: list[Any]) -> None:
    a, b, c, d, _e, _f = (p.pk for p in crowd)
    assert (
        reasons_grant(kind="pooled_positive", person_ids=[a], source_type=SOURCE, source_id=1) == 1
    )
    created = reasons_grant_many(
        kind="pooled_positive",
        grants=[(1, [a, b]), (2, [c, d, 999_999_999])],  # an unknown person is skipped
        source_type=SOURCE,
    )
    assert created == 3
    again = reasons_grant_many(
        kind="pooled_positive", grants=[(1, [a, b]), (2, [c, d])], source_type=SOURCE
    )
    assert again == 0
    assert Reason.objects.count() == 4


def test_bad_kind_changes_nothing(crowd: list[Any]) -> None:
    with pytest.raises(ValidationFailed):
        reasons_grant_many(kind="nonsense", grants=[(1, [crowd[0].pk])], source_type=SOURCE)
    with pytest.raises(ValidationFailed):
        reasons_grant_many(kind="manual", grants=[(1, [crowd[0].pk])], source_type=SOURCE)
    assert not Reason.objects.exists()
