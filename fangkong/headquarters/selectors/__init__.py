"""Reads of the headquarters app, scoped to the user's area (outside it: 404)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from fangkong.core import permissions
from fangkong.core.dashboard import attention_items
from fangkong.core.errors import NotFound
from fangkong.core.models import Jurisdiction, StaffProfile, path_upper_bound
from fangkong.core.types import Actor
from fangkong.headquarters.models import Task


def _prefix(user: Actor) -> str | None:
    return permissions.scope_path(user)


def _under(qs: QuerySet[Any], prefix: str) -> QuerySet[Any]:
    if not prefix:
        return qs
    return qs.filter(scope_path__gte=prefix, scope_path__lt=path_upper_bound(prefix))


def task_list_for(
    user: Actor,
    *,
    state: str | None = Task.State.OPEN,
    overdue: bool = False,
    unit_id: int | None = None,
    now: dt.datetime | None = None,
) -> QuerySet[Task]:
    """Tasks of the user's area (any state with ``state=None``)."""
    prefix = _prefix(user)
    if prefix is None or not (
        permissions.has_capability(user, "task.assign")
        or permissions.has_capability(user, "task.handle")
    ):
        return Task.objects.none()
    qs = _under(Task.objects.all(), prefix)
    if state:
        qs = qs.filter(state=state)
    if overdue:
        qs = qs.filter(state=Task.State.OPEN, deadline__lt=now or timezone.now())
    if unit_id is not None:
        qs = qs.filter(unit_id=unit_id)
    return qs.select_related("unit", "assignee__staff", "escalated_to").order_by("deadline", "pk")


def access_task_by_id(user: Actor, task_id: int) -> Task:
    task = (
        Task.objects.select_related("unit", "assignee__staff", "escalated_to", "created_by__staff")
        .filter(pk=task_id)
        .first()
    )
    if task is None or not task_list_for(user, state=None).filter(pk=task_id).exists():
        raise NotFound()
    return task


@dataclass(frozen=True)
class Inbox:
    """What waits on one person: their tasks, their unit's unassigned ones, tasks
    escalated to their unit, and every module's generated work (counts with links)."""

    mine: list[Task]
    unit_queue: list[Task]
    escalated: list[Task]
    modules: list[dict[str, Any]]

    @property
    def total(self) -> int:
        return (
            len(self.mine)
            + len(self.unit_queue)
            + len(self.escalated)
            + sum(int(i["count"]) for i in self.modules)
        )


INBOX_SIZE = 200


def inbox_for(user: Actor) -> Inbox:
    profile = permissions.staff_profile(user)
    base = task_list_for(user)
    mine: list[Task] = []
    queue: list[Task] = []
    escalated: list[Task] = []
    if profile is not None:
        uid = getattr(user, "pk", None)
        mine = list(base.filter(assignee_id=uid)[:INBOX_SIZE])
        queue = list(
            base.filter(assignee__isnull=True, unit_id=profile.jurisdiction_id)[:INBOX_SIZE]
        )
        if permissions.has_capability(user, "task.assign"):
            escalated = list(
                base.filter(escalated_to_id=profile.jurisdiction_id)
                .exclude(Q(assignee_id=uid))
                .order_by("-escalation_step", "deadline", "pk")[:INBOX_SIZE]
            )
    modules = [i for i in attention_items(user) if i.get("source") != "headquarters"]
    return Inbox(mine=mine, unit_queue=queue, escalated=escalated, modules=modules)


def unit_choices_for(user: Actor) -> list[Jurisdiction]:
    """Units a task may go to: the user's node and the nodes down to grids below it."""
    prefix = _prefix(user)
    if prefix is None:
        return []
    qs = Jurisdiction.objects.exclude(level=Jurisdiction.Level.BUILDING)
    if prefix:
        qs = qs.filter(path__gte=prefix, path__lt=path_upper_bound(prefix))
    return list(qs.order_by("path")[:2000])


def assignee_choices_for(user: Actor) -> list[Any]:
    """Staff of the user's area who may handle tasks (for the assignment form)."""
    prefix = _prefix(user)
    if prefix is None:
        return []
    profiles = StaffProfile.objects.select_related("user", "jurisdiction").filter(
        user__is_active=True
    )
    if prefix:
        profiles = profiles.filter(
            jurisdiction__path__gte=prefix, jurisdiction__path__lt=path_upper_bound(prefix)
        )
    return [
        p.user
        for p in profiles.order_by("jurisdiction__path", "display_name", "pk")[:2000]
        if permissions.has_capability(p.user, "task.handle")
    ]
