"""The quarantine pages of the demo site manager (``fangkong screenshots``)."""

from __future__ import annotations

from fangkong.core.pagecheck import Screen
from fangkong.quarantine.models import Hospital, Site, Stay


def screens() -> list[Screen]:
    paths = ["/quarantine/", "/quarantine/sites/"]
    site = Site.objects.filter(state=Site.State.ACTIVE).order_by("pk").first()
    if site is not None:
        paths.append(f"/quarantine/sites/{site.pk}/")
    paths.append("/quarantine/stays/")
    stay = Stay.objects.filter(state=Stay.State.IN_ROOM).order_by("pk").first()
    if stay is not None:
        paths.append(f"/quarantine/stays/{stay.pk}/")
    paths += ["/quarantine/approvals/", "/quarantine/orders/", "/quarantine/staff/"]
    hospital_paths = ["/quarantine/hospitals/"]
    hospital = Hospital.objects.order_by("pk").first()
    if hospital is not None:
        hospital_paths.append(f"/quarantine/hospitals/{hospital.pk}/")
    return [
        Screen("quarantine", "quarantine_manager", paths),
        Screen("quarantine", "medical_officer", hospital_paths),
    ]
