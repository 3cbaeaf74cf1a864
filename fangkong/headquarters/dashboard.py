"""What the headquarters module puts on the command centre's "needs attention" list."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.types import Actor
from fangkong.headquarters import selectors


def attention(user: Actor) -> list[dict[str, Any]]:
    return _task_items(user) + _supervision_items(user)


def _supervision_items(user: Actor) -> list[dict[str, Any]]:
    """Accountability waiting for a second person's decision; findings being rectified;
    staff whose duty breaks the rotation rule."""
    from fangkong.headquarters.models import Accountability, Finding
    from fangkong.headquarters.selectors import ops

    if permissions.scope_path(user) is None:
        return []
    items: list[dict[str, Any]] = []
    if permissions.has_capability(user, "accountability.decide"):
        waiting = (
            ops.accountability_list_for(user, state=Accountability.State.PROPOSED)
            .exclude(proposed_by_id=getattr(user, "pk", None))
            .count()
        )
        items.append(
            {
                "text": _("Accountability proposals waiting for your decision"),
                "count": waiting,
                "url": reverse("headquarters:accountability_list") + "?state=proposed",
                "severity": "high",
                "source": "headquarters",
            }
        )
    if any(permissions.has_capability(user, c) for c in ops.INSPECTION_CAPS):
        plans = ops.plan_list_for(user).values("pk")
        open_findings = Finding.objects.filter(
            state=Finding.State.OPEN, visit__plan__in=plans
        ).count()
        items.append(
            {
                "text": _("Inspection findings being rectified"),
                "count": open_findings,
                "url": reverse("headquarters:plans"),
                "severity": "medium",
                "source": "headquarters",
            }
        )
    if permissions.has_capability(user, "duty.manage"):
        items.append(
            {
                "text": _("Frontline staff over the rotation rule"),
                "count": len([o for o in ops.overwork_for(user) if not o.rotation_planned]),
                "url": reverse("headquarters:care"),
                "severity": "medium",
                "source": "headquarters",
            }
        )
    return items


def _task_items(user: Actor) -> list[dict[str, Any]]:
    if permissions.scope_path(user) is None or not (
        permissions.has_capability(user, "task.assign")
        or permissions.has_capability(user, "task.handle")
    ):
        return []
    profile = permissions.staff_profile(user)
    overdue = selectors.task_list_for(user, overdue=True)
    if not permissions.has_capability(user, "task.assign") and profile is not None:
        overdue = overdue.filter(assignee_id=user.pk if user is not None else None)
    return [
        {
            "text": _("Tasks past their deadline"),
            "count": overdue.count(),
            "url": reverse("headquarters:tasks") + "?overdue=1",
            "severity": "high",
            "source": "headquarters",
        }
    ]
