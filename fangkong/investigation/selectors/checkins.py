"""Reads of check-ins: where a person of the user's area checked in."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet

from fangkong.core import permissions
from fangkong.core.selectors import access_person_by_id
from fangkong.investigation.models import CheckIn


def checkin_list_for_person(
    user: Any,
    person_id: int,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[CheckIn]:
    """A person's check-ins, newest first. The person must be in the user's area
    (else NotFound); the venues may be anywhere."""
    permissions.require(user, "checkin.view")
    person = access_person_by_id(user, person_id)
    qs = CheckIn.objects.filter(person=person).select_related("venue")
    if since is not None:
        qs = qs.filter(time__gte=since)
    if until is not None:
        qs = qs.filter(time__lt=until)
    return qs.order_by("-time", "-id")
