"""Periodic jobs of ``core`` (run by the Huey consumer, ``fangkong run_huey``)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from fangkong.core import events
from fangkong.core.services import jurisdiction_recount

NIGHTLY_LOCAL_HOUR = 2  # 02:30 in the platform's TIME_ZONE


def utc_hour(local_hour: int) -> int:
    """Huey evaluates crontabs in UTC: the UTC hour of ``local_hour`` in TIME_ZONE
    (offset taken when the consumer starts)."""
    offset = dt.datetime.now(zoneinfo.ZoneInfo(settings.TIME_ZONE)).utcoffset()
    hours = int(offset.total_seconds() // 3600) if offset else 0
    return (local_hour - hours) % 24


@db_periodic_task(crontab(hour=str(utc_hour(NIGHTLY_LOCAL_HOUR)), minute="30"))
def refresh_resident_counts() -> int:
    """Nightly: refresh every node's cached resident count (derived data, not audited)."""
    return jurisdiction_recount()


@db_periodic_task(crontab(hour=str(utc_hour(NIGHTLY_LOCAL_HOUR)), minute="45"))
def refresh_table_statistics() -> None:
    """Nightly: keep the query planner's statistics fresh (see synth.analyze_tables)."""
    from fangkong.core.synth import analyze_tables

    analyze_tables()


@db_periodic_task(crontab(minute="*"))
def facts_retry() -> int:
    """Every minute: deliver the domain facts whose handlers failed (or whose
    delivery after commit never ran), see ``core.events``."""
    return events.deliver_due()
