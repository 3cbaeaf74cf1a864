"""Periodic jobs of the screening app (registered by core's autodiscovery)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="*/15"))
def screening_schedules_sweep() -> dict[str, int]:
    """Remind people overdue on a standing schedule; then an "overdue screening" reason."""
    from fangkong.screening.services.schedules import schedules_sweep

    return schedules_sweep()


@db_periodic_task(crontab(minute="*/10"))
def screening_retests_escalate() -> dict[str, int]:
    """Escalate retest tasks not done in time: SMS, then grid worker, then CDC."""
    from fangkong.screening.services.followup import retests_escalate

    return retests_escalate()
