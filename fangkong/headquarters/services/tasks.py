"""Tasks to units or people: creation with automatic assignment, reassignment,
completion, cancellation, and the escalation of overdue tasks (a job).

Automatic assignment (like SORMAS' responsible officer): the unit's responsible
officer when they hold the capability the kind of task needs (``AssignmentRule``),
otherwise the officer of the unit's district (staff whose node is the district
itself, or the unit when it is above a district) who holds it and has the fewest
open tasks; nobody found leaves the task in the unit's queue, said so.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import NotFound, PermissionDenied, ValidationFailed
from fangkong.core.models import Jurisdiction, StaffProfile
from fangkong.core.types import Actor, acting_user
from fangkong.headquarters.models import (
    AssignmentRule,
    EscalationStep,
    Priority,
    Responsible,
    Task,
    TaskKind,
)

TITLE_MAX = 200


def _unit_in_scope(actor: Actor, unit_id: int) -> Jurisdiction:
    unit = Jurisdiction.objects.filter(pk=unit_id).first()
    if unit is None or not permissions.in_scope(actor, unit.path):
        raise NotFound(_("No such unit in your area."), fields={"unit_id": _("Not in your area.")})
    return unit


def capability_for(kind: str, on: dt.date | None = None) -> str:
    """The capability an assignee of a task of ``kind`` needs (rule in force on ``on``)."""
    on = on or timezone.localdate()
    rule = (
        AssignmentRule.objects.filter(kind=kind, effective_from__lte=on)
        .order_by("-effective_from")
        .first()
    )
    return rule.capability if rule is not None else "task.handle"


def _district_of(unit: Jurisdiction) -> Jurisdiction:
    """The unit's district (the unit itself when it is a district or above)."""
    if unit.level_index <= Jurisdiction.LEVEL_ORDER.index(Jurisdiction.Level.DISTRICT):
        return unit
    found = unit.ancestors().filter(level=Jurisdiction.Level.DISTRICT).first()
    return found if found is not None else unit


def _holds(user: Any, capability: str) -> bool:
    return bool(user.is_active) and permissions.has_capability(user, capability)


def auto_assignee(unit: Jurisdiction, kind: str) -> tuple[Any | None, str]:
    """``(user, how)`` for a new task of ``kind`` at ``unit`` (see the module)."""
    capability = capability_for(kind)
    resp = Responsible.objects.filter(unit=unit).select_related("user").first()
    if resp is not None and _holds(resp.user, capability):
        return resp.user, Task.Assigned.RESPONSIBLE
    district = _district_of(unit)
    candidates = [
        u
        for u in get_user_model()
        .objects.filter(is_active=True, staff__jurisdiction=district)
        .order_by("pk")
        if permissions.has_capability(u, capability)
    ]
    if not candidates:
        return None, Task.Assigned.NONE
    load = dict(
        Task.objects.filter(state=Task.State.OPEN, assignee__in=candidates)
        .values("assignee")
        .annotate(n=Count("id"))
        .values_list("assignee", "n")
    )
    best = min(candidates, key=lambda u: (load.get(u.pk, 0), u.pk))
    return best, Task.Assigned.DISTRICT


def _staff_in_scope(actor: Actor, user_id: int, unit: Jurisdiction, capability: str) -> Any:
    profile = (
        StaffProfile.objects.filter(user_id=user_id, user__is_active=True)
        .select_related("user", "jurisdiction")
        .first()
    )
    if profile is None or not permissions.in_scope(actor, profile.jurisdiction.path):
        raise NotFound(
            _("No such staff member in your area."),
            fields={"assignee_id": _("Not in your area.")},
        )
    if not permissions.has_capability(profile.user, capability):
        raise ValidationFailed(
            fields={"assignee_id": _("This person may not handle tasks of this kind.")}
        )
    if not (
        unit.path.startswith(profile.jurisdiction.path)
        or profile.jurisdiction.path.startswith(unit.path)
    ):
        raise ValidationFailed(
            fields={"assignee_id": _("This person works outside the unit the task is for.")}
        )
    return profile.user


