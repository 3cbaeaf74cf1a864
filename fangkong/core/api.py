"""Core API: me, jurisdictions, key groups, people, audit."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router
from ninja.pagination import paginate
from ninja.responses import Status

from fangkong.core import permissions, selectors, services
from fangkong.core.models import Jurisdiction, Person
from fangkong.core.pagination import PageNumber
from fangkong.core.schema import Patch, Schema

router = Router(tags=["core"])


# --- Schemas ---------------------------------------------------------------


class MeOut(Schema):
    username: str
    display_name: str
    jurisdiction_id: int | None
    jurisdiction_name: str | None
    roles: list[str]
    capabilities: list[str]


class JurisdictionOut(Schema):
    id: int
    parent_id: int | None
    level: str
    code: str | None
    name_zh: str
    name_en: str
    path: str
    depth: int
    resident_count: int


class JurisdictionDetailOut(JurisdictionOut):
    boundary: dict[str, Any] | None


class JurisdictionIn(Schema):
    parent_id: int | None = None
    level: str
    name_zh: str = Field(..., max_length=200)
    name_en: str = Field("", max_length=200)
    code: str | None = Field(None, max_length=32)
    boundary: dict[str, Any] | None = None


class JurisdictionPatch(Patch):
    nullable = frozenset({"code", "boundary"})

    name_zh: str | None = Field(None, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    code: str | None = Field(None, max_length=32)
    boundary: dict[str, Any] | None = None
    reason: str = ""


class JurisdictionFilter(Schema):
    parent_id: int | None = None
    under_id: int | None = None
    level: Jurisdiction.Level | None = None
    q: str = ""


class KeyGroupOut(Schema):
    code: str
    name_zh: str
    name_en: str


class PersonOut(Schema):
    id: int
    doc_type: str
    doc_masked: str
    name: str
    sex: str
    birth_date: dt.date | None
    phone_masked: str
    home_id: int | None
    home_unit: str
    household_id: int | None
    key_groups: list[str]
    limited_mobility: bool
    language: str
    merged_into_id: int | None

    @staticmethod
    def resolve_key_groups(obj: Person) -> list[str]:
        return sorted(g.code for g in obj.key_groups.all())


class PersonIn(Schema):
    doc_type: Person.DocumentType
    doc_number: str = Field(..., max_length=64)
    name: str = Field(..., max_length=100)
    sex: Person.Sex | None = None
    birth_date: dt.date | None = None
    phone: str = Field("", max_length=32)
    home_id: int | None = None
    home_unit: str = Field("", max_length=40)
    household_id: int | None = None
    key_groups: list[str] = []
    limited_mobility: bool = False
    language: Person.Language = Person.Language.ZH_HANS


class PersonPatch(Patch):
    nullable = frozenset({"sex", "birth_date", "phone", "home_id"})

    doc_type: Person.DocumentType | None = None
    doc_number: str | None = Field(None, max_length=64)
    name: str | None = Field(None, max_length=100)
    sex: Person.Sex | None = None
    birth_date: dt.date | None = None
    phone: str | None = Field(None, max_length=32)
    home_id: int | None = None
    home_unit: str | None = Field(None, max_length=40)
    key_groups: list[str] | None = None
    limited_mobility: bool | None = None
    language: Person.Language | None = None
    reason: str = ""


class PersonFilter(Schema):
    jurisdiction_id: int | None = None
    key_group: str | None = None
    q: str = ""
    limited_mobility: bool | None = None


class UnmaskIn(Schema):
    reason: str = Field(..., max_length=500)


class UnmaskOut(Schema):
    doc_number: str
    phone: str


class MergeIn(Schema):
    keep_id: int
    duplicate_id: int
    reason: str = Field(..., max_length=500)


class AuditOut(Schema):
    id: int
    time: dt.datetime
    actor_username: str
    actor_roles: str
    action: str
    object_type: str
    object_id: str
    person_id: int | None
    changes: dict[str, Any]
    reason: str
    request_id: str
    client_ip: str | None


class AuditFilter(Schema):
    person_id: int | None = None
    actor: str = ""
    object_type: str = ""
    object_id: str = ""
    action: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None


class StaffIn(Schema):
    username: str = Field(..., min_length=3, max_length=150, pattern=r"^[A-Za-z0-9_.@+-]+$")
    password: str = Field(..., min_length=10, max_length=128)
    jurisdiction_id: int
    roles: list[str] = Field(..., min_length=1)
    display_name: str = Field("", max_length=100)


class StaffOut(Schema):
    id: int
    username: str
    jurisdiction_id: int
    roles: list[str]


class TokenIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    expires_at: dt.datetime | None = None


class TokenOut(Schema):
    id: int
    name: str
    token: str
    expires_at: dt.datetime


class TokenListOut(Schema):
    """One of the user's tokens: never the token itself, only its first letters."""

    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenRevokeIn(Schema):
    reason: str = Field("", max_length=500)


# --- Endpoints -------------------------------------------------------------


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    profile = permissions.staff_profile(user)
    return {
        "username": user.get_username(),
        "display_name": profile.display_name if profile else "",
        "jurisdiction_id": profile.jurisdiction_id if profile else None,
        "jurisdiction_name": profile.jurisdiction.name if profile else None,
        "roles": permissions.role_codes_of(user),
        "capabilities": sorted(permissions.capabilities_of(user)),
    }


