"""Notification settings with their defaults (all optional in settings.py)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings


def rate_per_minute() -> int:
    """Default per-batch sending rate."""
    return int(getattr(settings, "FANGKONG_SMS_RATE_PER_MINUTE", 600))


def inline_batch_limit() -> int:
    """Up to this many recipients a batch's messages are prepared in the request that
    creates it; a larger batch is prepared by the worker (progress shown)."""
    return int(getattr(settings, "FANGKONG_SMS_INLINE_BATCH", 5000))


def max_attempts() -> int:
    return int(getattr(settings, "FANGKONG_SMS_MAX_ATTEMPTS", 5))


def lease_seconds() -> float:
    """A worker's claim on its messages lapses this long after its last heartbeat."""
    return max(3.0, float(getattr(settings, "FANGKONG_SMS_LEASE_SECONDS", 30)))


def retry_base_seconds() -> float:
    """First retry after this many seconds, then twice as long each time."""
    return float(getattr(settings, "FANGKONG_SMS_RETRY_BASE_SECONDS", 30))


def default_quiet_hours() -> tuple[dt.time, dt.time, str]:
    """``FANGKONG_SMS_QUIET_HOURS = "22:00-07:00"`` (empty: no quiet hours)."""
    raw = str(getattr(settings, "FANGKONG_SMS_QUIET_HOURS", "22:00-07:00")).strip()
    tz = str(getattr(settings, "TIME_ZONE", "Asia/Shanghai"))
    if not raw:
        return dt.time(0, 0), dt.time(0, 0), tz
    start, end = (dt.time.fromisoformat(part.strip()) for part in raw.split("-", 1))
    return start, end, tz