def task_create(
    *,
    actor: Actor,
    unit_id: int,
    title: str,
    deadline: dt.datetime,
    priority: str = Priority.NORMAL,
    details: str = "",
    kind: str = TaskKind.GENERAL,
    assignee_id: int | None = None,
    source_key: str | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Give a task to a unit (and a person of it: chosen, or by the assignment rules)."""
    permissions.require(actor, "task.assign")
    now = now or timezone.now()
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = _("Say what is to be done.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("At most 200 characters.")
    if priority not in Priority.values:
        errors["priority"] = _("Choose a priority.")
    if kind not in TaskKind.values:
        errors["kind"] = _("Choose the kind of task.")
    if timezone.is_naive(deadline):
        errors["deadline"] = _("Give the deadline with its time zone.")
    elif deadline <= now:
        errors["deadline"] = _("The deadline must be in the future.")
    if errors:
        raise ValidationFailed(fields=errors)
    unit = _unit_in_scope(actor, unit_id)
    return task_give_unchecked(
        actor=actor,
        unit=unit,
        title=title,
        deadline=deadline,
        priority=priority,
        details=details,
        kind=kind,
        assignee_id=assignee_id,
        source_key=source_key,
        now=now,
    )


def task_give_unchecked(
    *,
    actor: Actor,
    unit: Jurisdiction,
    title: str,
    deadline: dt.datetime,
    priority: str = Priority.NORMAL,
    details: str = "",
    kind: str = TaskKind.GENERAL,
    assignee_id: int | None = None,
    source_key: str | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """The write of ``task_create`` for another service of this app that has checked
    its own capability and input (an inspection's rectification task): same
    assignment rules, same audit entry."""
    now = now or timezone.now()
    with transaction.atomic():
        if source_key is not None:
            existing = Task.objects.filter(source_key=source_key).first()
            if existing is not None:
                return existing
        how: str
        if assignee_id is not None:
            assignee = _staff_in_scope(actor, assignee_id, unit, capability_for(kind))
            how = Task.Assigned.MANUAL
        else:
            assignee, how = auto_assignee(unit, kind)
        task = Task.objects.create(
            kind=kind,
            title=title,
            details=details or "",
            unit=unit,
            scope_path=unit.path,
            assignee=assignee,
            assigned_how=how,
            priority=priority,
            deadline=deadline,
            rules_date=timezone.localdate(now),
            created_by=acting_user(actor),
            source_key=source_key,
        )
        audit_record(
            actor=actor,
            action="task.create",
            obj=task,
            scope_path=task.scope_path,
            changes={
                "title": [None, title],
                "unit": [None, unit.pk],
                "assignee": [None, assignee.pk if assignee else None],
                "priority": [None, priority],
                "deadline": [None, deadline.isoformat()],
            },
        )
    return task


def _task_for_update(actor: Actor, task_id: int) -> Task:
    task = Task.objects.select_for_update(of=("self",)).filter(pk=task_id).first()
    if task is None or not permissions.in_scope(actor, task.scope_path):
        raise NotFound()
    return task


def _may_handle(actor: Actor, task: Task) -> bool:
    if permissions.has_capability(actor, "task.assign"):
        return True
    if not permissions.has_capability(actor, capability_for(task.kind, task.rules_date)):
        return False
    if task.assignee_id is not None:
        return task.assignee_id == getattr(actor, "pk", None)
    profile = permissions.staff_profile(actor)
    return profile is not None and profile.jurisdiction_id == task.unit_id


def task_assign(*, actor: Actor, task_id: int, assignee_id: int | None) -> Task:
    """Give an open task to another person of its unit (or back to the rules: ``None``)."""
    permissions.require(actor, "task.assign")
    with transaction.atomic():
        task = _task_for_update(actor, task_id)
        if task.state != Task.State.OPEN:
            raise ValidationFailed(_("Only an open task can be given to someone else."))
        before = task.assignee_id
        if assignee_id is None:
            assignee, how = auto_assignee(task.unit, task.kind)
        else:
            assignee = _staff_in_scope(
                actor, assignee_id, task.unit, capability_for(task.kind, task.rules_date)
            )
            how = Task.Assigned.MANUAL
        task.assignee, task.assigned_how = assignee, how
        task.save(update_fields=["assignee", "assigned_how", "updated_at"])
        audit_record(
            actor=actor,
            action="task.assign",
            obj=task,
            scope_path=task.scope_path,
            changes={"assignee": [before, task.assignee_id]},
        )
    return task


def task_complete(*, actor: Actor, task_id: int, note: str = "") -> Task:
    """Mark a task done (its assignee, a person of its unit, or who gives tasks)."""
    with transaction.atomic():
        task = _task_for_update(actor, task_id)
        if not _may_handle(actor, task):
            raise PermissionDenied(_("This task is not yours to close."))
        if task.state != Task.State.OPEN:
            raise ValidationFailed(_("This task is already closed."))
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
    return task


def task_cancel(*, actor: Actor, task_id: int, reason: str) -> Task:
    permissions.require(actor, "task.assign")
    if not (reason or "").strip():
        raise ValidationFailed(fields={"reason": _("Say why the task is cancelled.")})
    with transaction.atomic():
        task = _task_for_update(actor, task_id)
        if task.state != Task.State.OPEN:
            raise ValidationFailed(_("This task is already closed."))
        task.state = Task.State.CANCELLED
        task.done_at = timezone.now()
        task.save(update_fields=["state", "done_at", "updated_at"])
        audit_record(
            actor=actor,
            action="task.cancel",
            obj=task,
            scope_path=task.scope_path,
            changes={"state": [Task.State.OPEN, Task.State.CANCELLED]},
            reason=reason,
        )
    return task


def responsible_set(*, actor: Actor, unit_id: int, user_id: int | None) -> Responsible | None:
    """Name (or remove, ``None``) the responsible officer of a unit."""
    permissions.require(actor, "task.assign")
    unit = _unit_in_scope(actor, unit_id)
    with transaction.atomic():
        current = Responsible.objects.select_for_update().filter(unit=unit).first()
        before = current.user_id if current else None
        if user_id is None:
            if current is not None:
                current.delete()
            result = None
        else:
            user = _staff_in_scope(actor, user_id, unit, "task.handle")
            if current is None:
                current = Responsible.objects.create(unit=unit, user=user, scope_path=unit.path)
            else:
                current.user = user
                current.save(update_fields=["user", "updated_at"])
            result = current
        audit_record(
            actor=actor,
            action="task.responsible",
            object_type="core.jurisdiction",
            object_id=unit.pk,
            scope_path=unit.path,
            changes={"responsible": [before, user_id]},
        )
    return result


# --- Escalation (periodic job) --------------------------------------------------------


def _chain(priority: str, on: dt.date) -> list[EscalationStep]:
    """The steps of the chain version in force on ``on`` for ``priority``."""
    version = (
        EscalationStep.objects.filter(priority=priority, effective_from__lte=on)
        .order_by("-effective_from")
        .values_list("effective_from", flat=True)
        .first()
    )
    if version is None:
        return []
    return list(
        EscalationStep.objects.filter(priority=priority, effective_from=version).order_by("step")
    )


def _target(unit: Jurisdiction, level: str) -> Jurisdiction:
    """The unit's ancestor at ``level`` (the unit's top ancestor when the tree has none)."""
    if unit.level == level:
        return unit
    found = unit.ancestors().filter(level=level).first()
    if found is not None:
        return found
    return unit.ancestors().first() or unit


def tasks_escalate(*, now: dt.datetime | None = None) -> int:
    """Move each overdue open task to the step of its chain that its lateness
    reached (never back). Idempotent: a second run at the same time changes
    nothing. Returns how many tasks climbed."""
    now = now or timezone.now()
    moved = 0
    overdue = Task.objects.filter(state=Task.State.OPEN, deadline__lt=now).order_by("pk")
    chains: dict[tuple[str, dt.date], list[EscalationStep]] = {}
    for task_id in list(overdue.values_list("pk", flat=True)[:20000]):
        with transaction.atomic():
            task = (
                Task.objects.select_for_update(of=("self",))
                .select_related("unit")
                .filter(pk=task_id, state=Task.State.OPEN)
                .first()
            )
            if task is None:
                continue
            key = (task.priority, task.rules_date)
            if key not in chains:
                chains[key] = _chain(task.priority, task.rules_date)
            late_hours = (now - task.deadline).total_seconds() / 3600
            reached = [s for s in chains[key] if late_hours >= s.hours_overdue]
            if not reached or reached[-1].step <= task.escalation_step:
                continue
            step = reached[-1]
            before = (task.escalation_step, task.escalated_to_id)
            task.escalation_step = step.step
            task.escalated_to = _target(task.unit, step.to_level)
            task.escalated_at = now
            task.save(
                update_fields=["escalation_step", "escalated_to", "escalated_at", "updated_at"]
            )
            audit_record(
                actor=None,
                action="task.escalate",
                obj=task,
                scope_path=task.scope_path,
                changes={
                    "escalation_step": [before[0], step.step],
                    "escalated_to": [before[1], task.escalated_to_id],
                },
            )
            moved += 1
    return moved
