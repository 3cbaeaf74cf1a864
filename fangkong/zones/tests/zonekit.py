"""Shared set-up of the zones tests: residents, a fake status app, a quick declare."""

from __future__ import annotations

from typing import Any

from fangkong.conftest import make_person
from fangkong.zones import services


def active_kinds(person_id: int) -> set[str]:
    """The person's active status reasons that come from zones."""
    from fangkong.status.models import Reason

    return set(
        Reason.objects.filter(
            person_id=person_id, source_type="zones.zone", ended_at__isnull=True
        ).values_list("kind", flat=True)
    )


def zone_reasons(zone_id: int, *, active: bool = True) -> list[Any]:
    from fangkong.status.models import Reason

    return list(
        Reason.objects.filter(
            source_type="zones.zone", source_id=zone_id, ended_at__isnull=active
        ).order_by("person_id")
    )


def residents(city: Any, n: int = 3, *, building: Any = None) -> list[Any]:
    home = building or city.xd_building
    return [make_person(home, name=f"居民{i}", phone=f"1380000{i:04d}") for i in range(n)]


def declare(
    officer: Any, commander: Any, units: list[Any], level: str = "high", name: str = "坞城高风险区"
) -> Any:
    proposal = services.zone_propose_declare(
        actor=officer, name=name, level=level, node_ids=[u.pk for u in units], reason="病例居住地"
    )
    services.proposal_approve(
        actor=commander, proposal_id=proposal.pk, decision_number="并防控〔2022〕1号"
    )
    proposal.zone.refresh_from_db()
    return proposal.zone
