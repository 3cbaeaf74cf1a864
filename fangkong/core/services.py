"""Writes to core records: one transaction, a permission check and an audit row each."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record, diff
from fangkong.core.crypto import decrypt, encrypt, lookup_hash, mask
from fangkong.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from fangkong.core.identity import normalise_document, normalise_phone
from fangkong.core.models import (
    ApiToken,
    Household,
    Jurisdiction,
    KeyGroup,
    Person,
    Role,
    StaffProfile,
    path_segment,
)
from fangkong.core.selectors import (
    access_api_token_by_id,
    access_jurisdiction_by_id,
    access_person_by_id,
)
from fangkong.core.types import Actor

# --- Jurisdictions ---------------------------------------------------------

_LEVELS = Jurisdiction.LEVEL_ORDER


def _check_child_level(parent: Jurisdiction | None, level: str) -> None:
    if level not in _LEVELS:
        raise ValidationFailed(fields={"level": _("Unknown level “%(value)s”.") % {"value": level}})
    if parent is not None and _LEVELS.index(level) <= _LEVELS.index(parent.level):
        raise ValidationFailed(
            fields={
                "level": _("A %(child)s cannot be placed under a %(parent)s.")
                % {
                    "child": Jurisdiction.Level(level).label,
                    "parent": Jurisdiction.Level(parent.level).label,
                }
            }
        )


def _next_path(parent: Jurisdiction | None) -> tuple[str, int]:
    if parent is None:
        count = Jurisdiction.objects.filter(parent__isnull=True).count()
        return path_segment(count), 0
    # Lock the parent row so concurrent inserts get distinct paths.
    locked = Jurisdiction.objects.select_for_update().get(pk=parent.pk)
    index = locked.next_child_index
    Jurisdiction.objects.filter(pk=parent.pk).update(next_child_index=index + 1)
    return locked.path + path_segment(index), locked.depth + 1


def jurisdiction_build(
    *,
    parent: Jurisdiction | None,
    level: str,
    name_zh: str,
    name_en: str = "",
    code: str | None = None,
    boundary: dict[str, Any] | None = None,
) -> Jurisdiction:
    """Create a node without permission checks or audit: for trusted bulk loaders
    (synthetic city, tree import) that audit the whole operation once."""
    _check_child_level(parent, level)
    name_zh = (name_zh or "").strip()
    if not name_zh:
        raise ValidationFailed(fields={"name_zh": _("A Chinese name is required.")})
    code = (code or "").strip() or None
    if code and Jurisdiction.objects.filter(code=code).exists():
        raise Conflict(
            fields={"code": _("Code %(code)s is already used by another node.") % {"code": code}}
        )
    with transaction.atomic():  # the parent row stays locked until the child exists
        path, depth = _next_path(parent)
        if parent is None:
            depth = 1
        return Jurisdiction.objects.create(
            parent=parent,
            level=level,
            name_zh=name_zh,
            name_en=(name_en or "").strip(),
            code=code,
            boundary=boundary,
            path=path,
            depth=depth,
        )


def jurisdiction_create(
    *,
    actor: Actor,
    parent_id: int | None,
    level: str,
    name_zh: str,
    name_en: str = "",
    code: str | None = None,
    boundary: dict[str, Any] | None = None,
) -> Jurisdiction:
    permissions.require(actor, "jurisdiction.manage")
    with transaction.atomic():
        parent = access_jurisdiction_by_id(actor, parent_id) if parent_id is not None else None
        if parent is None and permissions.scope_path(actor) != "":
            raise ValidationFailed(fields={"parent_id": _("Choose the parent node.")})
        node = jurisdiction_build(
            parent=parent,
            level=level,
            name_zh=name_zh,
            name_en=name_en,
            code=code,
            boundary=boundary,
        )
        audit_record(
            actor=actor,
            action="jurisdiction.create",
            obj=node,
            scope_path=node.path,
            changes=diff(
                {},
                {
                    "level": level,
                    "name_zh": node.name_zh,
                    "name_en": node.name_en,
                    "code": node.code,
                },
            ),
        )
    return node


def jurisdiction_update(
    *, actor: Actor, jurisdiction_id: int, reason: str = "", **changes: Any
) -> Jurisdiction:
    permissions.require(actor, "jurisdiction.manage")
    allowed = {"name_zh", "name_en", "code", "boundary"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(fields={k: _("This field cannot be changed.") for k in unknown})
    with transaction.atomic():
        node = access_jurisdiction_by_id(actor, jurisdiction_id)
        before = {k: getattr(node, k) for k in changes}
        if "code" in changes:
            changes["code"] = (changes["code"] or "").strip() or None
            if (
                changes["code"]
                and Jurisdiction.objects.filter(code=changes["code"]).exclude(pk=node.pk).exists()
            ):
                raise Conflict(
                    fields={
                        "code": _("Code %(code)s is already used by another node.")
                        % {"code": changes["code"]}
                    }
                )
        if "name_zh" in changes and not (changes["name_zh"] or "").strip():
            raise ValidationFailed(fields={"name_zh": _("A Chinese name is required.")})
        for k, v in changes.items():
            setattr(node, k, v)
        node.save(update_fields=[*changes, "updated_at"])
        audit_record(
            actor=actor,
            action="jurisdiction.update",
            obj=node,
            scope_path=node.path,
            changes=diff(before, changes),
            reason=reason,
        )
    return node


def jurisdiction_recount(*, root: Jurisdiction | None = None) -> int:
    """Refresh the cached resident counts (a periodic job; derived data, not audited)."""
    base = root.path if root else ""
    counts: dict[str, int] = {}
    rows = (
        Person.objects.active()
        .under(base)
        .exclude(home__isnull=True)
        .values("scope_path")
        .annotate(n=Count("id"))
    )
    for row in rows:
        path = row["scope_path"]
        # Credit the count to every ancestor prefix of the home building.
        for end in range(4, len(path) + 1, 4):
            counts[path[:end]] = counts.get(path[:end], 0) + row["n"]
    nodes = list(Jurisdiction.objects.subtree_of(base).only("id", "path", "resident_count"))
    changed = []
    for node in nodes:
        n = counts.get(node.path, 0)
        if node.resident_count != n:
            node.resident_count = n
            changed.append(node)
    Jurisdiction.objects.bulk_update(changed, ["resident_count"], batch_size=1000)
    return len(changed)


# --- People ----------------------------------------------------------------


@dataclass
class PersonData:
    doc_type: str
    doc_number: str
    name: str
    sex: str | None = None
    birth_date: dt.date | None = None
    phone: str = ""
    home_id: int | None = None
    home_unit: str = ""
    household_id: int | None = None
    key_groups: list[str] = field(default_factory=list)
    limited_mobility: bool = False
    language: str = "zh-hans"


@dataclass
class CleanPerson:
    """Validated, normalised values ready to store."""

    doc_type: str
    doc_number: str
    name: str
    sex: str
    birth_date: dt.date | None
    phone: str
    home: Jurisdiction | None
    home_unit: str
    household_id: int | None
    key_groups: list[KeyGroup]
    limited_mobility: bool
    language: str


def person_clean(
    data: PersonData,
    *,
    key_groups_by_code: dict[str, KeyGroup] | None = None,
    home: Jurisdiction | None = None,
) -> CleanPerson:
    """Validate one person's data; raise ValidationFailed listing every bad field."""
    errors: dict[str, str] = {}
    doc = None
    try:
        doc = normalise_document(data.doc_type, data.doc_number)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    name = (data.name or "").strip()
    if not name:
        errors["name"] = _("A name is required.")
    elif len(name) > 100:
        errors["name"] = _("A name has at most 100 characters.")
    phone = ""
    try:
        phone = normalise_phone(data.phone)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    sex = data.sex or "U"
    if sex not in Person.Sex.values:
        errors["sex"] = _("Sex must be M, F or U.")
    birth = data.birth_date
    if doc is not None and doc.birth_date is not None:
        if birth is not None and birth != doc.birth_date:
            errors["birth_date"] = _("The birth date does not match the ID number (%(date)s).") % {
                "date": doc.birth_date.isoformat()
            }
        birth = doc.birth_date
        if data.sex and data.sex != "U" and data.sex != doc.sex:
            errors["sex"] = _("The sex does not match the ID number.")
        sex = doc.sex or sex
    if birth is not None and birth > timezone.localdate():
        errors["birth_date"] = _("The birth date is in the future.")
    if data.language not in Person.Language.values:
        errors["language"] = _("Unknown language “%(value)s”.") % {"value": data.language}
    groups: list[KeyGroup] = []
    if data.key_groups:
        lookup = key_groups_by_code
        if lookup is None:
            lookup = {g.code: g for g in KeyGroup.objects.filter(code__in=data.key_groups)}
        missing = [c for c in data.key_groups if c not in lookup]
        if missing:
            errors["key_groups"] = _("Unknown key group: %(codes)s.") % {
                "codes": ", ".join(missing)
            }
        groups = [lookup[c] for c in data.key_groups if c in lookup]
    if home is None and data.home_id is not None:
        home = Jurisdiction.objects.filter(pk=data.home_id).first()
        if home is None:
            errors["home_id"] = _("Unknown home building.")
    if errors:
        raise ValidationFailed(fields=errors)
    assert doc is not None
    return CleanPerson(
        doc_type=doc.doc_type,
        doc_number=doc.number,
        name=name,
        sex=sex,
        birth_date=birth,
        phone=phone,
        home=home,
        home_unit=(data.home_unit or "").strip(),
        household_id=data.household_id,
        key_groups=groups,
        limited_mobility=bool(data.limited_mobility),
        language=data.language,
    )


