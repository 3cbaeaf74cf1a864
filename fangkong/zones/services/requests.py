"""Door-step service requests (上门服务) and the zones' four-ones teams (四个一).

A request comes from the resident (portal, ``actor=None``) or from staff on
their behalf. Kinds and their SLAs are data (``ServiceKind``). Requests of a
sealed zone's residents belong to the zone (its team handles them); medical
requests are never refused because of the zone, and are accepted from people
outside any zone as ordinary requests; zone-only kinds (groceries, rubbish)
need a zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.crypto import sealed_phone
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.events import publish
from fangkong.core.identity import normalise_phone
from fangkong.core.models import Person
from fangkong.core.types import Actor, acting_user
from fangkong.zones.models import (
    ServiceKind,
    ServiceRequest,
    ServiceRequestEvent,
    TeamMember,
    Zone,
)

MAX_ITEMS = 50
MAX_TEXT = 2000


def _clean_items(items: Iterable[Any] | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for raw in items or []:
        if isinstance(raw, str):
            name, qty = raw.strip(), 1
        elif isinstance(raw, dict):
            name = str(raw.get("name", "")).strip()
            try:
                qty = int(raw.get("qty", 1))
            except (TypeError, ValueError):
                qty = 0
        else:
            name, qty = "", 0
        if not name or not 1 <= qty <= 999 or len(name) > 100:
            raise ValidationFailed(
                fields={
                    "items": _(
                        "Each item needs a name (up to 100 characters) and a quantity "
                        "from 1 to 999."
                    )
                }
            )
        out.append({"name": name, "qty": qty})
    if len(out) > MAX_ITEMS:
        raise ValidationFailed(fields={"items": _("At most 50 items in one request.")})
    return out


def _event(req: ServiceRequest, actor: Actor, status: str, note: str = "") -> None:
    ServiceRequestEvent.objects.create(
        request=req,
        actor=acting_user(actor),
        status=status,
        note=note[:1000],
    )


def _audit(actor: Actor, req: ServiceRequest, action: str, **changes: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=req,
        scope_path=req.scope_path,
        person_id=req.person_id,
        changes={k: [None, v] for k, v in changes.items()},
    )


def service_request_create(
    *,
    actor: Actor = None,
    person_id: int,
    kind: str,
    text: str = "",
    items: Iterable[Any] | None = None,
    via: str = "portal",
    now: dt.datetime | None = None,
) -> ServiceRequest:
    """File a door-step request for a person. ``actor=None``: the verified resident
    through the portal; otherwise staff with ``service.request`` in the person's area."""
    from fangkong.zones.selectors import zone_obj_for_person

    if actor is not None:
        permissions.require(actor, "service.request")
    person = Person.objects.active().filter(pk=person_id).first()
    if person is None or (actor is not None and not permissions.in_scope(actor, person.scope_path)):
        raise NotFound()
    service = ServiceKind.objects.filter(code=str(kind or "")).first()
    if service is None:
        raise ValidationFailed(fields={"kind": _("Choose a kind of service.")})
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise ValidationFailed(fields={"text": _("Describe the need in at most 2000 characters.")})
    clean_items = _clean_items(items)
    if not text and not clean_items:
        raise ValidationFailed(fields={"text": _("Say what is needed.")})
    zone = zone_obj_for_person(person)
    if zone is None and service.zone_only:
        raise ValidationFailed(
            fields={
                "kind": _(
                    "%(kind)s is a door-step service for residents of sealed zones, and this "
                    "home is in no zone. Medical care and medicines can still be requested."
                )
                % {"kind": service.name}
            }
        )
    now = now or timezone.now()
    with transaction.atomic():
        req = ServiceRequest.objects.create(
            person=person,
            zone=zone,
            kind=service,
            text=text,
            items=clean_items,
            priority=service.priority,
            via=ServiceRequest.Via.STAFF if actor is not None else ServiceRequest.Via.PORTAL,
            due_at=now + dt.timedelta(minutes=service.sla_minutes),
            scope_path=person.scope_path,
        )
        _event(req, actor, ServiceRequest.Status.OPEN, text[:200])
        _audit(
            actor, req, "service_request.create", kind=service.code, zone=zone.pk if zone else None
        )
        publish(
            "service_request.filed",
            request_id=req.pk,
            zone_id=zone.pk if zone else None,
            kind=service.code,
            group=service.group,
            text=text,
            items=clean_items,
            scope_path=req.scope_path,
            due_at=req.due_at.isoformat(),
            actor=actor,
        )
    return req


