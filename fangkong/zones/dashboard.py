"""What the zones module puts on the command centre's "needs attention" list."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.zones import selectors
from fangkong.zones.models import TeamMember, Zone


def attention(user: Any) -> list[dict[str, Any]]:
    if permissions.scope_path(user) is None or not permissions.has_capability(user, "zone.view"):
        return []
    items: list[dict[str, Any]] = []
    if permissions.has_capability(user, "zone.approve"):
        items.append(
            {
                "text": _("Zone proposals waiting for the command's approval"),
                "count": selectors.proposals_pending_for(user).count(),
                "url": reverse("zones:approvals"),
                "severity": "medium",
            }
        )
        items.append(
            {
                "text": _("Zones that meet their lifting criteria"),
                "count": selectors.recommendations_open_for(user).count(),
                "url": reverse("zones:approvals"),
                "severity": "medium",
            }
        )
    overdue = selectors.requests_for(user, open_only=True).filter(due_at__lt=timezone.now()).count()
    items.append(
        {
            "text": _("Door-step service requests past their deadline"),
            "count": overdue,
            "url": reverse("zones:requests"),
            "severity": "high",
        }
    )
    gaps = (
        selectors.zone_list_for(user, state=Zone.State.ACTIVE)
        .annotate(roles=Count("team__role", distinct=True))
        .filter(roles__lt=len(TeamMember.Role.choices))
        .count()
    )
    items.append(
        {
            "text": _("Zones in force without a complete four-ones team"),
            "count": gaps,
            "url": reverse("zones:overview"),
            "severity": "high",
        }
    )
    return items
