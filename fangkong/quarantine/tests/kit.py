"""Helpers of the quarantine tests: a site taken through its lifecycle."""

from __future__ import annotations

from typing import Any

from fangkong.quarantine import selectors, services
from fangkong.quarantine.models import Site


def all_pass() -> dict[str, tuple[bool, str]]:
    return {i.code: (True, "") for i in selectors.acceptance_items()}


def inspected_site(manager: Any, node: Any, *, name: str = "如家酒店", tier: int = 1) -> Site:
    """A site registered, vacated and in inspection."""
    site = services.site_create(
        actor=manager,
        data=services.SiteData(name=name, jurisdiction_id=node.pk, tier=tier, planned_rooms=10),
    )
    services.site_transition(actor=manager, site_id=site.pk, to_state="vacating")
    return services.site_transition(actor=manager, site_id=site.pk, to_state="inspection")


def active_site(
    manager: Any,
    commander: Any,
    node: Any,
    *,
    rooms: int = 10,
    name: str = "如家酒店",
    tier: int = 1,
) -> Site:
    """A site that passed acceptance, with ``rooms`` clean rooms, activated."""
    site = inspected_site(manager, node, name=name, tier=tier)
    services.site_accept(actor=manager, site_id=site.pk, results=all_pass())
    per_floor = max((rooms + 1) // 2, 1)
    plan = services.rooms_numbered([2, 3], per_floor)[:rooms]
    services.rooms_add(actor=manager, site_id=site.pk, rooms=plan)
    return services.site_transition(actor=commander, site_id=site.pk, to_state="active")


def people(city: Any, n: int, *, building: Any = None) -> list[Any]:
    from fangkong.conftest import make_person

    home = building or city.xd_building
    return [make_person(home, name=f"隔离人员{i}") for i in range(n)]


def admit(
    manager: Any, site: Site, persons: list[Any], *, category: str = "close_contact", **kw: Any
) -> list[Any]:
    return services.stays_admit(
        actor=manager,
        site_id=site.pk,
        people=[services.AdmitData(person_id=p.pk, category=category, **kw) for p in persons],
    )


def in_rooms(manager: Any, site: Site, persons: list[Any], **kw: Any) -> list[Any]:
    """People admitted and given rooms at the site; their stays (refreshed)."""
    from fangkong.quarantine.models import Stay

    stays = admit(manager, site, persons, **kw)
    services.stays_allocate(actor=manager, site_id=site.pk, stay_ids=[s.pk for s in stays])
    return list(Stay.objects.filter(pk__in=[s.pk for s in stays]).order_by("id"))
