"""Reads of follow-up teams and daily follow-up lists, scoped to the user's area."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from fangkong.core import permissions
from fangkong.core.errors import NotFound
from fangkong.investigation.models import FollowUp, FollowUpTeam
from fangkong.investigation.selectors.cases import scoped


def followup_list_for(
    user: Any,
    *,
    day: dt.date | None = None,
    mine: bool = False,
    team_id: int | None = None,
    status: str | None = None,
) -> QuerySet[FollowUp]:
    """A day's follow-ups (today by default) in the user's area; ``mine``: only
    those of the teams the user belongs to."""
    permissions.require(user, "contact.view")
    prefix = permissions.scope_path(user)
    if prefix is None:
        return FollowUp.objects.none()
    qs = scoped(FollowUp.objects.all(), prefix).filter(date=day or timezone.localdate())
    if mine:
        qs = qs.filter(team__members=user)
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("contact", "contact__person", "team").order_by("id")


def access_followup_by_id(user: Any, followup_id: int, *, for_update: bool = False) -> FollowUp:
    permissions.require(user, "contact.view")
    qs = FollowUp.objects.select_related("contact", "contact__disease", "contact__person", "team")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    fu = qs.filter(pk=followup_id).first()
    if fu is None or not permissions.in_scope(user, fu.scope_path):
        raise NotFound()
    return fu


def team_list_for(user: Any) -> QuerySet[FollowUpTeam]:
    permissions.require(user, "contact.view")
    prefix = permissions.scope_path(user)
    if prefix is None:
        return FollowUpTeam.objects.none()
    return scoped(FollowUpTeam.objects.all(), prefix).order_by("scope_path", "id")


def access_team_by_id(user: Any, team_id: int) -> FollowUpTeam:
    permissions.require(user, "contact.view")
    team = FollowUpTeam.objects.filter(pk=team_id).first()
    if team is None or not permissions.in_scope(user, team.scope_path):
        raise NotFound()
    return team
