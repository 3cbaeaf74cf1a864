"""Periodic jobs of the quarantine app (registered by core's autodiscovery)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="*/10"))
def evaluate_tiers() -> int:
    """Propose the next site of a pool whose active sites passed the threshold
    (also done after each allocation; this catches rooms freed or taken otherwise)."""
    from fangkong.quarantine.services import tiers_evaluate_all

    return tiers_evaluate_all()


@db_periodic_task(crontab(hour="0", minute="20"))
def finish_staff_monitoring() -> int:
    """Site workers whose monitoring after rotation ran out are done."""
    from fangkong.quarantine.services import periods_finish

    return periods_finish()
