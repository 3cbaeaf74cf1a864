"""Supervision inspections (督导检查): plans with a checklist (data) and an inspector,
visits with a finding per checklist item (photos), a rectification task to the unit
for each failed item (a stage-A task: it shows in the unit's "my work"), and the
re-inspection that closes it.

Who: ``inspection.plan`` plans (and names an inspector of the area holding
``inspection.conduct``); the plan's inspector records visits, findings and
re-inspections. Every write is audited; outside the area is a 404.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import NotFound, PermissionDenied, ValidationFailed
from fangkong.core.models import Jurisdiction, StaffProfile
from fangkong.core.types import Actor, acting_user
from fangkong.headquarters.models import (
    Checklist,
    ChecklistItem,
    Finding,
    FindingPhoto,
    InspectionPlan,
    InspectionVisit,
    Priority,
    Task,
    TaskKind,
)
from fangkong.headquarters.services.tasks import task_give_unchecked

PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_FORMATS = {"JPEG", "PNG", "WEBP"}
PHOTO_BOX = (1600, 1600)
PHOTOS_PER_FINDING = 6
TEXT_MAX = 4000


def _node_in_scope(actor: Actor, node_id: int, field: str) -> Jurisdiction:
    node = Jurisdiction.objects.filter(pk=node_id).first()
    if node is None or not permissions.in_scope(actor, node.path):
        raise NotFound(_("No such unit in your area."), fields={field: _("Not in your area.")})
    return node


def checklist_in_force(code: str, on: dt.date | None = None) -> Checklist | None:
    on = on or timezone.localdate()
    return (
        Checklist.objects.filter(code=code, effective_from__lte=on)
        .order_by("-effective_from")
        .first()
    )


def _inspector(actor: Actor, user_id: int, area: Jurisdiction) -> Any:
    profile = (
        StaffProfile.objects.filter(user_id=user_id, user__is_active=True)
        .select_related("user", "jurisdiction")
        .first()
    )
    if profile is None or not permissions.in_scope(actor, profile.jurisdiction.path):
        raise NotFound(
            _("No such staff member in your area."),
            fields={"inspector_id": _("Not in your area.")},
        )
    if not permissions.has_capability(profile.user, "inspection.conduct"):
        raise ValidationFailed(fields={"inspector_id": _("This person does not inspect.")})
    if not (
        area.path.startswith(profile.jurisdiction.path)
        or profile.jurisdiction.path.startswith(area.path)
    ):
        raise ValidationFailed(
            fields={"inspector_id": _("This person works outside the area inspected.")}
        )
    return profile.user


def plan_create(
    *,
    actor: Actor,
    title: str,
    area_id: int,
    checklist_code: str,
    starts_on: dt.date,
    ends_on: dt.date,
    inspector_id: int,
) -> InspectionPlan:
    """Plan an inspection of an area; the inspector gets an inspection task ending
    with the plan (in their "my work")."""
    permissions.require(actor, "inspection.plan")
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = _("Say what is inspected.")
    elif len(title) > 200:
        errors["title"] = _("At most 200 characters.")
    checklist = checklist_in_force(checklist_code, starts_on)
    if checklist is None:
        errors["checklist_code"] = _("Choose a checklist.")
    if ends_on < starts_on:
        errors["ends_on"] = _("The end comes before the start.")
    elif ends_on < timezone.localdate():
        errors["ends_on"] = _("The period is already over.")
    if errors:
        raise ValidationFailed(fields=errors)
    assert checklist is not None
    area = _node_in_scope(actor, area_id, "area_id")
    inspector = _inspector(actor, inspector_id, area)
    with transaction.atomic():
        plan = InspectionPlan.objects.create(
            title=title,
            area=area,
            scope_path=area.path,
            checklist=checklist,
            starts_on=starts_on,
            ends_on=ends_on,
            inspector=inspector,
            created_by=acting_user(actor),
        )
        end = timezone.make_aware(dt.datetime.combine(ends_on, dt.time(18, 0)))
        plan.task = task_give_unchecked(
            actor=actor,
            unit=area,
            kind=TaskKind.INSPECTION,
            title=_("Inspect: %(title)s") % {"title": title},
            details=_("Checklist: %(checklist)s") % {"checklist": checklist.name},
            deadline=max(end, timezone.now() + dt.timedelta(hours=1)),
            priority=Priority.NORMAL,
            assignee_id=inspector.pk,
            source_key=f"inspection-plan:{plan.pk}",
        )
        plan.save(update_fields=["task", "updated_at"])
        audit_record(
            actor=actor,
            action="inspection.plan",
            obj=plan,
            scope_path=plan.scope_path,
            changes={
                "title": [None, title],
                "unit": [None, area.pk],
                "inspector": [None, inspector.pk],
                "checklist": [None, checklist.name],
            },
        )
    return plan


def _plan_for_update(actor: Actor, plan_id: int) -> InspectionPlan:
    plan = (
        InspectionPlan.objects.select_for_update(of=("self",))
        .select_related("area", "checklist")
        .filter(pk=plan_id)
        .first()
    )
    if plan is None or not permissions.in_scope(actor, plan.scope_path):
        raise NotFound()
    return plan


def _require_inspector(actor: Actor, plan: InspectionPlan) -> None:
    permissions.require(actor, "inspection.conduct")
    if plan.inspector_id != getattr(actor, "pk", None):
        raise PermissionDenied(_("Only the plan's inspector records its visits."))


@dataclass(frozen=True)
class FindingIn:
    """One checklist item's result in a visit (``deadline_hours``: time given to
    rectify a failed item)."""

    item_id: int
    result: str
    note: str = ""
    deadline_hours: int = 72
    photos: tuple[bytes, ...] = ()


def visit_record(
    *,
    actor: Actor,
    plan_id: int,
    unit_id: int,
    place: str,
    visited_at: dt.datetime,
    findings: list[FindingIn],
    summary: str = "",
    now: dt.datetime | None = None,
) -> InspectionVisit:
    """Record a visit with a finding for each checklist item; each failed item gives
    the unit visited a rectification task with its deadline."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    place = (place or "").strip()
    if not place:
        errors["place"] = _("Say where the visit was.")
    elif len(place) > 200:
        errors["place"] = _("At most 200 characters.")
    if timezone.is_naive(visited_at):
        errors["visited_at"] = _("Give the time with its time zone.")
    elif visited_at > now + dt.timedelta(minutes=5):
        errors["visited_at"] = _("The visit cannot be in the future.")
    if len(summary or "") > TEXT_MAX:
        errors["summary"] = _("At most 4000 characters.")
    # Photos are checked and re-encoded before anything is written.
    cleaned: list[list[bytes]] = []
    for n, f in enumerate(findings):
        photos: list[bytes] = []
        if len(f.photos) > PHOTOS_PER_FINDING:
            errors[f"findings[{n}].photos"] = _("At most %(n)d photos a finding.") % {
                "n": PHOTOS_PER_FINDING
            }
        for data in f.photos[:PHOTOS_PER_FINDING]:
            try:
                photos.append(photo_clean(data))
            except ValidationFailed as exc:
                errors[f"findings[{n}].photos"] = str(exc.fields.get("photo", exc.message))
        cleaned.append(photos)
    with transaction.atomic():
        plan = _plan_for_update(actor, plan_id)
        _require_inspector(actor, plan)
        if plan.state == InspectionPlan.State.CLOSED:
            raise ValidationFailed(_("This inspection plan is closed."))
        unit = _node_in_scope(actor, unit_id, "unit_id")
        if not unit.path.startswith(plan.scope_path):
            errors["unit_id"] = _("This unit is outside the area of the plan.")
        items = {i.pk: i for i in ChecklistItem.objects.filter(checklist=plan.checklist)}
        seen: set[int] = set()
        for n, f in enumerate(findings):
            key = f"findings[{n}]"
            if f.item_id not in items:
                errors[f"{key}.item_id"] = _("Not an item of the plan's checklist.")
            elif f.item_id in seen:
                errors[f"{key}.item_id"] = _("This item is given twice.")
            seen.add(f.item_id)
            if f.result not in Finding.Result.values:
                errors[f"{key}.result"] = _("Choose a result.")
            if f.result == Finding.Result.FAILED and not (f.note or "").strip():
                errors[f"{key}.note"] = _("Say what was found.")
            if len(f.note or "") > TEXT_MAX:
                errors[f"{key}.note"] = _("At most 4000 characters.")
            if not 1 <= f.deadline_hours <= 720:
                errors[f"{key}.deadline_hours"] = _("Between 1 and 720 hours.")
        if not findings:
            errors["findings"] = _("Record at least one checklist item.")
        if errors:
            raise ValidationFailed(fields=errors)
        inspector = acting_user(actor)
        assert inspector is not None  # the scope checks let only a signed-in user through
        visit = InspectionVisit.objects.create(
            plan=plan,
            unit=unit,
            scope_path=unit.path,
            place=place,
            visited_at=visited_at,
            inspector=inspector,
            summary=summary or "",
        )
        failed = 0
        for f, photos in zip(findings, cleaned, strict=True):
            item = items[f.item_id]
            finding = Finding.objects.create(
                visit=visit,
                item=item,
                scope_path=unit.path,
                result=f.result,
                note=(f.note or "").strip(),
                state=Finding.State.OPEN
                if f.result == Finding.Result.FAILED
                else Finding.State.NONE,
            )
            for data in photos:
                FindingPhoto.objects.create(
                    finding=finding, data=data, size=len(data), uploaded_by=acting_user(actor)
                )
            if f.result == Finding.Result.FAILED:
                failed += 1
                finding.rectification = task_give_unchecked(
                    actor=actor,
                    unit=unit,
                    kind=TaskKind.RECTIFICATION,
                    title=_("Rectify: %(item)s") % {"item": item.text},
                    details=_("Found at %(place)s: %(note)s")
                    % {"place": place, "note": finding.note},
                    deadline=now + dt.timedelta(hours=f.deadline_hours),
                    priority=Priority.HIGH,
                    source_key=f"finding:{finding.pk}",
                    now=now,
                )
                finding.save(update_fields=["rectification", "updated_at"])
        if plan.state == InspectionPlan.State.PLANNED:
            plan.state = InspectionPlan.State.UNDERWAY
            plan.save(update_fields=["state", "updated_at"])
        audit_record(
            actor=actor,
            action="inspection.visit",
            obj=visit,
            scope_path=visit.scope_path,
            changes={
                "unit": [None, unit.pk],
                "findings": [None, len(findings)],
                "failed": [None, failed],
            },
        )
    return visit


