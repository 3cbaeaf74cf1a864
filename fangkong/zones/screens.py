"""The zone pages the demo district officer opens (``fangkong screenshots``)."""

from __future__ import annotations

from fangkong.core.pagecheck import Screen
from fangkong.zones.models import Zone


def screens() -> list[Screen]:
    paths = ["/zones/", "/zones/map/", "/zones/list/"]
    zone = Zone.objects.filter(state=Zone.State.ACTIVE).order_by("pk").first()
    if zone is not None:
        paths.append(f"/zones/{zone.pk}/")
    paths += ["/zones/approvals/", "/zones/requests/"]
    return [Screen("zones", "district_officer", paths)]
