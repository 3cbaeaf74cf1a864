"""Periodic jobs of the status app (registered by core's autodiscovery)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="*/5"))
def end_expired_reasons() -> int:
    """End reasons whose planned end has passed and recompute those people."""
    from fangkong.status.services.reasons import reasons_expire

    return reasons_expire()