def _access_request(actor: Actor, request_id: int) -> ServiceRequest:
    req = (
        ServiceRequest.objects.select_for_update(of=("self",))
        .select_related("kind")
        .filter(pk=request_id)
        .first()
    )
    if req is None or not permissions.in_scope(actor, req.scope_path):
        raise NotFound()
    return req


def service_request_assign(
    *, actor: Actor, request_id: int, assignee: Any = None
) -> ServiceRequest:
    """Take a request (or give it to a colleague of the area)."""
    permissions.require(actor, "service.handle")
    assignee = assignee or actor
    if assignee is not actor and not (
        permissions.has_capability(assignee, "service.handle")
        and permissions.scope_path(assignee) is not None
    ):
        raise ValidationFailed(fields={"assignee": _("This person cannot handle requests.")})
    with transaction.atomic():
        req = _access_request(actor, request_id)
        if not req.is_open:
            raise Conflict(_("This request is already closed."))
        if not permissions.in_scope(assignee, req.scope_path):
            raise ValidationFailed(
                fields={"assignee": _("This person works outside the resident's area.")}
            )
        req.assignee = assignee
        req.status = ServiceRequest.Status.ASSIGNED
        req.save(update_fields=["assignee", "status", "updated_at"])
        _event(req, actor, req.status, assignee.get_username())
        _audit(actor, req, "service_request.assign", assignee=assignee.get_username())
    return req


def service_request_complete(*, actor: Actor, request_id: int, note: str = "") -> ServiceRequest:
    permissions.require(actor, "service.handle")
    with transaction.atomic():
        req = _access_request(actor, request_id)
        if not req.is_open:
            raise Conflict(_("This request is already closed."))
        req.status = ServiceRequest.Status.DONE
        req.done_at = timezone.now()
        if req.assignee_id is None:
            req.assignee = acting_user(actor)
        req.save(update_fields=["status", "done_at", "assignee", "updated_at"])
        _event(req, actor, req.status, note)
        _audit(actor, req, "service_request.complete", status="done")
        publish("service_request.closed", request_id=req.pk, status=req.status, actor=actor)
    return req


def service_request_cancel(*, actor: Actor, request_id: int, note: str) -> ServiceRequest:
    permissions.require(actor, "service.handle")
    if not (note or "").strip():
        raise ValidationFailed(fields={"note": _("Say why the request is cancelled.")})
    with transaction.atomic():
        req = _access_request(actor, request_id)
        if not req.is_open:
            raise Conflict(_("This request is already closed."))
        req.status = ServiceRequest.Status.CANCELLED
        req.save(update_fields=["status", "updated_at"])
        _event(req, actor, req.status, note)
        _audit(actor, req, "service_request.cancel", status="cancelled")
        publish("service_request.closed", request_id=req.pk, status=req.status, actor=actor)
    return req


def service_requests_delivered(
    *, actor: Actor, request_ids: Iterable[int], note: str, at: dt.datetime | None = None
) -> int:
    """Requests whose goods another module delivered (a fact: supplies' proof of
    delivery) are done; the resident may then confirm. Requests already closed are
    left as they are, so a second delivery of the fact changes nothing. Returns how
    many became done."""
    done = 0
    with transaction.atomic():
        rows = ServiceRequest.objects.select_for_update(of=("self",)).filter(
            pk__in=list(request_ids),
            status__in=[ServiceRequest.Status.OPEN, ServiceRequest.Status.ASSIGNED],
        )
        for req in rows.order_by("pk"):
            req.status = ServiceRequest.Status.DONE
            req.done_at = at or timezone.now()
            req.save(update_fields=["status", "done_at", "updated_at"])
            _event(req, actor, req.status, note)
            _audit(actor, req, "service_request.complete", status="done")
            done += 1
    return done


