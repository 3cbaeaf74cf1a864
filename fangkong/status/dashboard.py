"""What the status module puts on the command centre's "needs attention" list."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.status import selectors


def attention(user: Any) -> list[dict[str, Any]]:
    if permissions.scope_path(user) is None:
        return []
    items: list[dict[str, Any]] = []
    if permissions.has_capability(user, "status.approve"):
        pending = selectors.manual_requests_for(user, state="pending").count()
        items.append(
            {
                "text": _("Manual status changes waiting for a second approver"),
                "count": pending,
                "url": reverse("status:approvals"),
                "severity": "medium",
            }
        )
    if permissions.has_capability(user, "status.appeals"):
        overdue = selectors.appeals_for(user).filter(due_at__lt=timezone.now()).count()
        items.append(
            {
                "text": _("Status appeals past their deadline"),
                "count": overdue,
                "url": reverse("status:appeals"),
                "severity": "high",
            }
        )
    if permissions.has_capability(user, "status.report"):
        alerts = selectors.manual_alerts(user)
        items.append(
            {
                "text": _("Unusual manual red statuses (alerts)"),
                "count": len(alerts),
                "url": reverse("status:report"),
                "severity": "high",
            }
        )
    return items
