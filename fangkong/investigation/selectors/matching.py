"""Reads of co-presence matches, scoped through their case."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from fangkong.core import permissions
from fangkong.core.errors import NotFound
from fangkong.investigation.models import ExposureMatch
from fangkong.investigation.selectors.cases import access_case_by_id


def match_list_for(
    user: Any, case_id: int, *, status: str | None = None
) -> QuerySet[ExposureMatch]:
    """The exposed-persons list of a case, ranked by overlap minutes."""
    case = access_case_by_id(user, case_id)
    qs = ExposureMatch.objects.filter(case=case).select_related("venue", "person", "stop")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-overlap_minutes", "window_start", "id")


def access_match_by_id(user: Any, match_id: int, *, for_update: bool = False) -> ExposureMatch:
    permissions.require(user, "case.view")
    qs = ExposureMatch.objects.select_related("case", "venue", "person")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    match = qs.filter(pk=match_id).first()
    if match is None or not permissions.in_scope(user, match.case.scope_path):
        raise NotFound()
    return match
