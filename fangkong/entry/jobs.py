"""Periodic jobs of the entry app (registered by core's autodiscovery)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="*/5"))
def escalate_overdue_transfers() -> int:
    """Transfers not handed over at their destination within their window."""
    from fangkong.entry.services import transfers_escalate

    return transfers_escalate()
