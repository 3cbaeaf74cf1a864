"""What other apps may read of entry control (typed, no models handed out)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext, ngettext

from fangkong.core import permissions
from fangkong.core.models import path_upper_bound
from fangkong.core.types import Actor
from fangkong.entry.models import Arrival, Category, Transfer


@dataclass(frozen=True)
class TravellerTest:
    number: int
    due_on: dt.date
    done: bool
    result_label: str = ""  # in the active language, "" until the lab reports


@dataclass(frozen=True)
class TravellerArrival:
    """One trip as the traveller sees it: measures in words, the test series."""

    id: int
    arrival_date: dt.date
    origin: str
    arrived: bool
    category: str
    measures: str
    ends: str
    reasons: list[str]
    tests: list[TravellerTest]


def traveller_arrivals(person_id: int, *, limit: int = 5) -> list[TravellerArrival]:
    """The person's latest trips (the portal's "my measures" page), in the active language."""
    from fangkong.entry.explain import ends_text, findings_text, measures_sentence
    from fangkong.entry.series import series_of

    rows = list(
        Arrival.objects.filter(person_id=person_id)
        .prefetch_related("tests")
        .order_by("-expected_on", "-id")[:limit]
    )
    tests_of = series_of(rows)
    return [
        TravellerArrival(
            id=a.pk,
            arrival_date=a.expected_on,
            origin=a.origin,
            arrived=a.state != Arrival.State.REPORTED,
            category=a.get_category_display() if a.category else "",
            measures=measures_sentence(a) if a.category else "",
            ends=ends_text(a) if a.category else "",
            reasons=findings_text(a) if a.category else [],
            tests=[
                TravellerTest(t.number, t.due_on, t.done, t.result_label) for t in tests_of[a.pk]
            ],
        )
        for a in rows
    ]


@dataclass(frozen=True)
class WorkItem:
    code: str
    text: str
    count: int
    url: str
    severity: str


def work_items(user: Actor) -> list[WorkItem]:
    """Open work of entry control for the command centre's "needs attention" list."""
    from fangkong.entry import selectors

    items: list[WorkItem] = []
    if permissions.scope_path(user) is None:
        return items
    if permissions.has_capability(user, "entry.handoff"):
        n = selectors.handoff_list_for(user).count()
        if n:
            items.append(
                WorkItem(
                    "handoffs",
                    ngettext(
                        "%(n)s arrival to take over for home quarantine or monitoring",
                        "%(n)s arrivals to take over for home quarantine or monitoring",
                        n,
                    )
                    % {"n": n},
                    n,
                    reverse("entry:handoffs"),
                    "warning",
                )
            )
    if permissions.has_capability(user, "entry.view"):
        overdue = (
            selectors.transfer_list_for(user, open_only=True)
            .filter(escalated_at__isnull=False)
            .count()
        )
        if overdue:
            items.append(
                WorkItem(
                    "overdue_transfers",
                    ngettext(
                        "%(n)s transfer overdue at its destination",
                        "%(n)s transfers overdue at their destination",
                        overdue,
                    )
                    % {"n": overdue},
                    overdue,
                    reverse("entry:transfers"),
                    "critical",
                )
            )
        expiring = selectors.lists_expiring(user).count()
        if expiring:
            items.append(
                WorkItem(
                    "lists_expiring",
                    ngettext(
                        "%(n)s risk-area list expires soon",
                        "%(n)s risk-area lists expire soon",
                        expiring,
                    )
                    % {"n": expiring},
                    expiring,
                    reverse("entry:lists"),
                    "warning",
                )
            )
    if permissions.has_capability(user, "entry.lists"):
        reviews = selectors.place_review_list_for(user).count()
        if reviews:
            items.append(
                WorkItem(
                    "place_reviews",
                    ngettext(
                        "%(n)s itinerary place to review",
                        "%(n)s itinerary places to review",
                        reviews,
                    )
                    % {"n": reviews},
                    reviews,
                    reverse("entry:lists"),
                    "warning",
                )
            )
    return items


# --- For the command dashboard (headquarters): counts, no people ------------------


@dataclass(frozen=True)
class ArrivalFigures:
    """Arrivals of one day under an area, by category (in words, largest first), the
    ones waiting for a transfer, and transfers still on their way (and overdue)."""

    arrived: int
    categories: list[tuple[str, int]]
    waiting_transfer: int
    transfers_open: int
    transfers_overdue: int


def _under(prefix: str) -> Q:
    if not prefix:
        return Q()
    return Q(scope_path__gte=prefix, scope_path__lt=path_upper_bound(prefix))


def arrival_figures(prefix: str, day: dt.date, now: dt.datetime) -> ArrivalFigures:
    """Unscoped by design: the caller passes the area it may see."""
    arrivals = Arrival.objects.filter(_under(prefix), expected_on=day).exclude(
        state=Arrival.State.REPORTED
    )
    counts = dict(
        arrivals.order_by()
        .values_list("category")
        .annotate(n=Count("id"))
        .values_list("category", "n")
    )
    labels = dict(Category.choices)
    categories = sorted(
        (
            (str(labels.get(code, "")) or gettext("Not classified yet"), n)
            for code, n in counts.items()
        ),
        key=lambda c: (-c[1], c[0]),
    )
    waiting = arrivals.filter(
        state=Arrival.State.ARRIVED,
        category__in=[Category.CENTRALISED, Category.HOME],
    ).count()
    open_transfers = Transfer.objects.filter(
        _under(prefix), state__in=[Transfer.State.PLANNED, Transfer.State.DEPARTED]
    )
    return ArrivalFigures(
        arrived=sum(counts.values()),
        categories=categories,
        waiting_transfer=waiting,
        transfers_open=open_transfers.count(),
        transfers_overdue=open_transfers.filter(due_at__lt=now).count(),
    )
