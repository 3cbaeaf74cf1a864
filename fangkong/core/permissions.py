"""Capabilities and jurisdiction scope of staff users.

A capability is a code the software checks (``person.unmask``); which roles hold
which capabilities is data (the ``Role`` table, seeded from ``fixtures/roles.json``
and documented in ``docs/permissions.md``). Scope is the user's jurisdiction
subtree: outside it an object does not exist.
"""

from __future__ import annotations

from typing import Any

from django.db.models import prefetch_related_objects
from django.utils.translation import gettext_lazy as _

from fangkong.core.errors import NotFound, PermissionDenied

# Every capability the code checks, with what it allows. Apps add theirs here.
CAPABILITIES: dict[str, Any] = {
    "jurisdiction.view": _("See the jurisdiction tree of their area"),
    "jurisdiction.manage": _("Create, rename and import jurisdiction nodes"),
    "person.view": _("Search and open people registered in their area (masked)"),
    "person.create": _("Register people"),
    "person.update": _("Correct people's registry details"),
    "person.import": _("Import people from CSV or XLSX files"),
    "person.export": _("Export the people of their area as CSV (masked)"),
    "person.merge": _("Merge duplicate registrations of one person"),
    "person.unmask": _("See full ID and phone numbers (every unmasking is audited)"),
    "audit.view": _("Search the audit trail of their area"),
    "audit.export": _("Export the audit trail of their area"),
    "staff.manage": _("Create staff accounts and assign roles in their area"),
    "notify.send": _("Send notifications and batches to people of their area"),
    "notify.view": _("See notification batches and delivery counts"),
    "notify.templates": _("Edit the text of notification templates"),
    "venue.view": _("See the venues of their area and their venue codes"),
    "venue.manage": _("Register and edit venues; issue, revoke and print venue codes"),
    "checkin.assist": _("Check people in at a venue by their ID document (staff-assisted scan)"),
    "checkin.import": _("Import check-in logs of scanning systems for venues of their area"),
    "checkin.view": _("See where a person of their area checked in"),
    "match.run": _("Run co-presence and shared-transport matching for a case"),
    "match.decide": _("Confirm or dismiss the matches of a case (confirmed ones become contacts)"),
    "case.view": _("See cases, trajectories, transmission chains and clusters of their area"),
    "case.manage": _("Create and classify cases, record trajectories, assign investigators"),
    "contact.view": _("See contacts and follow-up lists of their area"),
    "contact.manage": _("Record contacts and close their monitoring"),
    "followup.record": _("Record the daily follow-up of contacts under monitoring"),
    "followup.manage": _("Create and staff follow-up teams"),
    "cluster.manage": _("Name clusters, assign them and recompute them"),
    "linelist.import": _("Import case line lists (with their infector links)"),
    "rules.manage": _("Add new versions of disease rules (past decisions keep their version)"),
    # Risk status (status app)
    "status.view": _("See people's risk status, its reasons and history"),
    "status.request": _("Request a manual status change or an early end of a reason"),
    "status.approve": _("Approve or refuse other users' manual status changes (four eyes)"),
    "status.approve_bulk": _("Approve bulk manual status changes (city commander)"),
    "status.appeals": _("Decide people's appeals against their status"),
    "status.report": _("See the report of manual status changes and its alerts"),
    "status.scan": _("Scan personal status codes and see the masked name (checkpoints, venues)"),
    # Mass screening (screening app)
    "screening.view": _("See screening rounds, sites, coverage and results of their area"),
    "screening.manage": _("Create rounds, schedules, sampling sites, labs and exclusions"),
    "screening.sample": _("Open tubes and scan people into them at a sampling site"),
    "screening.transport": _("Record the hand-over and transport of sample boxes"),
    "screening.lab": _("Receive boxes at a lab and report results"),
    "screening.remind": _("Send reminder batches to untested people"),
    "screening.retest": _("Handle retest and resample tasks"),
    # Zoned control (zones app)
    "zone.view": _("See risk zones, their teams and service requests"),
    "zone.declare": _("Propose risk zones, level changes, unit changes and lifting"),
    "zone.approve": _("Approve zone declarations, changes and lifting (command)"),
    "zone.team": _("Keep the rosters of zone teams (four-ones)"),
    "service.request": _("File door-step service requests for residents of sealed zones"),
    "service.handle": _("Take and complete door-step service requests"),
    # Public portal (portal app)
    "portal.edit": _("Write and edit portal articles and the services directory"),
    "portal.review": _("Review, publish and withdraw portal articles"),
    "portal.moderate": _("Moderate comments on portal articles"),
    "portal.feedback": _("Read residents' feedback sent through the portal"),
    "admin.access": _("Use the Django admin (system administrators)"),
}

_CACHE_ATTR = "_fangkong_capabilities"


class NoScope:
    """Marker for a user without a staff profile (sees nothing)."""


def staff_profile(user: Any) -> Any | None:
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.staff
    except Exception:  # RelatedObjectDoesNotExist
        return None


def capabilities_of(user: Any) -> frozenset[str]:
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    caps: set[str] = set()
    if user.is_superuser:
        caps = set(CAPABILITIES)
    else:
        profile = staff_profile(user)
        if profile is not None and user.is_active:
            # Kept on the profile: role_codes_of (every audit row) reads them again.
            prefetch_related_objects([profile], "roles")
            for role in profile.roles.all():
                caps.update(role.capabilities or [])
    result = frozenset(caps)
    setattr(user, _CACHE_ATTR, result)
    return result


def role_codes_of(user: Any) -> list[str]:
    profile = staff_profile(user)
    if profile is None:
        return ["superuser"] if getattr(user, "is_superuser", False) else []
    return sorted(r.code for r in profile.roles.all())


def has_capability(user: Any, capability: str) -> bool:
    return capability in capabilities_of(user)


def require(user: Any, capability: str) -> None:
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}")
    if not has_capability(user, capability):
        raise PermissionDenied()


def scope_path(user: Any) -> str | None:
    """The path prefix the user may see: '' is everything, None is nothing."""
    profile = staff_profile(user)
    if profile is not None:
        return str(profile.jurisdiction.path)
    if getattr(user, "is_superuser", False):
        return ""
    return None


def in_scope(user: Any, path: str) -> bool:
    prefix = scope_path(user)
    return prefix is not None and path.startswith(prefix)


def require_in_scope(user: Any, path: str) -> None:
    """Outside the user's subtree an object does not exist."""
    if not in_scope(user, path):
        raise NotFound()
