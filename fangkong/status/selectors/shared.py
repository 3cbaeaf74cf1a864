"""What status promises to other apps (the only status module they import)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.http import HttpRequest

from fangkong.core.models import path_upper_bound
from fangkong.status import resident as _resident
from fangkong.status.models import Appeal, ManualRequest, StatusLevel
from fangkong.status.selectors import people_with_clearable_reasons


def clearable_people(*, sampled_by: dt.datetime, limit: int) -> set[int] | None:
    """The people who have an active reason that negative tests taken by
    ``sampled_by`` could end (None: more than ``limit`` of them). Screening asks
    it before publishing a round's negative results, so the fact names only the
    people it can concern."""
    found = people_with_clearable_reasons(sampled_by=sampled_by, limit=limit)
    return None if found is None else {int(p) for p in found}


def resident_person_id(request: HttpRequest) -> int | None:
    """The person a resident signed in as with their one-time code (None: not
    signed in as a resident)."""
    return _resident.resident_person_id(request)


# The URL name of the residents' sign-in page (for a ``next`` link).
RESIDENT_LOGIN_URL_NAME: str = _resident.RESIDENT_LOGIN_URL_NAME


# --- For the command dashboard (headquarters): counts, never a person ------------


@dataclass(frozen=True)
class StatusWorkFigures:
    """Manual status changes waiting for a second approver, open appeals and the
    appeals past their deadline, under an area."""

    manual_pending: int
    appeals_open: int
    appeals_overdue: int


def status_work_figures(prefix: str, now: dt.datetime) -> StatusWorkFigures:
    manual = ManualRequest.objects.filter(state=ManualRequest.State.PENDING)
    appeals = Appeal.objects.filter(state=Appeal.State.OPEN)
    if prefix:
        upper = path_upper_bound(prefix)
        manual = manual.filter(scope_path__gte=prefix, scope_path__lt=upper)
        appeals = appeals.filter(scope_path__gte=prefix, scope_path__lt=upper)
    return StatusWorkFigures(
        manual_pending=manual.count(),
        appeals_open=appeals.count(),
        appeals_overdue=appeals.filter(due_at__lt=now).count(),
    )


@dataclass(frozen=True)
class ManualDecision:
    """A manual status change decided in a period (for the daily report): when, what,
    how many people, on which basis; never who."""

    decided_at: dt.datetime
    action: str  # in words
    outcome: str  # approved / refused, in words
    level: str  # the level granted, in words ("" for an early end)
    people: int
    basis: str


def manual_decisions_between(
    prefix: str, start: dt.datetime, end: dt.datetime, *, limit: int = 200
) -> list[ManualDecision]:
    """Manual changes under ``prefix`` approved or refused in [start, end), oldest first."""
    qs = ManualRequest.objects.filter(
        state__in=[ManualRequest.State.APPROVED, ManualRequest.State.REFUSED],
        decided_at__gte=start,
        decided_at__lt=end,
    )
    if prefix:
        qs = qs.filter(scope_path__gte=prefix, scope_path__lt=path_upper_bound(prefix))
    levels = {lv.code: lv.name for lv in StatusLevel.objects.all()}
    return [
        ManualDecision(
            decided_at=r.decided_at or r.updated_at,
            action=str(r.get_action_display()),
            outcome=str(r.get_state_display()),
            level=levels.get(r.level, "") if r.level else "",
            people=r.people_count,
            basis=r.basis.name,
        )
        for r in qs.select_related("basis").order_by("decided_at", "pk")[:limit]
    ]
