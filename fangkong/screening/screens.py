"""The screening pages of the demo command, sampler and laboratory (``fangkong screenshots``)."""

from __future__ import annotations

from fangkong.core.pagecheck import Screen
from fangkong.screening.models import Round


def screens() -> list[Screen]:
    paths = ["/screening/"]
    for state in (Round.State.CLOSED, Round.State.OPEN):
        found = Round.objects.filter(state=state).order_by("pk").first()
        if found is not None:
            paths.append(f"/screening/rounds/{found.pk}/")
    paths += ["/screening/setup/rounds/", "/screening/setup/sites/"]
    return [
        Screen("screening", "city_commander", paths),
        Screen("screening", "sampler", ["/screening/sample/", "/screening/boxes/"]),
        Screen("screening", "lab_technician", ["/screening/lab/"]),
    ]
