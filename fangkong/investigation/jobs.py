"""Periodic jobs of the investigation app (registered by core's autodiscovery)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(hour="3", minute="15"))
def purge_expired_checkins() -> int:
    """Delete check-ins older than the retention period (logged with count and cut-off)."""
    from fangkong.investigation.services.checkins import checkin_purge_expired

    return checkin_purge_expired()


@db_periodic_task(crontab(hour="5", minute="0"))
def generate_daily_followups() -> int:
    """Build this morning's follow-up lists for every contact under monitoring."""
    from fangkong.investigation.services.followup import followup_generate_daily

    return followup_generate_daily()
