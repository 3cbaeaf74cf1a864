"""API of the headquarters app (mounted at /api/v1/hq/): tasks and the "my work"
inbox. Thin: each endpoint validates its input and calls one service or
selector; outside the user's area is a 404."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router
from ninja.pagination import paginate
from ninja.responses import Status

from fangkong.core import permissions
from fangkong.core.errors import PermissionDenied
from fangkong.core.pagination import PageNumber
from fangkong.core.schema import Schema
from fangkong.headquarters import selectors, services
from fangkong.headquarters.models import Priority, Task, TaskKind

router = Router(tags=["headquarters"])


class _Mapped:
    """A queryset seen through a row function, sliced lazily by the paginator."""

    def __init__(self, qs: Any, fn: Any) -> None:
        self.qs, self.fn = qs, fn

    def __getitem__(self, part: slice) -> list[Any]:
        return [self.fn(row) for row in self.qs[part]]

    def __len__(self) -> int:
        return int(self.qs.count())


class TaskIn(Schema):
    title: str = Field(..., max_length=200)
    unit_id: int
    deadline: dt.datetime
    priority: str = Priority.NORMAL.value
    kind: str = TaskKind.GENERAL.value
    details: str = Field("", max_length=4000)
    assignee_id: int | None = None


class AssignIn(Schema):
    assignee_id: int | None = None


class CompleteIn(Schema):
    note: str = Field("", max_length=4000)


class CancelIn(Schema):
    reason: str = Field(..., max_length=2000)


class TaskOut(Schema):
    id: int
    kind: str
    kind_label: str
    title: str
    details: str
    unit_id: int
    unit: str
    assignee_id: int | None
    assigned_how: str
    priority: str
    priority_label: str
    deadline: dt.datetime
    state: str
    state_label: str
    overdue: bool
    escalation_step: int
    escalated_to: str | None
    done_at: dt.datetime | None


class TaskFilters(Schema):
    state: str | None = None
    overdue: bool = False
    unit_id: int | None = None


class InboxItemOut(Schema):
    text: str
    count: int
    url: str
    severity: str


class InboxOut(Schema):
    mine: list[TaskOut]
    unit_queue: list[TaskOut]
    escalated: list[TaskOut]
    modules: list[InboxItemOut]


def _task_out(t: Task) -> dict[str, Any]:
    from django.utils import timezone

    return {
        "id": t.pk,
        "kind": t.kind,
        "kind_label": str(t.get_kind_display()),
        "title": t.title,
        "details": t.details,
        "unit_id": t.unit_id,
        "unit": t.unit.name,
        "assignee_id": t.assignee_id,
        "assigned_how": t.assigned_how,
        "priority": t.priority,
        "priority_label": str(t.get_priority_display()),
        "deadline": t.deadline,
        "state": t.state,
        "state_label": str(t.get_state_display()),
        "overdue": t.state == Task.State.OPEN and t.deadline < timezone.now(),
        "escalation_step": t.escalation_step,
        "escalated_to": t.escalated_to.name if t.escalated_to else None,
        "done_at": t.done_at,
    }


def _require_tasks(user: Any) -> None:
    if not (
        permissions.has_capability(user, "task.assign")
        or permissions.has_capability(user, "task.handle")
    ):
        raise PermissionDenied()


@router.get("/tasks", response=list[TaskOut])
@paginate(PageNumber)
def task_list(request: HttpRequest, filters: Query[TaskFilters]) -> Any:
    _require_tasks(request.user)
    state = filters.state if filters.state in Task.State.values else None
    qs = selectors.task_list_for(
        request.user, state=state, overdue=filters.overdue, unit_id=filters.unit_id
    )
    return _Mapped(qs, _task_out)


@router.post("/tasks", response={201: TaskOut})
def task_create(request: HttpRequest, payload: TaskIn) -> Status[Any]:
    task = services.task_create(actor=request.user, **payload.dict())
    return Status(201, _task_out(selectors.access_task_by_id(request.user, task.pk)))


@router.get("/tasks/{int:task_id}", response=TaskOut)
def task_detail(request: HttpRequest, task_id: int) -> dict[str, Any]:
    return _task_out(selectors.access_task_by_id(request.user, task_id))


@router.post("/tasks/{int:task_id}/assign", response=TaskOut)
def task_assign(request: HttpRequest, task_id: int, payload: AssignIn) -> dict[str, Any]:
    services.task_assign(actor=request.user, task_id=task_id, assignee_id=payload.assignee_id)
    return _task_out(selectors.access_task_by_id(request.user, task_id))


@router.post("/tasks/{int:task_id}/done", response=TaskOut)
def task_complete(request: HttpRequest, task_id: int, payload: CompleteIn) -> dict[str, Any]:
    services.task_complete(actor=request.user, task_id=task_id, note=payload.note)
    return _task_out(selectors.access_task_by_id(request.user, task_id))


@router.post("/tasks/{int:task_id}/cancel", response=TaskOut)
def task_cancel(request: HttpRequest, task_id: int, payload: CancelIn) -> dict[str, Any]:
    services.task_cancel(actor=request.user, task_id=task_id, reason=payload.reason)
    return _task_out(selectors.access_task_by_id(request.user, task_id))


@router.get("/inbox", response=InboxOut)
def inbox(request: HttpRequest) -> dict[str, Any]:
    _require_tasks(request.user)
    box = selectors.inbox_for(request.user)
    return {
        "mine": [_task_out(t) for t in box.mine],
        "unit_queue": [_task_out(t) for t in box.unit_queue],
        "escalated": [_task_out(t) for t in box.escalated],
        "modules": [
            {
                "text": str(i["text"]),
                "count": int(i["count"]),
                "url": i["url"],
                "severity": i["severity"],
            }
            for i in box.modules
        ],
    }
