"""Reads of contacts, scoped to the user's jurisdiction subtree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from fangkong.core import permissions
from fangkong.core.errors import NotFound
from fangkong.investigation.models import Contact
from fangkong.investigation.selectors.cases import scoped


def contact_list_for(
    user: Any,
    *,
    status: str | None = None,
    category: str | None = None,
    under_path: str | None = None,
    source_case_id: int | None = None,
    person_id: int | None = None,
    disease: str | None = None,
) -> QuerySet[Contact]:
    """Contacts of the user's area, newest first. Filtering by ``under_path`` (a
    district's path) and ``status`` stays one range scan on (scope_path, status, id)."""
    permissions.require(user, "contact.view")
    prefix = permissions.scope_path(user)
    if prefix is None:
        return Contact.objects.none()
    qs = scoped(Contact.objects.all(), prefix)
    if under_path:
        qs = scoped(qs, under_path)
    if status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category=category)
    if source_case_id is not None:
        qs = qs.filter(source_case_id=source_case_id)
    if person_id is not None:
        qs = qs.filter(person_id=person_id)
    if disease:
        qs = qs.filter(disease__code=disease)
    return qs.select_related("person").order_by("-id")


def access_contact_by_id(user: Any, contact_id: int, *, for_update: bool = False) -> Contact:
    """A contact the user may see: it lives in their area, or its source case does
    (the investigator of a case sees the contacts they traced in other districts)."""
    permissions.require(user, "contact.view")
    qs = Contact.objects.select_related("rules", "disease", "person", "source_case")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    contact = qs.filter(pk=contact_id).first()
    if contact is None:
        raise NotFound()
    if permissions.in_scope(user, contact.scope_path):
        return contact
    if contact.source_case is not None and permissions.in_scope(
        user, contact.source_case.scope_path
    ):
        return contact
    raise NotFound()


@dataclass(frozen=True)
class PersonContactSummary:
    person_id: int
    category: str | None  # the strictest category over active links, None if none
    monitoring_end: Any  # the latest end over active links (None: open-ended or none)
    open_ended: bool
    links: list[Contact]


def contact_person_summary(user: Any, person_id: int, *, disease: str | None = None) -> Any:
    """A person's effective contact category: the strictest over their links under
    monitoring; every link (active or not) is listed."""
    permissions.require(user, "contact.view")
    links = list(contact_list_for(user, person_id=person_id, disease=disease).order_by("id"))
    active = [c for c in links if c.status == Contact.Status.MONITORING]
    category = None
    if active:
        category = min(
            (c.category for c in active),
            key=lambda cat: Contact.CATEGORY_RANK[Contact.Category(cat)],
        )
    open_ended = any(c.monitoring_end is None for c in active)
    ends = [c.monitoring_end for c in active if c.monitoring_end is not None]
    return PersonContactSummary(
        person_id=person_id,
        category=category,
        monitoring_end=None if open_ended or not ends else max(ends),
        open_ended=open_ended,
        links=links,
    )


def access_person_contact_summary(user: Any, person_id: int, *, disease: str | None = None) -> Any:
    """``contact_person_summary`` for the API: a person who lives outside the
    user's area and has no contact link the user may see does not exist (404)."""
    from fangkong.core.models import Person

    summary = contact_person_summary(user, person_id, disease=disease)
    if summary.links:
        return summary
    path = Person.objects.filter(pk=person_id).values_list("scope_path", flat=True).first()
    if path is None or not permissions.in_scope(user, path):
        raise NotFound()
    return summary