def service_request_confirm(
    *, person_id: int, request_id: int, actor: Actor = None, note: str = ""
) -> ServiceRequest:
    """The resident confirms the service was delivered (portal, or staff on their word)."""
    if actor is not None:
        permissions.require(actor, "service.request")
    with transaction.atomic():
        req = (
            ServiceRequest.objects.select_for_update(of=("self",))
            .filter(pk=request_id, person_id=person_id)
            .first()
        )
        if req is None or (actor is not None and not permissions.in_scope(actor, req.scope_path)):
            raise NotFound()
        if req.status != ServiceRequest.Status.DONE:
            raise Conflict(_("Only a completed request can be confirmed."))
        req.status = ServiceRequest.Status.CONFIRMED
        req.confirmed_at = timezone.now()
        req.save(update_fields=["status", "confirmed_at", "updated_at"])
        _event(req, actor, req.status, note)
        _audit(actor, req, "service_request.confirm", status="confirmed")
    return req


def service_requests_escalate(*, now: dt.datetime | None = None) -> int:
    """Mark open requests past their SLA as escalated (top priority, an event in
    their history). Run by a periodic job; returns how many were escalated."""
    now = now or timezone.now()
    count = 0
    qs = ServiceRequest.objects.filter(
        status__in=[ServiceRequest.Status.OPEN, ServiceRequest.Status.ASSIGNED],
        due_at__lt=now,
        escalated_at__isnull=True,
    )
    for req_id in list(qs.values_list("id", flat=True)[:5000]):
        with transaction.atomic():
            req = ServiceRequest.objects.select_for_update(of=("self",)).get(pk=req_id)
            if req.escalated_at is not None or not req.is_open:
                continue
            req.escalated_at = now
            req.priority = 1
            req.save(update_fields=["escalated_at", "priority", "updated_at"])
            ServiceRequestEvent.objects.create(
                request=req, time=now, status=req.status, note="escalated: past its SLA"
            )
            count += 1
    return count


# --- Four-ones teams -------------------------------------------------------------


def team_member_add(
    *,
    actor: Actor,
    zone_id: int,
    role: str,
    name: str,
    phone: str = "",
    shift: str = "",
    user: Any = None,
) -> TeamMember:
    permissions.require(actor, "zone.team")
    zone = Zone.objects.filter(pk=zone_id).first()
    if zone is None or not permissions.in_scope(actor, zone.scope_path):
        raise NotFound()
    errors: dict[str, str] = {}
    if role not in TeamMember.Role.values:
        errors["role"] = _("Choose the member's role in the team.")
    if not (name or "").strip():
        errors["name"] = _("Give the member's name.")
    number = ""
    try:
        number = normalise_phone(phone or "", field="phone")
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        member = TeamMember.objects.create(
            zone=zone,
            role=role,
            name=name.strip()[:100],
            # Encrypted, hashed and masked as people's numbers are.
            **sealed_phone(number),
            shift=shift.strip()[:60],
            user=user,
        )
        audit_record(
            actor=actor,
            action="zone.team_add",
            obj=member,
            scope_path=zone.scope_path,
            changes={
                "role": [None, role],
                "name": [None, member.name],
                "phone": [None, member.phone_masked or None],
            },
        )
    return member


def team_member_remove(*, actor: Actor, member_id: int) -> None:
    permissions.require(actor, "zone.team")
    with transaction.atomic():
        member = TeamMember.objects.select_related("zone").filter(pk=member_id).first()
        if member is None or not permissions.in_scope(actor, member.zone.scope_path):
            raise NotFound()
        audit_record(
            actor=actor,
            action="zone.team_remove",
            obj=member,
            scope_path=member.zone.scope_path,
            changes={"role": [member.role, None], "name": [member.name, None]},
        )
        member.delete()
