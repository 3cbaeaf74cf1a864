"""What the supplies module puts on the command centre's "needs attention" list."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.types import Actor
from fangkong.supplies import selectors

ALERT_WINDOW_DAYS = 7


def attention(user: Actor) -> list[dict[str, Any]]:
    if not permissions.has_capability(user, "supplies.view"):
        return []
    if permissions.scope_path(user) is None:
        return []
    low = selectors.supply_alerts_for(user)
    since = timezone.localdate() - dt.timedelta(days=ALERT_WINDOW_DAYS - 1)
    rises = selectors.price_list_for(user, since=since, alert=True).count()
    zones = selectors.zone_supply_for(user)
    return [
        {
            "text": _("Sealed zones whose delivered supplies run below the alert line"),
            "count": sum(1 for z in zones if z.level == "alert"),
            "url": reverse("supplies:deliveries"),
            "severity": "high",
        },
        {
            "text": _("Door-step requests of sealed zones waiting for a delivery"),
            "count": sum(z.waiting_requests for z in zones),
            "url": reverse("supplies:deliveries"),
            "severity": "medium",
        },
        {
            "text": _("Items of a district below their days-of-supply alert line"),
            "count": len(low),
            "url": reverse("supplies:overview"),
            "severity": "high",
        },
        {
            "text": _("Market prices risen over the alert line this week"),
            "count": rises,
            "url": reverse("supplies:overview"),
            "severity": "medium",
        },
    ]
