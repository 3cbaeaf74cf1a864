"""Reads of core records, always scoped to the user's jurisdiction subtree."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.db.models import Q, QuerySet

from fangkong.core import permissions
from fangkong.core.crypto import lookup_hash
from fangkong.core.errors import NotFound
from fangkong.core.identity import normalise_phone
from fangkong.core.models import (
    ApiToken,
    AuditEntry,
    Jurisdiction,
    KeyGroup,
    Person,
    path_upper_bound,
)


def _scope_or_nothing(user: Any) -> str | None:
    return permissions.scope_path(user)


# --- Jurisdictions ---------------------------------------------------------


def jurisdiction_list_for(
    user: Any,
    *,
    parent_id: int | None = None,
    under: Jurisdiction | None = None,
    level: str | None = None,
    q: str = "",
) -> QuerySet[Jurisdiction]:
    permissions.require(user, "jurisdiction.view")
    prefix = _scope_or_nothing(user)
    if prefix is None:
        return Jurisdiction.objects.none()
    qs = Jurisdiction.objects.subtree_of(prefix) if prefix else Jurisdiction.objects.all()
    if under is not None:
        qs = qs.subtree_of(under.path)
    if parent_id is not None:
        qs = qs.filter(parent_id=parent_id)
    if level:
        qs = qs.filter(level=level)
    if q:
        qs = qs.filter(Q(name_zh__icontains=q) | Q(name_en__icontains=q) | Q(code=q))
    return qs.order_by("path")


def area_choices_for(
    user: Any, *, levels_below: int = 3, buildings: bool = True, limit: int = 300
) -> list[Jurisdiction]:
    """The areas a user picks from in a form or filter: their node and a few levels
    below it, in tree order (none without ``jurisdiction.view``)."""
    if not permissions.has_capability(user, "jurisdiction.view"):
        return []
    profile = permissions.staff_profile(user)
    base_depth = profile.jurisdiction.depth if profile else 0
    qs = jurisdiction_list_for(user).filter(depth__lte=base_depth + levels_below)
    if not buildings:
        qs = qs.exclude(level=Jurisdiction.Level.BUILDING)
    return list(qs.only("id", "name_zh", "name_en", "depth", "path", "level")[:limit])


def access_jurisdiction_by_id(user: Any, jurisdiction_id: int) -> Jurisdiction:
    permissions.require(user, "jurisdiction.view")
    node = Jurisdiction.objects.filter(pk=jurisdiction_id).first()
    if node is None or not permissions.in_scope(user, node.path):
        raise NotFound()
    return node


def access_jurisdiction_by_code(user: Any, code: str) -> Jurisdiction:
    permissions.require(user, "jurisdiction.view")
    node = Jurisdiction.objects.filter(code=code).first()
    if node is None or not permissions.in_scope(user, node.path):
        raise NotFound()
    return node


def jurisdiction_subtree(
    node: Jurisdiction, *, include_self: bool = True
) -> QuerySet[Jurisdiction]:
    """Every node under ``node``: one range scan on the path index."""
    return Jurisdiction.objects.subtree_of(node.path, include_self=include_self)


def jurisdiction_breadcrumb(node: Jurisdiction, *, user: Any = None) -> list[Jurisdiction]:
    crumbs = list(node.ancestors())
    if user is not None:
        crumbs = [c for c in crumbs if permissions.in_scope(user, c.path)]
    return crumbs


def key_group_list() -> QuerySet[KeyGroup]:
    return KeyGroup.objects.filter(active=True).order_by("code")


# --- People ----------------------------------------------------------------


def person_list_for(
    user: Any,
    *,
    jurisdiction: Jurisdiction | None = None,
    key_group: str | None = None,
    q: str = "",
    limited_mobility: bool | None = None,
    include_merged: bool = False,
) -> QuerySet[Person]:
    """People in the user's subtree, optionally narrowed.

    ``q`` matches a name prefix, or exactly a full document number or phone
    number (through their keyed hashes: stored values are encrypted).
    """
    permissions.require(user, "person.view")
    prefix = _scope_or_nothing(user)
    if prefix is None:
        return Person.objects.none()
    qs = Person.objects.all() if include_merged else Person.objects.active()
    # One range on scope_path, the narrower one: two ranges make SQLite scan the wider.
    if jurisdiction is not None:
        if not jurisdiction.path.startswith(prefix):
            raise NotFound()
        qs = qs.under(jurisdiction.path)
    elif prefix:
        qs = qs.under(prefix)
    if key_group:
        qs = qs.filter(key_groups__code=key_group)
    if limited_mobility is not None:
        qs = qs.filter(limited_mobility=limited_mobility)
    q = (q or "").strip()
    if q:
        cond = Q(name__startswith=q)
        compact = q.upper().replace(" ", "")
        if len(compact) >= 5 and compact.isalnum():
            cond |= Q(doc_hash=lookup_hash("doc", compact))
        try:
            phone = normalise_phone(q)
        except Exception:  # not a phone number
            phone = ""
        if phone:
            cond |= Q(phone_hash=lookup_hash("phone", phone))
        qs = qs.filter(cond)
    return qs.order_by("id")


def access_person_by_id(user: Any, person_id: int) -> Person:
    permissions.require(user, "person.view")
    person = Person.objects.select_related("home", "household").filter(pk=person_id).first()
    if person is None or not permissions.in_scope(user, person.scope_path):
        raise NotFound()
    return person


def person_find_by_document(doc_type: str, number: str) -> Person | None:
    """Unscoped lookup for services that must detect duplicates across the city."""
    return (
        Person.objects.active()
        .filter(doc_type=doc_type, doc_hash=lookup_hash("doc", number))
        .first()
    )


def person_timeline(user: Any, person: Person) -> QuerySet[AuditEntry]:
    """What happened to a person (and to records merged into them), newest first."""
    ids = [person.pk, *Person.objects.filter(merged_into=person).values_list("pk", flat=True)]
    return AuditEntry.objects.filter(person_id__in=ids).order_by("-time", "-id")


# --- Audit -----------------------------------------------------------------


def audit_list_for(
    user: Any,
    *,
    person_id: int | None = None,
    actor: str = "",
    object_type: str = "",
    object_id: str = "",
    action: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    with_actors: bool = False,
) -> QuerySet[AuditEntry]:
    """The audit entries the user may read, newest first; ``with_actors`` reads
    each entry's staff member, their profile and unit in the same query (a page)."""
    permissions.require(user, "audit.view")
    prefix = _scope_or_nothing(user)
    if prefix is None:
        return AuditEntry.objects.none()
    qs = AuditEntry.objects.all()
    if prefix:
        # Entries about objects in the subtree, or made by staff of the subtree.
        qs = qs.filter(
            Q(scope_path__gte=prefix, scope_path__lt=path_upper_bound(prefix))
            | Q(
                actor_jurisdiction_path__gte=prefix,
                actor_jurisdiction_path__lt=path_upper_bound(prefix),
            )
        )
    if person_id is not None:
        qs = qs.filter(person_id=person_id)
    if actor:
        qs = qs.filter(actor_username=actor)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if action:
        qs = qs.filter(action=action)
    if since:
        qs = qs.filter(time__gte=since)
    if until:
        qs = qs.filter(time__lt=until)
    if with_actors:
        qs = qs.select_related("actor__staff__jurisdiction")
    return qs.order_by("-time", "-id")