@router.post("/tokens", response={201: TokenOut})
def token_create(request: HttpRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    token, clear = services.api_token_create(
        actor=request.user, name=payload.name, expires_at=payload.expires_at
    )
    return Status(
        201, {"id": token.pk, "name": token.name, "token": clear, "expires_at": token.expires_at}
    )


@router.get("/tokens", response=list[TokenListOut])
def token_list(request: HttpRequest) -> Any:
    """The caller's own tokens with their last use (live first)."""
    return list(selectors.api_tokens_of(request.user))


@router.post("/tokens/{int:token_id}/revoke", response=TokenListOut)
def token_revoke(request: HttpRequest, token_id: int, payload: TokenRevokeIn | None = None) -> Any:
    """Revoke a token: one's own, or (``token.revoke``) a token of staff of one's area."""
    return services.api_token_revoke(
        actor=request.user, token_id=token_id, reason=payload.reason if payload else ""
    )


@router.post("/staff", response={201: StaffOut})
def staff_create(request: HttpRequest, payload: StaffIn) -> Status[dict[str, Any]]:
    user = services.staff_create(
        actor=request.user,
        username=payload.username,
        password=payload.password,
        jurisdiction_id=payload.jurisdiction_id,
        role_codes=payload.roles,
        display_name=payload.display_name,
    )
    return Status(
        201,
        {
            "id": user.pk,
            "username": user.get_username(),
            "jurisdiction_id": payload.jurisdiction_id,
            "roles": sorted(payload.roles),
        },
    )


@router.get("/jurisdictions", response=list[JurisdictionOut])
@paginate(PageNumber)
def jurisdiction_list(request: HttpRequest, filters: Query[JurisdictionFilter]) -> Any:
    under = (
        selectors.access_jurisdiction_by_id(request.user, filters.under_id)
        if filters.under_id
        else None
    )
    return selectors.jurisdiction_list_for(
        request.user,
        parent_id=filters.parent_id,
        under=under,
        level=filters.level,
        q=filters.q,
    )


@router.get("/jurisdictions/{int:jurisdiction_id}", response=JurisdictionDetailOut)
def jurisdiction_detail(request: HttpRequest, jurisdiction_id: int) -> Jurisdiction:
    return selectors.access_jurisdiction_by_id(request.user, jurisdiction_id)


@router.post("/jurisdictions", response={201: JurisdictionDetailOut})
def jurisdiction_create(request: HttpRequest, payload: JurisdictionIn) -> Status[Jurisdiction]:
    node = services.jurisdiction_create(actor=request.user, **payload.dict())
    return Status(201, node)


@router.patch("/jurisdictions/{int:jurisdiction_id}", response=JurisdictionDetailOut)
def jurisdiction_update(
    request: HttpRequest, jurisdiction_id: int, payload: JurisdictionPatch
) -> Jurisdiction:
    data = payload.dict(exclude_unset=True)
    reason = data.pop("reason", "")
    return services.jurisdiction_update(
        actor=request.user, jurisdiction_id=jurisdiction_id, reason=reason, **data
    )


@router.get("/key-groups", response=list[KeyGroupOut])
def key_group_list(request: HttpRequest) -> Any:
    return list(selectors.key_group_list())


@router.get("/people", response=list[PersonOut])
@paginate(PageNumber)
def person_list(request: HttpRequest, filters: Query[PersonFilter]) -> Any:
    node = (
        selectors.access_jurisdiction_by_id(request.user, filters.jurisdiction_id)
        if filters.jurisdiction_id
        else None
    )
    return selectors.person_list_for(
        request.user,
        jurisdiction=node,
        key_group=filters.key_group,
        q=filters.q,
        limited_mobility=filters.limited_mobility,
    ).prefetch_related("key_groups")


@router.get("/people/{int:person_id}", response=PersonOut)
def person_detail(request: HttpRequest, person_id: int) -> Person:
    return selectors.access_person_by_id(request.user, person_id)


@router.post("/people", response={201: PersonOut})
def person_create(request: HttpRequest, payload: PersonIn) -> Status[Person]:
    data = services.PersonData(**payload.dict())
    return Status(201, services.person_create(actor=request.user, data=data))


@router.patch("/people/{int:person_id}", response=PersonOut)
def person_update(request: HttpRequest, person_id: int, payload: PersonPatch) -> Person:
    data = payload.dict(exclude_unset=True)
    reason = data.pop("reason", "")
    return services.person_update(actor=request.user, person_id=person_id, data=data, reason=reason)


@router.post("/people/{int:person_id}/unmask", response=UnmaskOut)
def person_unmask(request: HttpRequest, person_id: int, payload: UnmaskIn) -> dict[str, str]:
    return services.person_unmask(actor=request.user, person_id=person_id, reason=payload.reason)


@router.post("/people/merge", response=PersonOut)
def person_merge(request: HttpRequest, payload: MergeIn) -> Person:
    return services.person_merge(
        actor=request.user,
        keep_id=payload.keep_id,
        duplicate_id=payload.duplicate_id,
        reason=payload.reason,
    )


@router.get("/people/{int:person_id}/timeline", response=list[AuditOut])
@paginate(PageNumber)
def person_timeline(request: HttpRequest, person_id: int) -> Any:
    person = selectors.access_person_by_id(request.user, person_id)
    return selectors.person_timeline(request.user, person)


@router.get("/audit", response=list[AuditOut])
@paginate(PageNumber)
def audit_list(request: HttpRequest, filters: Query[AuditFilter]) -> Any:
    return selectors.audit_list_for(request.user, **filters.dict())
