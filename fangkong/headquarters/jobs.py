"""Periodic jobs of the headquarters app (registered by core's autodiscovery)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="*/5"))
def escalate_tasks() -> int:
    """Overdue tasks climb their escalation chain (idempotent)."""
    from fangkong.headquarters.services import tasks_escalate

    return tasks_escalate()


@db_periodic_task(crontab(hour="1", minute="10"))
def rebuild_case_figures() -> int:
    """Recount the dashboard's cached case cells of the last 35 days (a safety net
    for corrections that published no fact)."""
    from fangkong.headquarters.services.aggregates import case_figures_rebuild

    return case_figures_rebuild()


@db_periodic_task(crontab(minute="*/5"))
def make_daily_reports() -> list[int]:
    """Each area's daily report once its time of the morning has come (idempotent:
    one scheduled report an area and day), sent to its distribution list."""
    from fangkong.headquarters.services.reports import daily_reports_due

    return daily_reports_due()


@db_periodic_task(crontab(minute="*/5"))
def refresh_dashboard_figures() -> int:
    """Keep the dashboard's slow figures (days of supply, screening coverage) of the
    city warm in the cache, in every language."""
    from fangkong.headquarters.selectors.dashboard import slow_figures_refresh

    return slow_figures_refresh()