def person_instance(clean: CleanPerson, *, scope_path: str) -> Person:
    """An unsaved Person with encrypted identifiers (used by bulk loaders too)."""
    return Person(
        doc_type=clean.doc_type,
        doc_number_encrypted=encrypt(clean.doc_number),
        doc_hash=lookup_hash("doc", clean.doc_number),
        doc_masked=mask(clean.doc_number),
        name=clean.name,
        sex=clean.sex,
        birth_date=clean.birth_date,
        phone_encrypted=encrypt(clean.phone) if clean.phone else "",
        phone_hash=lookup_hash("phone", clean.phone) if clean.phone else "",
        phone_masked=mask(clean.phone, 3, 4) if clean.phone else "",
        home=clean.home,
        scope_path=clean.home.path if clean.home else scope_path,
        home_unit=clean.home_unit,
        household_id=clean.household_id,
        limited_mobility=clean.limited_mobility,
        language=clean.language,
    )


def _person_snapshot(p: Person) -> dict[str, Any]:
    return {
        "doc_type": p.doc_type,
        "doc_number": p.doc_masked,
        "name": p.name,
        "sex": p.sex,
        "birth_date": p.birth_date,
        "phone": p.phone_masked,
        "home_id": p.home_id,
        "home_unit": p.home_unit,
        "household_id": p.household_id,
        "limited_mobility": p.limited_mobility,
        "language": p.language,
    }