def role_names_by_code() -> dict[str, str]:
    """Every role's name in the reader's language, by code (the audit page's rows)."""
    from fangkong.core.models import Role

    return {r.code: str(r.name) for r in Role.objects.all()}


# --- The base map: districts and streets as the layer every map draws first -----------

BASE_MAP_LEVELS = ("district", "subdistrict")
BASE_MAP_SECONDS = 600


def base_map(language: str) -> dict[str, Any]:
    """The districts and streets (subdistricts, towns) of the jurisdiction tree with
    their own boundaries, as GeoJSON for the maps' base layer: public (places, never
    people), in ``language``, cached. Nodes without a boundary are left out."""
    from django.core.cache import cache

    stamp = Jurisdiction.objects.filter(level__in=BASE_MAP_LEVELS).aggregate(
        n=models.Count("id"), last=models.Max("updated_at")
    )
    last = stamp["last"].timestamp() if stamp["last"] else 0
    key = f"core:base-map:{language}:{stamp['n']}:{last:.0f}"
    data = cache.get(key)
    if data is not None:
        return dict(data)
    features = []
    rows = (
        Jurisdiction.objects.filter(level__in=BASE_MAP_LEVELS, boundary__isnull=False)
        .order_by("depth", "path")
        .only("path", "level", "name_zh", "name_en", "boundary")
    )
    for node in rows:
        geometry = node.boundary or {}
        if geometry.get("type") not in ("Polygon", "MultiPolygon"):
            continue
        name = node.name_en if language == "en" and node.name_en else node.name_zh
        features.append(
            {
                "type": "Feature",
                "properties": {"name": f"base-{node.path}", "label": name, "level": node.level},
                "geometry": geometry,
            }
        )
    data = {"type": "FeatureCollection", "features": features}
    cache.set(key, data, BASE_MAP_SECONDS)
    return data


# --- API tokens --------------------------------------------------------------


def api_tokens_of(user: Any) -> QuerySet[ApiToken]:
    """The user's own tokens, live first, newest first (never the hash)."""
    if not getattr(user, "is_authenticated", False):
        return ApiToken.objects.none()
    return (
        ApiToken.objects.filter(user=user)
        .defer("token_hash")
        .order_by(models.F("revoked_at").desc(nulls_first=True), "-created_at", "-pk")
    )


def access_api_token_by_id(user: Any, token_id: int, *, for_update: bool = False) -> ApiToken:
    """A token its owner may see, or a system administrator (``token.revoke``) of
    the owner's area; anyone else: not found."""
    if not getattr(user, "is_authenticated", False):
        raise NotFound()
    rows = ApiToken.objects.select_related("user")
    if for_update:
        rows = rows.select_for_update(of=("self",))
    token = rows.filter(pk=token_id).first()
    if token is None:
        raise NotFound()
    if token.user_id == user.pk:
        return token
    if permissions.has_capability(user, "token.revoke"):
        scope = permissions.scope_path(user)
        owner = permissions.staff_profile(token.user)
        owner_path = owner.jurisdiction.path if owner else None
        if scope == "" or (
            scope is not None and owner_path is not None and owner_path.startswith(scope)
        ):
            return token
    raise NotFound()
