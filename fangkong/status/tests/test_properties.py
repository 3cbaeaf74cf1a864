"""Property tests: the effective status is always the most severe active reason;
no active reason exists without a source fact, unless it is manual and approved."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.conftest import make_person
from fangkong.status import rules
from fangkong.status.models import ManualRequest, PersonStatus, Reason
from fangkong.status.selectors import effective
from fangkong.status.services import reasons_end, reasons_grant

FACTS = [
    ("sealed_zone", "zones.zone"),
    ("controlled_zone", "zones.zone"),
    ("pooled_positive", "screening.tube"),
    ("arrival_risk", "portal.arrival"),
    ("confirmed_case", "investigation.case"),
    ("close_contact", "investigation.contact"),
]
HOWS = ["zone_lifted", "retested", "negative_tests", "case_released", "revoked", "expiry"]

grant = st.tuples(
    st.just("grant"),
    st.sampled_from(FACTS),
    st.integers(1, 3),  # source id
    st.lists(st.integers(0, 3), min_size=1, max_size=4, unique=True),  # people
    st.sampled_from([None, "yellow", "red"]),  # level override
)
end = st.tuples(
    st.just("end"),
    st.sampled_from(FACTS),
    st.integers(1, 3),
    st.one_of(st.none(), st.lists(st.integers(0, 3), min_size=1, max_size=3, unique=True)),
    st.sampled_from(HOWS),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(st.one_of(grant, end), min_size=1, max_size=12))
def test_status_is_the_most_severe_active_reason(city: Any, ops: list[Any]) -> None:
    with transaction.atomic():
        people = [make_person(city.xd_building) for _ in range(4)]
        for op in ops:
            if op[0] == "grant":
                _g, (kind, source_type), source_id, who, level = op
                reasons_grant(
                    kind=kind,
                    person_ids=[people[i].pk for i in who],
                    source_type=source_type,
                    source_id=source_id,
                    level=level,
                    notify=False,
                )
            else:
                _e, (kind, source_type), source_id, who, how = op
                reasons_end(
                    source_type=source_type,
                    source_id=source_id,
                    how=how,
                    kind=kind,
                    person_ids=None if who is None else [people[i].pk for i in who],
                    notify=False,
                )
        levels = rules.levels()
        for p in people:
            active = list(Reason.objects.filter(person=p, ended_at__isnull=True))
            expected = max(
                (r.level for r in active),
                key=lambda code: levels[code].severity,
                default=rules.lowest_level().code,
            )
            row = PersonStatus.objects.filter(person=p).values_list("level", flat=True).first()
            assert (row or rules.lowest_level().code) == expected
            assert effective(p.pk)[0] == expected
        for r in Reason.objects.filter(ended_at__isnull=True):
            assert r.source_type and r.source_id is not None
            if r.kind == "manual":
                req = ManualRequest.objects.get(pk=r.source_id)
                assert req.state == ManualRequest.State.APPROVED
        transaction.set_rollback(True)
    from django.core.cache import cache

    cache.clear()