def _duplicate_error(existing: Person) -> Conflict:
    return Conflict(
        _("A person with this document is already registered."),
        fields={
            "doc_number": _("Already registered (%(masked)s).") % {"masked": existing.doc_masked}
        },
        code="duplicate_document",
        extra={"existing_id": existing.pk},
    )


def person_create(*, actor: Actor, data: PersonData) -> Person:
    permissions.require(actor, "person.create")
    clean = person_clean(data)
    actor_scope = permissions.scope_path(actor)
    if actor_scope is None:
        raise NotFound()
    if clean.home is not None:
        permissions.require_in_scope(actor, clean.home.path)
        if clean.home.level != Jurisdiction.Level.BUILDING:
            raise ValidationFailed(fields={"home_id": _("The home must be a building.")})
    with transaction.atomic():
        existing = (
            Person.objects.active()
            .filter(doc_type=clean.doc_type, doc_hash=lookup_hash("doc", clean.doc_number))
            .first()
        )
        if existing is not None:
            raise _duplicate_error(existing)
        person = person_instance(clean, scope_path=actor_scope)
        person.save()
        if clean.key_groups:
            person.key_groups.set(clean.key_groups)
        audit_record(
            actor=actor,
            action="person.create",
            obj=person,
            scope_path=person.scope_path,
            person_id=person.pk,
            changes=diff(
                {}, {**_person_snapshot(person), "key_groups": [g.code for g in clean.key_groups]}
            ),
        )
    return person


