"""The entry pages the demo logins open (``fangkong screenshots``, the browser
walk): the checkpoint officer's scan and board, an arrival, the transfers, the
lists and checkpoints of the city commander, the grid worker's hand-offs, and the
traveller's report on the public site."""

from __future__ import annotations

from fangkong.core.pagecheck import Screen
from fangkong.entry.models import Arrival, Category


def screens() -> list[Screen]:
    officer = ["/entry/", "/entry/transfers/", "/entry/checkpoints/"]
    arrival = (
        Arrival.objects.filter(category=Category.HOME, checkpoint__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if arrival is not None:
        officer.append(f"/entry/arrivals/{arrival}/")
    return [
        Screen("entry", "checkpoint_officer", officer),
        Screen(
            "entry",
            "city_commander",
            ["/entry/", "/entry/lists/", "/entry/checkpoints/", "/entry/transfers/"],
        ),
        Screen("entry", "grid_worker", ["/entry/handoffs/"]),
        Screen("entry", None, ["/me/arrival/"]),
    ]
