"""Accountability: a failure of the area (an overdue task, an inspection finding,
another app's failure read through its shared selectors) linked to a responsible
party; a second person decides it with the document number."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from fangkong.conftest import make_staff
from fangkong.core.errors import NotFound, PermissionDenied, ValidationFailed
from fangkong.core.models import AuditEntry
from fangkong.headquarters import services
from fangkong.headquarters.models import Accountability
from fangkong.headquarters.selectors import ops

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def overdue_task(city, commander):
    with time_machine.travel(NOW - dt.timedelta(days=2), tick=False):
        return services.task_create(
            actor=commander,
            unit_id=city.xd_grid.pk,
            title="上门核酸补采",
            deadline=NOW - dt.timedelta(days=1),
        )


def _propose(actor, task, **kw):
    kw.setdefault("party_kind", "territorial")
    kw.setdefault("party_name", "小店区坞城街道办事处")
    kw.setdefault("measure", "talk")
    kw.setdefault("grounds", "补采逾期一天未完成")
    return services.accountability_propose(
        actor=actor, failure_kind="overdue_task", failure_id=task.pk, now=NOW, **kw
    )


def test_an_overdue_task_is_offered_and_proposed(city, commander, overdue_task):
    with time_machine.travel(NOW, tick=False):
        offered = ops.failure_choices_for(commander)
    assert [(f.kind, f.id) for f in offered] == [("overdue_task", overdue_task.pk)]
    record = _propose(commander, overdue_task)
    assert record.state == Accountability.State.PROPOSED
    assert record.unit == city.xd_grid and "上门核酸补采" in record.failure_text
    assert AuditEntry.objects.filter(action="accountability.propose").exists()


def test_a_task_not_yet_late_is_no_failure(city, commander):
    with time_machine.travel(NOW, tick=False):
        task = services.task_create(
            actor=commander,
            unit_id=city.xd_grid.pk,
            title="x",
            deadline=NOW + dt.timedelta(hours=1),
        )
    with pytest.raises(NotFound):
        _propose(commander, task)


def test_another_districts_failure_does_not_exist(city, commander, overdue_task, yingze_officer):
    with pytest.raises(NotFound):
        _propose(yingze_officer, overdue_task)


def test_bad_input_names_each_field(city, commander, overdue_task):
    with pytest.raises(ValidationFailed) as err:
        _propose(commander, overdue_task, party_kind="boss", party_name="", measure="x", grounds="")
    assert set(err.value.fields) == {"party_kind", "party_name", "measure", "grounds"}


def test_the_proposer_cannot_decide(city, commander, overdue_task):
    record = _propose(commander, overdue_task)
    with pytest.raises(PermissionDenied) as err:
        services.accountability_decide(
            actor=commander,
            record_id=record.pk,
            pursue=True,
            decision="约谈",
            document_number="并防指〔2026〕12号",
        )
    assert err.value.code == "own_proposal"


def test_a_second_person_decides_with_the_document_number(
    city, commander, overdue_task, xiaodian_officer
):
    record = _propose(xiaodian_officer, overdue_task)
    with pytest.raises(ValidationFailed) as err:
        services.accountability_decide(
            actor=commander, record_id=record.pk, pursue=True, decision="约谈"
        )
    assert "document_number" in err.value.fields
    services.accountability_decide(
        actor=commander,
        record_id=record.pk,
        pursue=True,
        decision="对街道分管负责人约谈",
        document_number="并防指〔2026〕12号",
        measure="criticism",
    )
    record.refresh_from_db()
    assert (record.state, record.measure, record.document_number, record.decided_by) == (
        "decided",
        "criticism",
        "并防指〔2026〕12号",
        commander,
    )
    with pytest.raises(ValidationFailed):
        services.accountability_decide(
            actor=commander, record_id=record.pk, pursue=False, decision="撤回"
        )


def test_a_decider_without_the_right_is_refused(city, overdue_task, xiaodian_officer):
    record = _propose(xiaodian_officer, overdue_task)
    other = make_staff("xiaodian2", city.xiaodian, "district_officer")
    with pytest.raises(PermissionDenied):
        services.accountability_decide(actor=other, record_id=record.pk, pursue=False, decision="x")


def test_an_inspection_finding_can_be_held_to_account(city, commander, xiaodian_officer):
    inspector = make_staff("inspector", city.city, "inspector")
    with time_machine.travel(NOW, tick=False):
        plan = services.plan_create(
            actor=commander,
            title="督导",
            area_id=city.xiaodian.pk,
            checklist_code="sampling_site",
            starts_on=NOW.date(),
            ends_on=NOW.date(),
            inspector_id=inspector.pk,
        )
        item = plan.checklist.items.order_by("position")[0]
        visit = services.visit_record(
            actor=inspector,
            plan_id=plan.pk,
            unit_id=city.xd_grid.pk,
            place="坞城采样点",
            visited_at=NOW,
            findings=[services.FindingIn(item_id=item.pk, result="failed", note="未保持间距")],
        )
    finding = visit.findings.get()
    record = services.accountability_propose(
        actor=inspector,
        failure_kind="finding",
        failure_id=finding.pk,
        party_kind="unit",
        party_name="坞城采样点",
        measure="reminder",
        grounds="排队未保持一米间距",
        now=NOW,
    )
    assert "坞城采样点" in record.failure_text
    assert ops.access_accountability_by_id(xiaodian_officer, record.pk) == record


def test_a_proposal_waits_on_the_deciders_attention_list(
    city, commander, overdue_task, xiaodian_officer
):
    from fangkong.headquarters.dashboard import attention

    _propose(xiaodian_officer, overdue_task)
    waiting = [i for i in attention(commander) if "decision" in str(i["text"])]
    assert [i["count"] for i in waiting] == [1]
    assert not [i for i in attention(xiaodian_officer) if "decision" in str(i["text"])]
