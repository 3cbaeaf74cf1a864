"""No status without a health fact: a manual change that raises a level names a
health basis with its source; any other basis only ends or lowers a status.

The property test runs manual requests over every shipped basis and every
direction against a reference worked out from the shipped fixture alone."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.conftest import client_for, make_person
from fangkong.core.errors import ValidationFailed
from fangkong.status import rules
from fangkong.status.models import ManualBasis, ManualRequest, Reason
from fangkong.status.services import reasons_grant
from fangkong.status.services.manual import manual_request_approve, manual_request_create
from fangkong.status.tokens import status_token

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "defaults.json"
SHIPPED = {row["code"]: row for row in json.loads(FIXTURE.read_text("utf-8"))["bases"]}
SEVERITY = {"green": 0, "yellow": 20, "red": 40}
# The health facts the promise names; every other shipped basis must not raise.
HEALTH = {
    "epidemiological_investigation",
    "clinical_diagnosis",
    "test_result",
    "arrival_listed_area",
}


def test_the_shipped_bases_say_which_are_health_facts(db: Any) -> None:
    assert {code for code, row in SHIPPED.items() if row["health"]} == HEALTH
    stored = {b.code: b for b in ManualBasis.objects.all()}
    assert set(SHIPPED) <= set(stored)
    for code, row in SHIPPED.items():
        assert stored[code].health is row["health"], code
        if row["health"]:
            assert stored[code].source_zh and stored[code].source_en, code


def test_the_migration_corrects_the_first_shipped_bases(db: Any) -> None:
    """The first list called a data correction and a law article health bases."""
    import importlib

    from django.apps import apps

    fix = importlib.import_module(
        "fangkong.status.migrations.0004_manual_basis_health_and_source"
    ).fix_bases
    ManualBasis.objects.filter(code__in=["data_correction", "prevention_law"]).update(health=True)
    ManualBasis.objects.filter(code="clinical_diagnosis").update(
        name_zh="临床诊断或检测结果", name_en="Clinical diagnosis or test result", source_en=""
    )
    ManualBasis.objects.filter(code="test_result").delete()
    ManualBasis.objects.create(code="own_basis", name_zh="自定", health=True)
    fix(apps, None)
    rows = {b.code: b for b in ManualBasis.objects.all()}
    assert not rows["data_correction"].health and not rows["prevention_law"].health
    assert rows["clinical_diagnosis"].name_en == "Clinical decision"
    assert rows["clinical_diagnosis"].source_en
    assert rows["test_result"].health
    assert rows["own_basis"].health  # the authority's own basis is theirs


ops = st.lists(
    st.tuples(
        st.sampled_from(sorted(SHIPPED)),  # basis
        st.sampled_from(["yellow", "red", "end"]),  # direction: raise to a level, or end
        st.booleans(),  # the source named
        st.integers(0, 2),  # person
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=ops, facts=st.lists(st.sampled_from([None, "yellow", "red"]), min_size=3, max_size=3))
def test_manual_requests_over_every_basis_and_direction(
    city: Any, grid_worker: Any, xiaodian_officer: Any, ops: list[Any], facts: list[Any]
) -> None:
    with transaction.atomic():
        people = [make_person(city.xd_building) for _ in range(3)]
        # The reference: each person's active reasons as (level, health fact?).
        active: list[dict[int, tuple[str, bool]]] = [{} for _ in people]
        for i, level in enumerate(facts):
            if level:
                reasons_grant(
                    kind="close_contact",
                    person_ids=[people[i].pk],
                    source_type="investigation.contact",
                    source_id=i + 1,
                    level=level,
                    notify=False,
                )
                r = Reason.objects.get(person=people[i], ended_at__isnull=True)
                active[i][r.pk] = (level, True)
        for code, direction, named, who in ops:
            row = SHIPPED[code]
            needs_source = row["health"] or bool(row.get("source_zh"))
            expect_ok = (direction == "end" or row["health"]) and (named or not needs_source)
            to_end = sorted(active[who])
            if direction == "end" and not to_end:
                continue
            kwargs: dict[str, Any] = {
                "actor": grid_worker,
                "basis": code,
                "text": "Written reason of the officer, long enough",
                "source_ref": "No. 2022-0117" if named else "",
            }
            if direction == "end":
                kwargs.update(action="end", reason_ids=to_end)
            else:
                kwargs.update(
                    action="grant",
                    person_ids=[people[who].pk],
                    level=direction,
                    ends_at=timezone.now() + dt.timedelta(days=7),
                )
            try:
                req = manual_request_create(**kwargs)
            except ValidationFailed as exc:
                assert not expect_ok, (code, direction, named, exc.fields)
                assert set(exc.fields) <= {"basis", "source_ref"}
                continue
            assert expect_ok, (code, direction, named)
            manual_request_approve(actor=xiaodian_officer, request_id=req.pk)
            if direction == "end":
                active[who].clear()
            else:
                r = Reason.objects.get(source_type="status.manual", source_id=req.pk)
                active[who][r.pk] = (direction, row["health"])
        client = Client()
        for i, p in enumerate(people):
            expected = max(
                (lv for lv, _h in active[i].values()), key=SEVERITY.__getitem__, default="green"
            )
            body = client.get(
                "/api/v1/status/check", {"token": status_token(p.pk)}, HTTP_ACCEPT_LANGUAGE="en"
            ).json()
            assert body["level"] == expected
            # Nobody is above green without a health fact behind the level.
            assert all(h for _lv, h in active[i].values())
        for r in Reason.objects.filter(kind="manual", ended_at__isnull=True):
            req = ManualRequest.objects.select_related("basis").get(pk=r.source_id)
            assert req.basis.health and req.source_ref
        transaction.set_rollback(True)
    cache.clear()
    rules.clear_cache()


def test_a_request_from_before_the_correction_cannot_raise(
    city: Any, grid_worker: Any, xiaodian_officer: Any
) -> None:
    person = make_person(city.xd_building)
    req = manual_request_create(
        actor=grid_worker,
        action="grant",
        basis="test_result",
        source_ref="Tube 1401000123",
        text="Positive single-tube retest reported by phone",
        person_ids=[person.pk],
        level="red",
        ends_at=timezone.now() + dt.timedelta(days=3),
    )
    ManualRequest.objects.filter(pk=req.pk).update(
        basis=ManualBasis.objects.get(code="other_administrative")
    )
    with pytest.raises(ValidationFailed) as exc:
        manual_request_approve(actor=xiaodian_officer, request_id=req.pk)
    assert exc.value.code == "basis_not_allowed"
    assert not Reason.objects.filter(person=person).exists()
    # The approval page says why, in words.
    page = client_for(xiaodian_officer).post(
        f"/status/approvals/{req.pk}/decide/",
        {"decision": "approve"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    text = page.content.decode()
    assert "is not a health fact" in text
    assert "Other administrative ground (not health)" in text
    assert "other_administrative" not in text


def test_the_approval_page_shows_the_basis_and_its_source_in_words(
    city: Any, grid_worker: Any, xiaodian_officer: Any
) -> None:
    person = make_person(city.xd_building)
    manual_request_create(
        actor=grid_worker,
        action="grant",
        basis="clinical_diagnosis",
        source_ref="Record 88-1023, Shanxi Bethune Hospital",
        text="Clinically diagnosed, test pending",
        person_ids=[person.pk],
        level="red",
        ends_at=timezone.now() + dt.timedelta(days=3),
    )
    for lang, words in [("en", "Clinical decision"), ("zh-hans", "临床诊断")]:
        page = client_for(xiaodian_officer).get("/status/approvals/", HTTP_ACCEPT_LANGUAGE=lang)
        text = page.content.decode()
        assert words in text
        assert "Record 88-1023" in text
        assert "clinical_diagnosis" not in text
        assert ">red<" not in text and "· red" not in text
