"""Reads of the entry app, scoped to the user's jurisdiction (outside it: 404)."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from django.db.models import Count, Model, Q, QuerySet
from django.utils import timezone

from fangkong.core import permissions
from fangkong.core.errors import NotFound
from fangkong.core.models import path_upper_bound
from fangkong.core.types import Actor
from fangkong.entry.models import (
    Arrival,
    Checkpoint,
    HomeHandoff,
    PlaceReview,
    RiskList,
    Transfer,
)

EXPIRY_WARNING_DAYS = 2


M = TypeVar("M", bound=Model)


def _scoped(qs: QuerySet[M], user: Actor, capability: str = "entry.view") -> QuerySet[M]:
    permissions.require(user, capability)
    prefix = permissions.scope_path(user)
    if prefix is None:
        return qs.none()
    if prefix:
        qs = qs.filter(scope_path__gte=prefix, scope_path__lt=path_upper_bound(prefix))
    return qs


def checkpoint_list_for(user: Actor, *, any_state: bool = False) -> QuerySet[Checkpoint]:
    """The open checkpoints of the user's area (``any_state``: closed ones too)."""
    qs = Checkpoint.objects.all() if any_state else Checkpoint.objects.filter(active=True)
    return _scoped(qs, user)


def access_checkpoint_by_id(
    user: Actor, checkpoint_id: int, *, any_state: bool = False
) -> Checkpoint:
    found = checkpoint_list_for(user, any_state=any_state).filter(pk=checkpoint_id).first()
    if found is None:
        raise NotFound()
    return found


def arrival_list_for(
    user: Actor,
    *,
    checkpoint_id: int | None = None,
    day: dt.date | None = None,
    category: str | None = None,
) -> QuerySet[Arrival]:
    qs = _scoped(Arrival.objects.exclude(state=Arrival.State.REPORTED), user)
    if checkpoint_id is not None:
        qs = qs.filter(checkpoint_id=checkpoint_id)
    if day is not None:
        qs = qs.filter(expected_on=day)
    if category:
        qs = qs.filter(category=category)
    return qs.select_related("person", "checkpoint").order_by("-arrived_at", "-id")


def access_arrival_by_id(user: Actor, arrival_id: int) -> Arrival:
    found = (
        _scoped(Arrival.objects.all(), user)
        .select_related("person", "checkpoint")
        .filter(pk=arrival_id)
        .first()
    )
    if found is None:
        raise NotFound()
    return found


def board(user: Actor, *, checkpoint_id: int | None, day: dt.date) -> dict[str, Any]:
    """Today's arrivals by category and the transfers still pending."""
    arrivals = arrival_list_for(user, checkpoint_id=checkpoint_id, day=day)
    counts = dict(
        arrivals.order_by()
        .values_list("category")
        .annotate(n=Count("id"))
        .values_list("category", "n")
    )
    waiting = arrivals.filter(
        state=Arrival.State.ARRIVED, category__in=["centralised_quarantine", "home_quarantine"]
    ).count()
    return {"counts": counts, "waiting_transfer": waiting, "total": sum(counts.values())}


def transfer_list_for(user: Actor, *, open_only: bool = False) -> QuerySet[Transfer]:
    qs = _scoped(Transfer.objects.all(), user).select_related("checkpoint")
    if open_only:
        qs = qs.filter(state__in=[Transfer.State.PLANNED, Transfer.State.DEPARTED])
    return qs.annotate(people=Count("passengers")).order_by("-created_at")


def access_transfer_by_id(user: Actor, transfer_id: int) -> Transfer:
    found = transfer_list_for(user).filter(pk=transfer_id).first()
    if found is None:
        raise NotFound()
    return found


def handoff_list_for(user: Actor, *, open_only: bool = True) -> QuerySet[HomeHandoff]:
    qs = _scoped(HomeHandoff.objects.all(), user, "entry.handoff").select_related(
        "person", "arrival"
    )
    if open_only:
        qs = qs.filter(state=HomeHandoff.State.OPEN)
    return qs.order_by("state", "-created_at")


def place_review_list_for(user: Actor) -> QuerySet[PlaceReview]:
    return _scoped(PlaceReview.objects.filter(state=PlaceReview.State.OPEN), user, "entry.lists")


def risk_lists(user: Actor) -> QuerySet[RiskList]:
    """Every version of every region's list (lists are about places, not people)."""
    permissions.require(user, "entry.view")
    return RiskList.objects.annotate(
        area_count=Count("areas"),
        high=Count("areas", filter=Q(areas__level="high")),
        medium=Count("areas", filter=Q(areas__level="medium")),
    ).order_by("region_code", "-version")


def access_risk_list_by_id(user: Actor, list_id: int) -> RiskList:
    found = risk_lists(user).filter(pk=list_id).first()
    if found is None:
        raise NotFound()
    return found


def lists_expiring(user: Actor, *, today: dt.date | None = None) -> QuerySet[RiskList]:
    """Lists in force that end within the warning period: ask the region for its next one."""
    today = today or timezone.localdate()
    return risk_lists(user).filter(
        state=RiskList.State.PUBLISHED,
        effective_to__isnull=False,
        effective_to__lte=today + dt.timedelta(days=EXPIRY_WARNING_DAYS),
    )


TRAVELLER_DAYS = 30


def traveller_view(person_id: int, *, today: dt.date | None = None) -> list[dict[str, Any]]:
    """A traveller's own recent arrivals (the public self-service, signed in with
    their one-time code: only their own): what they must do, why, until when,
    and their test schedule (the arrival test and the series)."""
    from fangkong.entry.explain import ends_text, findings_text, measures_sentence
    from fangkong.entry.series import series_of

    today = today or timezone.localdate()
    rows = list(
        Arrival.objects.filter(person_id=person_id)
        .filter(
            Q(expected_on__gte=today - dt.timedelta(days=TRAVELLER_DAYS))
            | Q(measures_end__gte=today)
        )
        .exclude(state=Arrival.State.CLOSED)
        .select_related("checkpoint")
        .prefetch_related("tests")
        .order_by("-expected_on", "-id")
    )
    tests_of = series_of(rows, today=today)
    out: list[dict[str, Any]] = []
    for a in rows:
        classified = bool(a.category)
        out.append(
            {
                "arrival": a,
                "arrived": a.state != Arrival.State.REPORTED,
                "state_label": a.get_state_display(),
                "category_label": a.get_category_display() if classified else "",
                "measures": measures_sentence(a) if classified else "",
                "ends": ends_text(a) if classified else "",
                "reasons": findings_text(a) if classified else [],
                "tests": tests_of[a.pk],
                "planned_tests": [
                    dt.date.fromisoformat(d) for d in (a.measures or {}).get("tests", [])
                ]
                if a.state == Arrival.State.REPORTED
                else [],
            }
        )
    return out
