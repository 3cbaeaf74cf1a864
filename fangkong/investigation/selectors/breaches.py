"""Reads of closed-loop breach inquiries, scoped to the user's jurisdiction subtree."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from fangkong.core import permissions
from fangkong.core.errors import NotFound
from fangkong.investigation.models import BreachInquiry
from fangkong.investigation.selectors.cases import scoped


def breach_inquiry_list_for(user: Any, *, open_only: bool = False) -> QuerySet[BreachInquiry]:
    """Inquiries of the user's area, the newest breach first (open ones only on request)."""
    prefix = permissions.scope_path(user)
    if prefix is None:
        return BreachInquiry.objects.none()
    qs = scoped(BreachInquiry.objects.select_related("investigator"), prefix)
    if open_only:
        qs = qs.exclude(state=BreachInquiry.State.CLOSED)
    return qs.order_by("-occurred_at", "-id")


def access_breach_inquiry_by_id(
    user: Any, inquiry_id: int, *, for_update: bool = False
) -> BreachInquiry:
    """One inquiry of the user's area (``NotFound`` outside it)."""
    qs = BreachInquiry.objects.select_related("investigator")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    inquiry = qs.filter(pk=inquiry_id).first()
    if inquiry is None or not permissions.in_scope(user, inquiry.scope_path):
        raise NotFound()
    return inquiry
