"""Reads of the notify app, scoped to the user's jurisdiction subtree.

A batch belongs to the deepest node containing all its recipients
(``Batch.scope_path``): a district officer sees their district's batches, a city
commander sees every batch of the city.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from fangkong.core import permissions
from fangkong.core.errors import NotFound
from fangkong.core.models import path_upper_bound
from fangkong.notify.models import Batch, Message, MessageTemplate

PROGRESS_STATUSES = [s.value for s in Message.Status]


def batch_list_for(user: Any, *, purpose: str = "") -> QuerySet[Batch]:
    permissions.require(user, "notify.view")
    prefix = permissions.scope_path(user)
    if prefix is None:
        return Batch.objects.none()
    qs = Batch.objects.select_related("created_by")
    if prefix:
        qs = qs.filter(scope_path__gte=prefix, scope_path__lt=path_upper_bound(prefix))
    if purpose:
        qs = qs.filter(purpose=purpose)
    return qs.order_by("-created_at", "-id")


def access_batch_by_id(user: Any, batch_id: int) -> Batch:
    permissions.require(user, "notify.view")
    batch = Batch.objects.select_related("created_by").filter(pk=batch_id).first()
    if batch is None or not permissions.in_scope(user, batch.scope_path):
        raise NotFound()
    return batch


def batch_progress(batch: Batch) -> dict[str, int]:
    """Messages of the batch by status (every status present, zero if none)."""
    counts = dict.fromkeys(PROGRESS_STATUSES, 0)
    rows = Message.objects.filter(batch=batch).values("status").annotate(n=Count("id"))
    for row in rows:
        counts[row["status"]] = row["n"]
    return counts


def status_label(status: str) -> str:
    """A message status in the reader's language."""
    return str(Message.Status(status).label)


def _count_of(status: str) -> Any:
    counts = (
        Message.objects.filter(batch=OuterRef("pk"), status=status)
        .order_by()
        .values("batch")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(counts), 0)


def with_delivery_counts(qs: QuerySet[Batch]) -> QuerySet[Batch]:
    """Annotate ``n_sent``, ``n_delivered``, ``n_failed`` (for lists).

    One correlated count per row on the (batch, status) index, so a page of
    batches costs the same however many batches and messages there are.
    """
    return qs.annotate(
        n_sent=_count_of(Message.Status.SENT),
        n_delivered=_count_of(Message.Status.DELIVERED),
        n_failed=_count_of(Message.Status.FAILED),
    )


def batch_messages_for(user: Any, batch: Batch, *, status: str = "") -> QuerySet[Message]:
    """The messages of a batch the user may see (``access_batch_by_id`` first)."""
    qs = Message.objects.filter(batch=batch).select_related("person")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("id")


def template_list(*, code: str = "", language: str = "") -> QuerySet[MessageTemplate]:
    qs = MessageTemplate.objects.filter(active=True)
    if code:
        qs = qs.filter(code=code)
    if language:
        qs = qs.filter(language=language)
    return qs.order_by("code", "language")