def person_update(
    *, actor: Actor, person_id: int, data: dict[str, Any], reason: str = ""
) -> Person:
    """Correct registry details. ``data`` holds only the fields being changed."""
    permissions.require(actor, "person.update")
    allowed = set(PersonData.__dataclass_fields__)
    unknown = set(data) - allowed
    if unknown:
        raise ValidationFailed(fields={k: _("Unknown field.") for k in unknown})
    with transaction.atomic():
        person = access_person_by_id(actor, person_id)
        person = Person.objects.select_for_update().get(pk=person.pk)
        current_doc = decrypt(person.doc_number_encrypted)
        current_phone = decrypt(person.phone_encrypted) if person.phone_encrypted else ""
        merged = PersonData(
            doc_type=data.get("doc_type", person.doc_type),
            doc_number=data.get("doc_number", current_doc),
            name=data.get("name", person.name),
            sex=data.get("sex", person.sex if "doc_number" not in data else None),
            birth_date=data.get(
                "birth_date", person.birth_date if "doc_number" not in data else None
            ),
            phone=data.get("phone", current_phone),
            home_id=data.get("home_id", person.home_id),
            home_unit=data.get("home_unit", person.home_unit),
            household_id=data.get("household_id", person.household_id),
            key_groups=data.get(
                "key_groups", list(person.key_groups.values_list("code", flat=True))
            ),
            limited_mobility=data.get("limited_mobility", person.limited_mobility),
            language=data.get("language", person.language),
        )
        clean = person_clean(merged)
        if clean.home is not None and clean.home.pk != person.home_id:
            permissions.require_in_scope(actor, clean.home.path)
            if clean.home.level != Jurisdiction.Level.BUILDING:
                raise ValidationFailed(fields={"home_id": _("The home must be a building.")})
        new_hash = lookup_hash("doc", clean.doc_number)
        if new_hash != person.doc_hash or clean.doc_type != person.doc_type:
            clash = (
                Person.objects.active()
                .filter(doc_type=clean.doc_type, doc_hash=new_hash)
                .exclude(pk=person.pk)
                .first()
            )
            if clash is not None:
                raise _duplicate_error(clash)
        before = _person_snapshot(person)
        before_groups = sorted(person.key_groups.values_list("code", flat=True))
        fresh = person_instance(clean, scope_path=person.scope_path)
        for attr in (
            "doc_type",
            "doc_hash",
            "doc_masked",
            "name",
            "sex",
            "birth_date",
            "phone_hash",
            "phone_masked",
            "home",
            "home_unit",
            "household_id",
            "limited_mobility",
            "language",
        ):
            setattr(person, attr, getattr(fresh, attr))
        if clean.doc_number != current_doc:
            person.doc_number_encrypted = fresh.doc_number_encrypted
        if clean.phone != current_phone:
            person.phone_encrypted = fresh.phone_encrypted
        if clean.home is not None:
            person.scope_path = clean.home.path
        person.save()
        after_groups = sorted(g.code for g in clean.key_groups)
        if after_groups != before_groups:
            person.key_groups.set(clean.key_groups)
        changes = diff(before, _person_snapshot(person))
        if after_groups != before_groups:
            changes["key_groups"] = [before_groups, after_groups]
        audit_record(
            actor=actor,
            action="person.update",
            obj=person,
            scope_path=person.scope_path,
            person_id=person.pk,
            changes=changes,
            reason=reason,
        )
    return person


def person_unmask(*, actor: Actor, person_id: int, reason: str) -> dict[str, str]:
    """Full document and phone numbers. Needs its own permission and a reason; audited."""
    permissions.require(actor, "person.unmask")
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationFailed(fields={"reason": _("Say why you need to see the full numbers.")})
    with transaction.atomic():
        person = access_person_by_id(actor, person_id)
        audit_record(
            actor=actor,
            action="person.unmask",
            obj=person,
            scope_path=person.scope_path,
            person_id=person.pk,
            reason=reason,
        )
    return {
        "doc_number": decrypt(person.doc_number_encrypted),
        "phone": decrypt(person.phone_encrypted) if person.phone_encrypted else "",
    }


