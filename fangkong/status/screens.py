"""The status pages of the demo status officer (``fangkong screenshots``)."""

from __future__ import annotations

from fangkong.core.pagecheck import Screen
from fangkong.status.models import Reason


def screens() -> list[Screen]:
    paths = ["/status/"]
    person = Reason.objects.order_by("pk").values_list("person_id", flat=True).first()
    if person is not None:
        paths.append(f"/status/people/{person}/")
    paths += ["/status/approvals/", "/status/appeals/", "/status/report/"]
    return [Screen("status", "status_officer", paths)]
