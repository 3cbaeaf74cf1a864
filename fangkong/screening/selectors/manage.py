"""Reads of the screening set-up pages (sites, teams, areas to choose) and the
review queue of held and conflicting result reports, scoped to the user's subtree."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from fangkong.core import permissions
from fangkong.core.errors import NotFound
from fangkong.core.models import PATH_SEGMENT, Jurisdiction, path_upper_bound
from fangkong.core.selectors import jurisdiction_list_for
from fangkong.screening.models import Lab, ResultReport, Site, Team
from fangkong.screening.selectors import _under, held_reports_for

# How many levels below the user's own node the area pickers offer (buildings never).
AREA_LEVELS_BELOW = 3
AREA_CHOICES_LIMIT = 500


def area_choices_for(user: Any) -> list[Jurisdiction]:
    """Areas a round, site, lab or team may cover: the user's node and a few levels
    below it (no buildings), in tree order."""
    profile = permissions.staff_profile(user)
    base_depth = profile.jurisdiction.depth if profile else 0
    return list(
        jurisdiction_list_for(user)
        .exclude(level=Jurisdiction.Level.BUILDING)
        .filter(depth__lte=base_depth + AREA_LEVELS_BELOW)
        .only("id", "name_zh", "name_en", "depth", "path", "level")[:AREA_CHOICES_LIMIT]
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


def reports_to_review_for(user: Any, *, lab: Lab | None = None) -> QuerySet[ResultReport]:
    """Held and conflicting reports under the user's area (optionally of one lab),
    with the tube and its applied result, newest first."""
    qs = held_reports_for(user).select_related("tube__lab", "reported_by")
    if lab is not None:
        qs = qs.filter(lab=lab)
    return qs


def lab_choices_for(user: Any) -> list[Lab]:
    """Labs a round of the user's area may send tubes to: active labs under the
    user's node, labs of the areas above it (a city lab serves its districts) and
    labs the user works at."""
    permissions.require(user, "screening.view")
    prefix = permissions.scope_path(user)
    if prefix is None:
        return []
    qs = Lab.objects.filter(active=True)
    if prefix:
        ancestors = [prefix[:i] for i in range(0, len(prefix), PATH_SEGMENT)]
        own = Q(staff=user) if getattr(user, "is_authenticated", False) else Q(pk__in=[])
        qs = qs.filter(
            Q(scope_path__gte=prefix, scope_path__lt=path_upper_bound(prefix))
            | Q(scope_path__in=ancestors)
            | own
        )
    return list(qs.distinct().order_by("name", "pk"))


def access_report_by_id(user: Any, report_id: int) -> ResultReport:
    """A result report under the user's area, whatever its status."""
    permissions.require(user, "screening.view")
    report = ResultReport.objects.filter(pk=report_id).first()
    if report is None or not permissions.in_scope(user, report.scope_path):
        raise NotFound()
    return report
