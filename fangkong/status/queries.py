"""Query parts shared by the status services and selectors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from fangkong.status.models import Reason


def active(now: dt.datetime) -> Q:
    """Reasons in force at ``now``."""
    return Q(ended_at__isnull=True, starts_at__lte=now) & (
        Q(ends_at__isnull=True) | Q(ends_at__gt=now)
    )


def clearable(latest: dt.datetime, now: dt.datetime) -> QuerySet[Reason, Any]:
    """Reasons in force whose rule ends them on negative tests and that began by
    ``latest`` (tests taken before a reason began do not count)."""
    return Reason.objects.filter(
        active(now), rule__clear_negative_tests__gt=0, starts_at__lte=latest
    ).order_by()
