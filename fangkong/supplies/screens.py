"""The supplies pages the demo supplies officer and zone team member open
(``fangkong screenshots``)."""

from __future__ import annotations

from fangkong.core.demo import demo_district
from fangkong.core.pagecheck import Screen
from fangkong.supplies.models import Delivery, Warehouse


def screens() -> list[Screen]:
    paths = ["/supplies/", "/supplies/warehouses/"]
    home = demo_district()
    wh = Warehouse.objects.filter(jurisdiction=home).order_by("pk").first() if home else None
    if wh is not None:
        paths.append(f"/supplies/warehouses/{wh.pk}/")
    paths += ["/supplies/prices/", "/supplies/deliveries/", "/supplies/deliveries/new/"]
    team: list[str] = []
    for state in (Delivery.State.DELIVERED, Delivery.State.DISPATCHED):
        d = Delivery.objects.filter(state=state).order_by("pk").first()
        if d is not None:
            paths.append(f"/supplies/deliveries/{d.pk}/")
            team.append(f"/supplies/deliveries/{d.pk}/")
    return [
        Screen("supplies", "supplies_officer", paths),
        Screen("supplies", "zone_team_member", ["/supplies/deliveries/", *team[1:]]),
    ]