def photo_clean(data: bytes) -> bytes:
    """An uploaded photo as a JPEG within the box (metadata dropped); refuses files
    that are too large or are no JPEG, PNG or WebP image."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > PHOTO_MAX_BYTES:
        raise ValidationFailed(
            fields={"photo": _("The photo is larger than %(mb)d MB.") % {"mb": 5}}
        )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image: Image.Image = Image.open(io.BytesIO(data))
        if image.format not in PHOTO_FORMATS:
            raise ValidationFailed(fields={"photo": _("Use a JPEG, PNG or WebP photo.")})
        if image.width * image.height > 40_000_000:
            raise ValidationFailed(fields={"photo": _("The photo has too many pixels.")})
        image = image.convert("RGB")
        image.thumbnail(PHOTO_BOX)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=82, optimize=True)
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValidationFailed(fields={"photo": _("This file is not a photo.")}) from exc
    return out.getvalue()


def _finding_for_update(actor: Actor, finding_id: int) -> Finding:
    finding = (
        Finding.objects.select_for_update(of=("self",))
        .select_related("visit__plan", "item", "rectification")
        .filter(pk=finding_id)
        .first()
    )
    if finding is None or not permissions.in_scope(actor, finding.scope_path):
        raise NotFound()
    return finding


def photo_add(*, actor: Actor, finding_id: int, data: bytes) -> FindingPhoto:
    clean = photo_clean(data)
    with transaction.atomic():
        finding = _finding_for_update(actor, finding_id)
        _require_inspector(actor, finding.visit.plan)
        if finding.photos.count() >= PHOTOS_PER_FINDING:
            raise ValidationFailed(
                fields={"photo": _("At most %(n)d photos a finding.") % {"n": PHOTOS_PER_FINDING}}
            )
        photo = FindingPhoto.objects.create(
            finding=finding, data=clean, size=len(clean), uploaded_by=acting_user(actor)
        )
        audit_record(
            actor=actor,
            action="inspection.photo",
            obj=finding,
            scope_path=finding.scope_path,
            changes={"photos": [None, photo.pk]},
        )
    return photo


def finding_reinspect(
    *,
    actor: Actor,
    finding_id: int,
    rectified: bool,
    note: str = "",
    now: dt.datetime | None = None,
) -> Finding:
    """Re-inspect a failed item: rectified closes the finding and its rectification
    task; not rectified keeps both open (the task's escalation goes on)."""
    now = now or timezone.now()
    note = (note or "").strip()
    if not rectified and not note:
        raise ValidationFailed(fields={"note": _("Say what is still wrong.")})
    if len(note) > TEXT_MAX:
        raise ValidationFailed(fields={"note": _("At most 4000 characters.")})
    with transaction.atomic():
        finding = _finding_for_update(actor, finding_id)
        _require_inspector(actor, finding.visit.plan)
        if finding.state != Finding.State.OPEN:
            raise ValidationFailed(_("Only a finding being rectified can be re-inspected."))
        before = finding.state
        finding.reinspected_at = now
        finding.reinspected_by = acting_user(actor)
        finding.reinspection_note = note
        if rectified:
            finding.state = Finding.State.RECTIFIED
            task = finding.rectification
            if task is not None:
                locked = Task.objects.select_for_update().get(pk=task.pk)
                if locked.state == Task.State.OPEN:
                    locked.state = Task.State.DONE
                    locked.done_at = now
                    locked.done_note = note or _("Rectified: confirmed by re-inspection.")
                    locked.save(update_fields=["state", "done_at", "done_note", "updated_at"])
                    audit_record(
                        actor=actor,
                        action="task.complete",
                        obj=locked,
                        scope_path=locked.scope_path,
                        changes={"state": [Task.State.OPEN, Task.State.DONE]},
                        reason=locked.done_note,
                    )
        finding.save(
            update_fields=[
                "state",
                "reinspected_at",
                "reinspected_by",
                "reinspection_note",
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            action="inspection.reinspect",
            obj=finding,
            scope_path=finding.scope_path,
            changes={"state": [before, finding.state]},
            reason=note,
        )
    return finding


def plan_close(*, actor: Actor, plan_id: int, note: str = "") -> InspectionPlan:
    """Close a plan (its planner or inspector); its inspection task is done. Findings
    still being rectified stay open with their tasks."""
    with transaction.atomic():
        plan = _plan_for_update(actor, plan_id)
        is_inspector = plan.inspector_id == getattr(actor, "pk", None)
        if not (permissions.has_capability(actor, "inspection.plan") or is_inspector):
            raise PermissionDenied()
        if plan.state == InspectionPlan.State.CLOSED:
            raise ValidationFailed(_("This inspection plan is already closed."))
        before = plan.state
        plan.state = InspectionPlan.State.CLOSED
        plan.save(update_fields=["state", "updated_at"])
        if plan.task_id is not None:
            task = Task.objects.select_for_update().get(pk=plan.task_id)
            if task.state == Task.State.OPEN:
                task.state = Task.State.DONE
                task.done_at = timezone.now()
                task.done_note = note or ""
                task.save(update_fields=["state", "done_at", "done_note", "updated_at"])
                audit_record(
                    actor=actor,
                    action="task.complete",
                    obj=task,
                    scope_path=task.scope_path,
                    changes={"state": [Task.State.OPEN, Task.State.DONE]},
                    reason=note or "",
                )
        audit_record(
            actor=actor,
            action="inspection.close",
            obj=plan,
            scope_path=plan.scope_path,
            changes={"state": [before, plan.state]},
            reason=note or "",
        )
    return plan
