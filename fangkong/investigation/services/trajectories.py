"""Case trajectories (行程轨迹): places with time windows, and trips.

People the case names (household members, colleagues ...) are recorded as
contacts of the case (``contacts.contact_create`` with a relation), not as stops.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record, diff
from fangkong.core.errors import NotFound, ValidationFailed
from fangkong.core.models import Jurisdiction
from fangkong.core.types import Actor, acting_user
from fangkong.investigation.models import TrajectoryStop, TravelRecord, Venue
from fangkong.investigation.selectors.cases import access_case_by_id

Kind = TrajectoryStop.Kind


def _check_times(errors: dict[str, str], start: dt.datetime, end: dt.datetime) -> None:
    now = timezone.now()
    for name, value in (("start", start), ("end", end)):
        if timezone.is_naive(value):
            errors[name] = _("Give the time with its time zone.")
        elif value > now:
            errors[name] = _("This time is in the future.")
    if "start" not in errors and "end" not in errors and end < start:
        errors["end"] = _("The end is before the start.")


def stop_add(
    *,
    actor: Actor,
    case_id: int,
    kind: str,
    start: dt.datetime,
    end: dt.datetime,
    venue_id: int | None = None,
    address: str = "",
    grid_id: int | None = None,
    transport_mode: str = "",
    transport_number: str = "",
    carriage: str = "",
    seat: str = "",
    notes: str = "",
) -> TrajectoryStop:
    """Add a stop: a venue, a free address (with its grid) or a trip."""
    permissions.require(actor, "case.manage")
    errors: dict[str, str] = {}
    if kind not in Kind.values:
        errors["kind"] = _("Unknown value “%(value)s”.") % {"value": kind}
    _check_times(errors, start, end)
    venue = None
    grid = None
    address = (address or "").strip()
    transport_number = (transport_number or "").strip().upper()
    if kind == Kind.VENUE:
        venue = Venue.objects.filter(pk=venue_id).first() if venue_id is not None else None
        if venue is None:
            errors["venue_id"] = _("Choose a registered venue.")
    elif kind == Kind.ADDRESS:
        if not address:
            errors["address"] = _("Give the address.")
        if grid_id is not None:
            grid = Jurisdiction.objects.filter(pk=grid_id).first()
            if grid is None or grid.level not in (
                Jurisdiction.Level.GRID,
                Jurisdiction.Level.BUILDING,
            ):
                errors["grid_id"] = _("Choose a grid unit or a building.")
    elif kind == Kind.TRANSPORT:
        if transport_mode not in TravelRecord.Mode.values:
            errors["transport_mode"] = _("Choose flight, train, bus or other.")
        if not transport_number:
            errors["transport_number"] = _("Give the flight, train or line number.")
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        case = access_case_by_id(actor, case_id)
        stop = TrajectoryStop.objects.create(
            case=case,
            kind=kind,
            venue=venue,
            address=address[:300],
            grid=grid,
            start=start,
            end=end,
            transport_mode=transport_mode if kind == Kind.TRANSPORT else "",
            transport_number=transport_number[:20] if kind == Kind.TRANSPORT else "",
            carriage=(carriage or "").strip()[:8],
            seat=(seat or "").strip().upper()[:8],
            notes=notes or "",
            recorded_by=acting_user(actor),
        )
        audit_record(
            actor=actor,
            action="case.stop_add",
            obj=stop,
            scope_path=case.scope_path,
            person_id=case.person_id,
            changes=diff(
                {},
                {
                    "case_id": case.pk,
                    "kind": kind,
                    "venue_id": venue.pk if venue else None,
                    "address": stop.address,
                    "grid_id": grid.pk if grid else None,
                    "start": start,
                    "end": end,
                    "transport": f"{stop.transport_mode} {stop.transport_number}".strip(),
                },
            ),
        )
    return stop


def stop_remove(*, actor: Actor, stop_id: int, reason: str = "") -> None:
    permissions.require(actor, "case.manage")
    with transaction.atomic():
        stop = TrajectoryStop.objects.select_related("case").filter(pk=stop_id).first()
        if stop is None or not permissions.in_scope(actor, stop.case.scope_path):
            raise NotFound()
        audit_record(
            actor=actor,
            action="case.stop_remove",
            obj=stop,
            scope_path=stop.case.scope_path,
            person_id=stop.case.person_id,
            changes=diff({"start": stop.start, "end": stop.end, "kind": stop.kind}, {}),
            reason=reason,
        )
        stop.delete()
