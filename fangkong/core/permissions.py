"""Capabilities and jurisdiction scope of staff users.

A capability is a code the software checks (``person.unmask``); which roles hold
which capabilities is data (the ``Role`` table, seeded from ``fixtures/roles.json``
and documented in ``docs/permissions.md``). Scope is the user's jurisdiction
subtree: outside it an object does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import prefetch_related_objects
from django.utils.translation import gettext, pgettext
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
    # Quarantine sites and medical treatment (quarantine app)
    "quarantine.view": _("See quarantine sites, their rooms and the people staying in them"),
    "quarantine.sites": _(
        "Register quarantine sites, record acceptance inspections, add rooms and move sites "
        "along their lifecycle"
    ),
    "quarantine.activate": _("Activate quarantine sites and decide tier activation proposals"),
    "quarantine.stays": _(
        "Admit people, allocate rooms, record health monitoring and tests, release and extend stays"
    ),
    "quarantine.approve": _(
        "Approve room-sharing exceptions and releases before the criteria are met (never "
        "one's own request)"
    ),
    "quarantine.orders": _("Issue quarantine orders as PDF, one at a time or in bulk"),
    "quarantine.staff": _(
        "Keep site staff rosters, on-site periods and rotation; report breaches of the closed loop"
    ),
    "quarantine.breaches": _("Investigate and close breach reports of the closed loop"),
    "hospital.view": _("See designated and shelter hospitals, their beds and patients"),
    "hospital.manage": _("Register hospitals and their beds"),
    "hospital.treat": _("Assign cases to hospitals, transfer them, record severity and discharge"),
    # Entry control (entry app)
    "entry.view": _("See checkpoints, arrivals, their classification and transfers of their area"),
    "entry.register": _("Register arrivals at a checkpoint and take their arrival test"),
    "entry.checkpoints": _("Register checkpoints with their lanes, hours and staff"),
    "entry.lists": _(
        "Import, put in force and withdraw other regions' risk-area lists; review places "
        "found neither by code nor by name"
    ),
    "entry.transfer": _("Plan point-to-point transfers and scan them out of the checkpoint"),
    "entry.handover": _("Scan a point-to-point transfer in at its destination"),
    "entry.handoff": _("Take over arrivals in home quarantine or health monitoring of their area"),
    # Supplies (supplies app)
    "supplies.view": _("See stock, days of supply, deliveries and market prices of their area"),
    "supplies.manage": _("Register warehouses and markets"),
    "supplies.stock": _(
        "Record stock movements: receipts, issues, transfers, losses and count corrections"
    ),
    "supplies.deliver": _("Plan deliveries to sealed zones and record their proof of delivery"),
    "supplies.prices": _("Report market prices"),
    # Headquarters (headquarters app)
    "hq.dashboard": _("See the command dashboard of their area and the lists behind its figures"),
    "task.assign": _("Give tasks to units and people of their area, reassign and cancel them"),
    "task.handle": _("Work on tasks given to them or their unit and mark them done"),
    "inspection.plan": _(
        "Plan supervision inspections of their area and name the inspector; see every finding"
    ),
    "inspection.conduct": _(
        "Record inspection visits and findings with photos, give rectification tasks and re-inspect"
    ),
    "accountability.propose": _(
        "Propose accountability for a failure of their area (overdue retest, breach, lost "
        "contact, overdue task, inspection finding)"
    ),
    "accountability.decide": _(
        "Decide accountability proposed by someone else, with its document number (second person)"
    ),
    "duty.manage": _(
        "Set up task forces, the duty roster, rotation plans and recognitions of their area"
    ),
    "admin.access": _("Use the Django admin (system administrators)"),
    "token.revoke": _("Revoke the API tokens of staff in their area (system administrators)"),
}

# Capabilities whose purpose is to be the second person of a change (four eyes,
# ``core.foureyes``). No role and no account holds one of them together with
# ``staff.manage``: whoever manages staff could otherwise create their own
# second pair of eyes (``separation_conflict``).
SECOND_PERSON_CAPABILITIES = frozenset(
    {
        "status.approve",
        "status.approve_bulk",
        "zone.approve",
        "portal.review",
        "quarantine.approve",
        "accountability.decide",
    }
)
STAFF_MANAGE = "staff.manage"

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
    cached: frozenset[str] | None = getattr(user, _CACHE_ATTR, None)
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


def separation_conflict(capabilities: Iterable[str]) -> list[str]:
    """The deciding capabilities held together with ``staff.manage`` (empty when
    the set keeps staff management and deciding apart)."""
    caps = set(capabilities)
    if STAFF_MANAGE not in caps:
        return []
    return sorted(caps & SECOND_PERSON_CAPABILITIES)


def separation_message(conflict: list[str]) -> str:
    """The refusal of ``conflict``, in words (the capabilities' descriptions)."""
    return gettext(
        "Managing staff and deciding as the second person do not go together: "
        "leave out “%(manage)s” or %(caps)s."
    ) % {
        "manage": CAPABILITIES[STAFF_MANAGE],
        "caps": pgettext("list separator", ", ").join(f"“{CAPABILITIES[c]}”" for c in conflict),
    }
