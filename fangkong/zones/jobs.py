"""Periodic jobs of the zones app (registered by core's autodiscovery)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(hour="6", minute="30"))
def evaluate_zone_lifting() -> int:
    """Evaluate every zone in force against its level's lifting criteria; met ones
    wait in the commander's queue (nothing is lifted without approval)."""
    from fangkong.zones.services import lifting_evaluate_all

    return lifting_evaluate_all()


@db_periodic_task(crontab(minute="*/5"))
def escalate_overdue_service_requests() -> int:
    """Door-step requests past their SLA go to the top of the board (red)."""
    from fangkong.zones.services import service_requests_escalate

    return service_requests_escalate()