def person_merge(*, actor: Actor, keep_id: int, duplicate_id: int, reason: str) -> Person:
    """Merge a duplicate registration into the one kept.

    The duplicate is not deleted: it is marked as merged (it leaves lists and
    lookups), its household and key groups are carried over where the kept
    record has none, and both histories stay readable on the kept person's page.
    """
    permissions.require(actor, "person.merge")
    if keep_id == duplicate_id:
        raise ValidationFailed(fields={"duplicate_id": _("Choose two different people.")})
    if not (reason or "").strip():
        raise ValidationFailed(fields={"reason": _("A reason is required.")})
    with transaction.atomic():
        keep = access_person_by_id(actor, keep_id)
        dup = access_person_by_id(actor, duplicate_id)
        if keep.merged_into_id or dup.merged_into_id:
            raise Conflict(_("One of these records was already merged."))
        filled: dict[str, list[Any]] = {}
        if not keep.phone_encrypted and dup.phone_encrypted:
            keep.phone_encrypted, keep.phone_hash, keep.phone_masked = (
                dup.phone_encrypted,
                dup.phone_hash,
                dup.phone_masked,
            )
            filled["phone"] = ["", dup.phone_masked]
        if keep.household_id is None and dup.household_id is not None:
            keep.household_id = dup.household_id
            filled["household_id"] = [None, dup.household_id]
        if keep.home_id is None and dup.home_id is not None:
            keep.home_id, keep.scope_path = dup.home_id, dup.scope_path
            filled["home_id"] = [None, dup.home_id]
        keep.save()
        keep.key_groups.add(*dup.key_groups.all())
        Person.objects.filter(merged_into=dup).update(merged_into=keep)
        dup.merged_into = keep
        dup.save(update_fields=["merged_into", "updated_at"])
        for p, role in ((keep, "kept"), (dup, "merged")):
            audit_record(
                actor=actor,
                action="person.merge",
                obj=p,
                scope_path=p.scope_path,
                person_id=p.pk,
                reason=reason,
                changes={
                    "role": [None, role],
                    "kept_id": [None, keep.pk],
                    "duplicate_id": [None, dup.pk],
                    **(filled if p is keep else {}),
                },
            )
    return keep


# --- Households ------------------------------------------------------------


def household_create(*, actor: Actor, building_id: int, unit: str = "") -> Household:
    permissions.require(actor, "person.create")
    with transaction.atomic():
        building = access_jurisdiction_by_id(actor, building_id)
        if building.level != Jurisdiction.Level.BUILDING:
            raise ValidationFailed(fields={"building_id": _("Choose a building.")})
        hh = Household.objects.create(building=building, unit=unit.strip())
        audit_record(
            actor=actor,
            action="household.create",
            obj=hh,
            scope_path=building.path,
            changes=diff({}, {"building_id": building.pk, "unit": hh.unit}),
        )
    return hh


# --- Staff and tokens ------------------------------------------------------


def staff_create(
    *,
    actor: Actor,
    username: str,
    password: str,
    jurisdiction_id: int,
    role_codes: list[str],
    display_name: str = "",
) -> Any:
    permissions.require(actor, "staff.manage")
    User = get_user_model()
    with transaction.atomic():
        node = access_jurisdiction_by_id(actor, jurisdiction_id)
        roles = list(Role.objects.filter(code__in=role_codes))
        missing = sorted(set(role_codes) - {r.code for r in roles})
        if missing or not role_codes:
            raise ValidationFailed(
                fields={
                    "roles": _("Unknown or missing roles: %(codes)s.")
                    % {"codes": ", ".join(missing) or "-"}
                }
            )
        # Nobody grants a capability they do not hold themselves.
        own = permissions.capabilities_of(actor)
        for r in roles:
            if not set(r.capabilities) <= own:
                raise ValidationFailed(
                    fields={"roles": _("You cannot grant the role “%(role)s”.") % {"role": r.name}}
                )
        # Four eyes: one account never both manages staff and decides as the
        # second person, whatever roles it combines (core.foureyes).
        conflict = permissions.separation_conflict(c for r in roles for c in r.capabilities)
        if conflict:
            raise ValidationFailed(fields={"roles": permissions.separation_message(conflict)})
        if User.objects.filter(username=username).exists():
            raise Conflict(fields={"username": _("This user name is taken.")})
        try:
            validate_password(password, User(username=username))
        except DjangoValidationError as exc:
            raise ValidationFailed(fields={"password": " ".join(exc.messages)}) from None
        user = User.objects.create_user(username=username, password=password)
        profile = StaffProfile.objects.create(
            user=user, jurisdiction=node, display_name=display_name
        )
        profile.roles.set(roles)
        audit_record(
            actor=actor,
            action="staff.create",
            obj=user,
            scope_path=node.path,
            changes=diff(
                {}, {"username": username, "jurisdiction_id": node.pk, "roles": sorted(role_codes)}
            ),
        )
    return user


