"""Periodic jobs of the status app (registered by core's autodiscovery)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_periodic_task(crontab(minute="*/5"))
def end_expired_reasons() -> int:
    """End reasons whose planned end has passed and recompute those people."""
    from fangkong.status.services.reasons import reasons_expire

    return reasons_expire()


@db_task(retries=3, retry_delay=30)
def notify_status_changes(by_level: dict[str, list[int]], stamp: str) -> int:
    """Tell many people their new level: one notify batch per level (deduplicated
    by ``stamp``, so a retry sends nothing twice)."""
    from fangkong.status.services.reasons import notify_batches

    return notify_batches(by_level, stamp)


@db_task(retries=3, retry_delay=5)
def deliver_resident_code(challenge_id: int) -> bool:
    """Make and send the one-time code of a resident's sign-in challenge (the
    request that asked for it does the same work for every document number)."""
    from fangkong.status.resident import resident_code_deliver

    return resident_code_deliver(challenge_id=challenge_id)
