"""What the screening module puts on the command centre's "needs attention" list."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.screening import selectors


def attention(user: Any) -> list[dict[str, Any]]:
    if permissions.scope_path(user) is None or not permissions.has_capability(
        user, "screening.manage"
    ):
        return []
    return [
        {
            "text": _("Lab results held or in conflict, waiting for review"),
            "count": selectors.held_reports_for(user).count(),
            "url": reverse("screening:reviews"),
            "severity": "high",
        }
    ]
