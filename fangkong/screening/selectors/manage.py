"""Reads of the screening set-up pages (sites, teams, areas to choose) and the
review queue of held and conflicting result reports, scoped to the user's subtree."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from fangkong.core import permissions
from fangkong.core.errors import NotFound
from fangkong.core.models import Jurisdiction
from fangkong.core.selectors import area_choices_for as core_area_choices_for
from fangkong.screening.models import Lab, ResultReport, Site, Team
from fangkong.screening.selectors import _under, held_reports_for

# The set-up pages offer the user's node and a few levels below it (buildings never).
AREA_LEVELS_BELOW = 3
AREA_CHOICES_LIMIT = 500


def area_choices_for(user: Any) -> list[Jurisdiction]:
    """Areas a round, site, lab or team may cover, in tree order."""
    return core_area_choices_for(
        user, levels_below=AREA_LEVELS_BELOW, buildings=False, limit=AREA_CHOICES_LIMIT
    )


def site_list_for(user: Any) -> QuerySet[Site]:
    permissions.require(user, "screening.view")
    prefix = permissions.scope_path(user)
    if prefix is None:
        return Site.objects.none()
    return _under(Site.objects.select_related("jurisdiction"), prefix).order_by("name", "pk")


def team_list_for(user: Any) -> QuerySet[Team]:
    permissions.require(user, "screening.view")
    prefix = permissions.scope_path(user)
    if prefix is None:
        return Team.objects.none()
    return _under(Team.objects.select_related("area"), prefix).order_by("name", "pk")


def lab_setup_list_for(user: Any) -> QuerySet[Lab]:
    """The labs of the user's area, in use or not (the labs set-up page)."""
    permissions.require(user, "screening.view")
    prefix = permissions.scope_path(user)
    if prefix is None:
        return Lab.objects.none()
    return _under(Lab.objects.select_related("jurisdiction"), prefix).order_by("name", "pk")


def access_setup_by_id(user: Any, model: Any, pk: int) -> Any:
    """A site, lab or team of the user's area (else it does not exist)."""
    permissions.require(user, "screening.view")
    obj = model.objects.filter(pk=pk).first()
    if obj is None or not permissions.in_scope(user, obj.scope_path):
        raise NotFound()
    return obj


def reports_to_review_for(user: Any, *, lab: Lab | None = None) -> QuerySet[ResultReport]:
    """Held and conflicting reports under the user's area (optionally of one lab),
    with the tube and its applied result, newest first."""
    qs = held_reports_for(user).select_related("tube__lab", "reported_by")
    if lab is not None:
        qs = qs.filter(lab=lab)
    return qs


def access_report_by_id(user: Any, report_id: int) -> ResultReport:
    """A result report under the user's area, whatever its status."""
    permissions.require(user, "screening.view")
    report = ResultReport.objects.filter(pk=report_id).first()
    if report is None or not permissions.in_scope(user, report.scope_path):
        raise NotFound()
    return report
