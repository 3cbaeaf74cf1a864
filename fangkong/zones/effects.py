"""Seams to the other apps: status reasons, test results, cases, SMS.

Each function imports its app lazily. ``status`` and ``screening`` are built in
parallel with this app; until their services exist the calls are skipped with a
warning (and tests that need them skip), so zones work on their own and pick
the effects up as soon as the other app lands.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

logger = logging.getLogger(__name__)

SOURCE_TYPE = "zones.zone"


def status_available() -> bool:
    try:
        from fangkong.status.services import reasons_end, reasons_grant  # noqa: F401
    except ImportError:
        return False
    return True


def reasons_grant(*, kind: str, zone_id: int, person_ids: list[int], actor: Any) -> int:
    if not kind or not person_ids:
        return 0
    try:
        from fangkong.status.services import reasons_grant as grant
    except ImportError:
        logger.warning("status services missing: zone %s reasons not granted", zone_id)
        return 0
    return int(
        grant(
            kind=kind,
            person_ids=person_ids,
            source_type=SOURCE_TYPE,
            source_id=zone_id,
            actor=actor,
            notify=False,  # the zone's own SMS batch tells the residents
        )
    )


def reasons_end(
    *,
    zone_id: int,
    how: str,
    actor: Any,
    person_ids: list[int] | None = None,
    kind: str | None = None,
) -> int:
    try:
        from fangkong.status.services import reasons_end as end
    except ImportError:
        logger.warning("status services missing: zone %s reasons not ended", zone_id)
        return 0
    return int(
        end(
            source_type=SOURCE_TYPE,
            source_id=zone_id,
            how=how,
            person_ids=person_ids,
            kind=kind,
            actor=actor,
            notify=False,
        )
    )


def latest_results(person_ids: Iterable[int]) -> dict[int, dict[str, Any]] | None:
    """``{person_id: {"result", "sampled_at"}}`` from screening, or None when the
    screening app does not offer it yet (the criterion is then "unknown")."""
    import importlib

    try:
        module = importlib.import_module("fangkong.screening.selectors")
    except ImportError:
        return None
    latest = getattr(module, "latest_result_by_person", None)
    if latest is None:
        return None
    return dict(latest(person_ids))


def last_case_dates(unit_paths: list[str]) -> tuple[dt.date | None, int]:
    """The latest report date of a (not excluded) case among residents of these
    units, and how many such cases there are."""
    from fangkong.investigation.selectors.shared import case_summary_under

    return case_summary_under(unit_paths)


def sms_batch(
    *,
    actor: Any,
    template_code: str,
    person_ids: list[int],
    context: dict[str, Any],
    dedup_key: str,
) -> int | None:
    """Queue one SMS per resident (sent by the worker after commit)."""
    if not person_ids:
        return None
    from fangkong.notify.services import batch_create

    batch = batch_create(
        actor=actor,
        purpose="zone",
        template_code=template_code,
        context=context,
        person_ids=person_ids,
        legally_required=True,
        dedup_key=dedup_key,
    )
    return int(batch.pk)
