"""The core pages a demo login opens (``fangkong screenshots``, the browser walk)."""

from __future__ import annotations

from fangkong.core.models import Person
from fangkong.core.pagecheck import Screen


def screens() -> list[Screen]:
    # A person with a history (status reasons, unmasking): the outbreak's first case.
    person = Person.objects.order_by("-updated_at").values_list("pk", flat=True).first()
    paths = ["/console/", "/people/", "/jurisdictions/"]
    if person is not None:
        paths.append(f"/people/{person}/")
    return [
        Screen("core", "city_commander", paths),
        Screen("core", "auditor", ["/console/", "/audit/"]),
    ]
