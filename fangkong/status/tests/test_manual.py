"""Four eyes: manual changes need basis, reason, end date and a second approver."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from fangkong.conftest import make_person, make_staff
from fangkong.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from fangkong.core.types import Actor
from fangkong.status.models import ManualBasis, ManualRequest, Reason, StatusPolicy
from fangkong.status.selectors import manual_alerts, person_status
from fangkong.status.services import reasons_grant
from fangkong.status.services.manual import (
    manual_request_approve,
    manual_request_create,
    manual_request_refuse,
)


def soon(days: int = 3) -> dt.datetime:
    return timezone.now() + dt.timedelta(days=days)


def ask(actor: Actor, person: Any, **kw: Any) -> ManualRequest:
    args: dict[str, Any] = {
        "action": "grant",
        "basis": "epidemiological_investigation",
        "source_ref": "Case 2022-0117",
        "text": "Shared a car with a confirmed case for two hours",
        "person_ids": [person.pk],
        "level": "yellow",
        "ends_at": soon(),
    }
    args.update(kw)
    return manual_request_create(actor=actor, **args)


@pytest.fixture
def person(city: Any) -> Any:
    return make_person(city.xd_building)


def test_no_effect_until_a_second_person_approves(
    person: Any, grid_worker: Any, xiaodian_officer: Any
) -> None:
    req = ask(grid_worker, person)
    assert person_status(person.pk)["level"] == "green"
    assert not Reason.objects.exists()
    manual_request_approve(actor=xiaodian_officer, request_id=req.pk)
    assert person_status(person.pk)["level"] == "yellow"
    r = Reason.objects.get(person=person)
    assert (r.kind, r.source_type, r.source_id) == ("manual", "status.manual", req.pk)


def test_approving_ones_own_request_is_refused(person: Any, xiaodian_officer: Any) -> None:
    req = ask(xiaodian_officer, person)
    with pytest.raises(PermissionDenied) as exc:
        manual_request_approve(actor=xiaodian_officer, request_id=req.pk)
    assert exc.value.code == "own_request"
    assert person_status(person.pk)["level"] == "green"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"basis": ""}, "basis"),
        ({"text": " "}, "text"),
        ({"ends_at": None}, "ends_at"),
        ({"ends_at": soon(60)}, "ends_at"),
        ({"level": "green"}, "level"),
        ({"person_ids": []}, "person_ids"),
    ],
)
def test_incomplete_requests_are_refused(
    person: Any, grid_worker: Any, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        ask(grid_worker, person, **changes)
    assert field in exc.value.fields
    assert not ManualRequest.objects.exists()


def test_other_jurisdiction_cannot_request_or_approve(
    city: Any, person: Any, grid_worker: Any, yingze_officer: Any
) -> None:
    with pytest.raises(NotFound):
        ask(yingze_officer, person)
    req = ask(grid_worker, person)
    with pytest.raises(NotFound):
        manual_request_approve(actor=yingze_officer, request_id=req.pk)


def test_lower_jurisdiction_cannot_approve(city: Any, person: Any, xiaodian_officer: Any) -> None:
    grid_officer = make_staff("gridofficer", city.xd_grid, "district_officer")
    req = ask(xiaodian_officer, person)
    with pytest.raises(NotFound):
        manual_request_approve(actor=grid_officer, request_id=req.pk)


def test_bulk_needs_the_commander(
    city: Any, grid_worker: Any, xiaodian_officer: Any, commander: Any
) -> None:
    StatusPolicy.objects.update(bulk_threshold=2)
    from fangkong.status import rules

    rules.clear_cache()
    people = [make_person(city.xd_building) for _ in range(3)]
    req = manual_request_create(
        actor=grid_worker,
        action="grant",
        basis="epidemiological_investigation",
        source_ref="Case 2022-0098",
        text="Attended the same wedding banquet",
        person_ids=[p.pk for p in people],
        level="yellow",
        ends_at=soon(),
    )
    assert req.bulk
    with pytest.raises(PermissionDenied):
        manual_request_approve(actor=xiaodian_officer, request_id=req.pk)
    manual_request_approve(actor=commander, request_id=req.pk)
    assert Reason.objects.filter(kind="manual").count() == 3


def test_early_end_of_a_fact_reason(person: Any, grid_worker: Any, xiaodian_officer: Any) -> None:
    reasons_grant(kind="sealed_zone", person_ids=[person.pk], source_type="zones.zone", source_id=1)
    reason = Reason.objects.get(person=person)
    req = manual_request_create(
        actor=grid_worker,
        action="end",
        basis="data_correction",
        text="Moved out of the building before the zone was declared",
        reason_ids=[reason.pk],
    )
    assert person_status(person.pk)["level"] == "red"
    with pytest.raises(ValidationFailed):
        manual_request_refuse(actor=xiaodian_officer, request_id=req.pk, note="")
    manual_request_approve(actor=xiaodian_officer, request_id=req.pk)
    assert person_status(person.pk)["level"] == "green"
    reason.refresh_from_db()
    assert reason.ended_how == "revoked"
    with pytest.raises(Conflict):
        manual_request_approve(actor=xiaodian_officer, request_id=req.pk)


def test_refused_request_changes_nothing(
    person: Any, grid_worker: Any, xiaodian_officer: Any
) -> None:
    req = ask(grid_worker, person)
    manual_request_refuse(actor=xiaodian_officer, request_id=req.pk, note="No evidence given")
    assert person_status(person.pk)["level"] == "green"


def test_alerts_many_reds_and_reds_without_health_basis(
    city: Any, grid_worker: Any, auditor: Any
) -> None:
    StatusPolicy.objects.update(alert_manual_reds=3, bulk_threshold=100)
    from fangkong.status import rules

    rules.clear_cache()
    people = [make_person(city.xd_building) for _ in range(3)]
    for p in people:
        ask(grid_worker, p, level="red")
    with pytest.raises(ValidationFailed) as exc:
        ask(grid_worker, people[0], level="red", basis="other_administrative")
    assert set(exc.value.fields) == {"basis"}
    # A request made before the bases were corrected is still flagged.
    old = ask(grid_worker, people[0], level="red")
    ManualRequest.objects.filter(pk=old.pk).update(
        basis=ManualBasis.objects.get(code="other_administrative")
    )
    kinds = sorted(a["kind"] for a in manual_alerts(auditor))
    assert kinds == ["many_reds", "no_health_basis"]
