"""Reads of venues and venue codes, scoped to the user's jurisdiction subtree."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from fangkong.core import permissions
from fangkong.core.errors import NotFound
from fangkong.core.models import path_upper_bound
from fangkong.investigation.models import Venue, VenueCode


def _scoped(qs: QuerySet[Any], prefix: str, field: str = "scope_path") -> QuerySet[Any]:
    if not prefix:
        return qs
    return qs.filter(**{f"{field}__gte": prefix, f"{field}__lt": path_upper_bound(prefix)})


def venue_list_for(
    user: Any,
    *,
    q: str = "",
    category: str | None = None,
    under_path: str | None = None,
) -> QuerySet[Venue]:
    permissions.require(user, "venue.view")
    prefix = permissions.scope_path(user)
    if prefix is None:
        return Venue.objects.none()
    qs = _scoped(Venue.objects.all(), prefix)
    if under_path:
        qs = _scoped(qs, under_path)
    if category:
        qs = qs.filter(category=category)
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(name_en__icontains=q) | Q(address__icontains=q))
    return qs.order_by("id")


def access_venue_by_id(user: Any, venue_id: int, *, for_update: bool = False) -> Venue:
    permissions.require(user, "venue.view")
    qs = Venue.objects.select_for_update() if for_update else Venue.objects.all()
    venue = qs.filter(pk=venue_id).first()
    if venue is None or not permissions.in_scope(user, venue.scope_path):
        raise NotFound()
    return venue


def venue_code_list_for(user: Any, venue: Venue) -> QuerySet[VenueCode]:
    permissions.require(user, "venue.view")
    return VenueCode.objects.filter(venue=venue).order_by("-serial")


def access_venue_code_by_id(user: Any, code_id: int, *, for_update: bool = False) -> VenueCode:
    permissions.require(user, "venue.view")
    qs = VenueCode.objects.select_related("venue")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    code = qs.filter(pk=code_id).first()
    if code is None or not permissions.in_scope(user, code.venue.scope_path):
        raise NotFound()
    return code