def api_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Set on the user an API token authenticated (``api_token_authenticate``,
# ``core.fastpaths.token_principal``): the request came with a token, not a session.
TOKEN_ATTR = "fangkong_api_token_id"  # noqa: S105 - an attribute name


def authenticated_by_token(actor: Actor) -> bool:
    """Whether this user was authenticated by an API token (not a session)."""
    return getattr(actor, TOKEN_ATTR, None) is not None


def _token_scope(user: Any) -> str:
    profile = permissions.staff_profile(user)
    return profile.jurisdiction.path if profile else ""


def api_token_create(
    *, actor: Actor, name: str, expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a personal API token; the clear token is returned once, never stored.

    Only a signed-in session creates tokens (a token cannot mint more). A token
    lives ``FANGKONG_API_TOKEN_DAYS`` unless given an end, which must be in the
    future and at most ``FANGKONG_API_TOKEN_MAX_DAYS`` away."""
    if actor is None or not actor.is_authenticated:
        raise NotFound()
    if authenticated_by_token(actor):
        raise PermissionDenied(
            _("An API token cannot create tokens: sign in with your password to make one.")
        )
    now = timezone.now()
    if expires_at is None:
        expires_at = now + dt.timedelta(days=settings.FANGKONG_API_TOKEN_DAYS)
    elif expires_at <= now:
        raise ValidationFailed(
            fields={"expires_at": _("The end of a token must be in the future.")}
        )
    elif expires_at > now + dt.timedelta(days=settings.FANGKONG_API_TOKEN_MAX_DAYS):
        raise ValidationFailed(
            fields={
                "expires_at": _("A token may last at most %(days)s days.")
                % {"days": settings.FANGKONG_API_TOKEN_MAX_DAYS}
            }
        )
    clear = "fk_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=actor,
            name=name.strip()[:100] or "token",
            token_hash=api_token_hash(clear),
            prefix=clear[:8],
            expires_at=expires_at,
        )
        audit_record(
            actor=actor,
            action="api_token.create",
            obj=token,
            scope_path=_token_scope(actor),
            changes=diff({}, {"name": token.name, "expires_at": expires_at.isoformat()}),
        )
    return token, clear


def api_token_revoke(*, actor: Actor, token_id: int, reason: str = "") -> ApiToken:
    """Revoke a token: its owner, or a system administrator (``token.revoke``) for
    the staff of their area. Revoking a revoked token changes nothing."""
    with transaction.atomic():
        token = access_api_token_by_id(actor, token_id, for_update=True)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at", "updated_at"])
            audit_record(
                actor=actor,
                action="api_token.revoke",
                obj=token,
                scope_path=_token_scope(token.user),
                changes=diff({}, {"name": token.name}),
                reason=reason,
            )
    return token


def api_tokens_revoke_at_sign_out(*, user: Actor) -> int:
    """Every live token of a user who signs out is revoked (a token never outlives
    the sessions it was made in: a stolen session cannot leave one behind)."""
    if user is None or not user.is_authenticated:
        return 0
    with transaction.atomic():
        ids = list(
            ApiToken.objects.select_for_update()
            .filter(user=user, revoked_at__isnull=True)
            .values_list("pk", flat=True)
        )
        if not ids:
            return 0
        ApiToken.objects.filter(pk__in=ids).update(revoked_at=timezone.now())
        audit_record(
            actor=user,
            action="api_token.revoke_at_sign_out",
            object_type="core.apitoken",
            object_id=",".join(str(i) for i in ids),
            scope_path=_token_scope(user),
            changes=diff({}, {"count": len(ids)}),
        )
    return len(ids)


def api_token_authenticate(clear: str) -> Any | None:
    """The user of a valid API token (not revoked, not expired, an active user; its
    use noted at most once a minute), their staff profile and area loaded with it;
    ``None`` otherwise. The one Python form of the token rules (the fast paths call
    it too); ``core.fastpaths.PRINCIPAL_CTE`` is their SQL form, tested against it."""
    token = (
        ApiToken.objects.select_related("user", "user__staff__jurisdiction")
        .filter(token_hash=api_token_hash(clear), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    if not api_token_in_use(token.pk, token.expires_at, token.last_used_at):
        return None
    setattr(token.user, TOKEN_ATTR, token.pk)
    return token.user


def api_token_in_use(
    token_id: int, expires_at: dt.datetime | None, last_used_at: dt.datetime | None
) -> bool:
    """False for an expired token; else True, noting its use at most once a minute
    (shared by ``api_token_authenticate`` and ``core.fastpaths.token_principal``)."""
    now = timezone.now()
    if expires_at and expires_at <= now:
        return False
    if last_used_at is None or (now - last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return True
