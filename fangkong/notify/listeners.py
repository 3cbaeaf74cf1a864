"""Facts of other apps that notify acts on (subscribed in ``NotifyConfig.ready``).

Zones: the residents of a zone declared, raised or lowered, enlarged, reduced or
lifted get the zone's SMS (legally required: opt-outs do not apply). Each batch
is keyed by the zone and the approved proposal (``zone-<zone>-p<proposal>``), so
a fact delivered twice sends nobody a second message.
"""

from __future__ import annotations

from typing import Any

from fangkong.core import events
from fangkong.notify.services import batch_create_system


def _zone_batch(
    template_code: str,
    zone_id: int,
    proposal_id: int,
    person_ids: list[int],
    context: dict[str, Any],
) -> None:
    if not person_ids:
        return
    batch_create_system(
        purpose="zone",
        template_code=template_code,
        context=context,
        person_ids=person_ids,
        legally_required=True,
        dedup_key=f"zone-{zone_id}-p{proposal_id}",
    )


def on_zone_in_force(
    *,
    zone_id: int,
    proposal_id: int,
    zone_name: str,
    level_name_zh: str,
    level_name_en: str,
    rules_zh: str,
    rules_en: str,
    person_ids: list[int],
    **_: Any,
) -> None:
    """A zone declared, its level changed or units added: the residents concerned
    are told the level and its rules (each language's template takes its own)."""
    context = {
        "zone": zone_name,
        "level": level_name_zh,
        "rules": rules_zh,
        "level_en": level_name_en,
        "rules_en": rules_en,
    }
    _zone_batch("zone_declared", zone_id, proposal_id, person_ids, context)


def on_zone_released(
    *, zone_id: int, proposal_id: int, zone_name: str, person_ids: list[int], **_: Any
) -> None:
    """A zone lifted or units taken out of it: their residents are told."""
    _zone_batch("zone_lifted", zone_id, proposal_id, person_ids, {"zone": zone_name})


def connect() -> None:
    events.subscribe("zone.declared", on_zone_in_force)
    events.subscribe("zone.level_changed", on_zone_in_force)
    events.subscribe("zone.units_added", on_zone_in_force)
    events.subscribe("zone.units_removed", on_zone_released)
    events.subscribe("zone.lifted", on_zone_released)
