"""Supervision inspections: a plan gives its inspector an inspection task; a visit's
failed items give the unit visited rectification tasks (in its "my work"); photos
are checked and re-encoded; re-inspection closes the finding and its task."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from PIL import Image

from fangkong.conftest import make_staff
from fangkong.core.errors import NotFound, PermissionDenied, ValidationFailed
from fangkong.core.models import AuditEntry
from fangkong.headquarters import selectors, services
from fangkong.headquarters.models import Checklist, Finding, InspectionPlan, Task, TaskKind
from fangkong.headquarters.selectors import ops

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def inspector(city):
    return make_staff("inspector", city.city, "inspector")


def _plan(commander, inspector, area, **kw):
    kw.setdefault("title", "小店区封控区督导")
    kw.setdefault("checklist_code", "zone_control")
    kw.setdefault("starts_on", NOW.date())
    kw.setdefault("ends_on", NOW.date() + dt.timedelta(days=3))
    with time_machine.travel(NOW, tick=False):
        return services.plan_create(
            actor=commander, area_id=area.pk, inspector_id=inspector.pk, **kw
        )


def _items(plan):
    return list(plan.checklist.items.order_by("position"))


def _visit(inspector, plan, unit, results, at=NOW):
    items = _items(plan)
    findings = [
        services.FindingIn(
            item_id=items[i].pk, result=r, note="出入口无人值守" if r == "failed" else ""
        )
        for i, r in enumerate(results)
    ]
    with time_machine.travel(at, tick=False):
        return services.visit_record(
            actor=inspector,
            plan_id=plan.pk,
            unit_id=unit.pk,
            place="坞城社区东门",
            visited_at=at - dt.timedelta(minutes=30),
            findings=findings,
        )


def _jpeg(size=(40, 30), fmt="JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt)
    return out.getvalue()


def test_a_plan_puts_an_inspection_task_in_the_inspectors_work(city, commander, inspector):
    plan = _plan(commander, inspector, city.xiaodian)
    assert plan.checklist.code == "zone_control"
    assert plan.task is not None and plan.task.kind == TaskKind.INSPECTION
    assert [t.pk for t in selectors.inbox_for(inspector).mine] == [plan.task.pk]
    assert AuditEntry.objects.filter(action="inspection.plan", object_id=str(plan.pk)).exists()


def test_a_plan_keeps_the_checklist_version_in_force_when_made(city, commander, inspector):
    old = Checklist.objects.get(code="zone_control")
    newer = Checklist.objects.create(
        code="zone_control",
        name_zh="新版",
        name_en="New",
        effective_from=NOW.date() + dt.timedelta(days=30),
    )
    plan = _plan(commander, inspector, city.xiaodian)
    assert plan.checklist == old != newer


def test_a_plan_needs_an_inspector_of_the_area(city, commander, xiaodian_officer):
    with pytest.raises(ValidationFailed) as err:
        _plan(commander, xiaodian_officer, city.xiaodian)
    assert "inspector_id" in err.value.fields
    yz_inspector = make_staff("yzinspector", city.yingze, "inspector")
    with pytest.raises(ValidationFailed):
        _plan(commander, yz_inspector, city.xiaodian)


def test_a_district_cannot_plan_for_another_district(city, yingze_officer, xiaodian_officer):
    inspector = make_staff("inspector", city.city, "inspector")
    with pytest.raises(NotFound):
        _plan(yingze_officer, inspector, city.xiaodian)


def test_bad_plan_input_names_each_field(city, commander, inspector):
    with pytest.raises(ValidationFailed) as err:
        _plan(
            commander,
            inspector,
            city.xiaodian,
            title=" ",
            checklist_code="nonsense",
            ends_on=NOW.date() - dt.timedelta(days=1),
        )
    assert set(err.value.fields) == {"title", "checklist_code", "ends_on"}


def test_failed_items_give_the_unit_rectification_tasks_in_its_work(
    city, commander, inspector, xiaodian_officer
):
    plan = _plan(commander, inspector, city.xiaodian)
    visit = _visit(inspector, plan, city.xd_grid, ["failed", "passed", "failed", "na"])
    findings = list(visit.findings.order_by("item__position"))
    assert [f.state for f in findings] == ["open", "none", "open", "none"]
    tasks = [f.rectification for f in findings if f.rectification]
    assert len(tasks) == 2
    assert all(t.kind == TaskKind.RECTIFICATION and t.unit == city.xd_grid for t in tasks)
    assert tasks[0].deadline == NOW + dt.timedelta(hours=72)
    # Nobody responsible at the grid: the district's officer gets them.
    mine = {t.pk for t in selectors.inbox_for(xiaodian_officer).mine}
    assert {t.pk for t in tasks} <= mine
    plan.refresh_from_db()
    assert plan.state == InspectionPlan.State.UNDERWAY


def test_a_failed_item_needs_what_was_found(city, commander, inspector):
    plan = _plan(commander, inspector, city.xiaodian)
    item = _items(plan)[0]
    with time_machine.travel(NOW, tick=False), pytest.raises(ValidationFailed) as err:
        services.visit_record(
            actor=inspector,
            plan_id=plan.pk,
            unit_id=city.xd_grid.pk,
            place="东门",
            visited_at=NOW,
            findings=[
                services.FindingIn(item_id=item.pk, result="failed"),
                services.FindingIn(item_id=item.pk, result="maybe"),
            ],
        )
    assert set(err.value.fields) == {
        "findings[0].note",
        "findings[1].item_id",
        "findings[1].result",
    }
    assert not Task.objects.filter(kind=TaskKind.RECTIFICATION).exists()


def test_only_the_plans_inspector_records_visits(city, commander, inspector):
    plan = _plan(commander, inspector, city.xiaodian)
    other = make_staff("inspector2", city.city, "inspector")
    with pytest.raises(PermissionDenied):
        _visit(other, plan, city.xd_grid, ["passed"])


def test_a_visit_outside_the_plans_area_is_refused(city, commander, inspector):
    plan = _plan(commander, inspector, city.xiaodian)
    with pytest.raises(ValidationFailed) as err:
        _visit(inspector, plan, city.yz_grid, ["passed"])
    assert "unit_id" in err.value.fields


def test_photos_are_checked_and_re_encoded(city, commander, inspector):
    plan = _plan(commander, inspector, city.xiaodian)
    finding = _visit(inspector, plan, city.xd_grid, ["failed"]).findings.get()
    photo = services.photo_add(actor=inspector, finding_id=finding.pk, data=_jpeg(fmt="PNG"))
    assert bytes(photo.data)[:3] == b"\xff\xd8\xff" and photo.size == len(bytes(photo.data))
    with pytest.raises(ValidationFailed) as err:
        services.photo_add(actor=inspector, finding_id=finding.pk, data=b"%PDF-1.4 not a photo")
    assert "photo" in err.value.fields
    with pytest.raises(ValidationFailed):
        services.photo_add(
            actor=inspector, finding_id=finding.pk, data=b"\xff" * (5 * 1024 * 1024 + 1)
        )
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    with pytest.raises(ValidationFailed):
        services.photo_add(actor=inspector, finding_id=finding.pk, data=gif.getvalue())
    assert finding.photos.count() == 1


def test_re_inspection_closes_the_finding_and_its_task(city, commander, inspector):
    plan = _plan(commander, inspector, city.xiaodian)
    finding = _visit(inspector, plan, city.xd_grid, ["failed"]).findings.get()
    later = NOW + dt.timedelta(days=1)
    with pytest.raises(ValidationFailed):
        services.finding_reinspect(actor=inspector, finding_id=finding.pk, rectified=False)
    services.finding_reinspect(
        actor=inspector, finding_id=finding.pk, rectified=False, note="仍无登记", now=later
    )
    finding.refresh_from_db()
    assert finding.state == Finding.State.OPEN and finding.rectification.state == "open"
    services.finding_reinspect(actor=inspector, finding_id=finding.pk, rectified=True, now=later)
    finding.refresh_from_db()
    assert finding.state == Finding.State.RECTIFIED
    assert finding.rectification.state == Task.State.DONE
    with pytest.raises(ValidationFailed):
        services.finding_reinspect(actor=inspector, finding_id=finding.pk, rectified=True)


def test_closing_the_plan_closes_the_inspection_task(city, commander, inspector):
    plan = _plan(commander, inspector, city.xiaodian)
    services.plan_close(actor=inspector, plan_id=plan.pk)
    plan.refresh_from_db()
    assert plan.state == "closed" and plan.task.state == Task.State.DONE
    with pytest.raises(ValidationFailed):
        _visit(inspector, plan, city.xd_grid, ["passed"])


def test_plans_are_seen_in_their_area_only(
    city, commander, inspector, yingze_officer, xiaodian_officer
):
    plan = _plan(commander, inspector, city.xiaodian)
    assert ops.access_plan_by_id(xiaodian_officer, plan.pk) == plan
    assert ops.access_plan_by_id(inspector, plan.pk) == plan
    with pytest.raises(NotFound):
        ops.access_plan_by_id(yingze_officer, plan.pk)
