"""Writes of the headquarters app (tasks and their escalation; supervision,
accountability, task forces, duty and staff care)."""

from fangkong.headquarters.services.accountability import (
    accountability_decide,
    accountability_propose,
)
from fangkong.headquarters.services.duty import (
    handover_receive,
    handover_write,
    recognition_record,
    rotation_plan_create,
    shift_add,
    shift_remove,
    taskforce_create,
    taskforce_member_add,
    taskforce_member_remove,
)
from fangkong.headquarters.services.inspections import (
    FindingIn,
    finding_reinspect,
    photo_add,
    plan_close,
    plan_create,
    visit_record,
)
from fangkong.headquarters.services.tasks import (
    auto_assignee,
    capability_for,
    responsible_set,
    task_assign,
    task_cancel,
    task_complete,
    task_create,
    tasks_escalate,
)

__all__ = [
    "FindingIn",
    "accountability_decide",
    "accountability_propose",
    "auto_assignee",
    "capability_for",
    "finding_reinspect",
    "handover_receive",
    "handover_write",
    "photo_add",
    "plan_close",
    "plan_create",
    "recognition_record",
    "responsible_set",
    "rotation_plan_create",
    "shift_add",
    "shift_remove",
    "task_assign",
    "task_cancel",
    "task_complete",
    "task_create",
    "taskforce_create",
    "taskforce_member_add",
    "taskforce_member_remove",
    "tasks_escalate",
    "visit_record",
]
