"""Manual status changes with four eyes.

A manual reason, or an early end of fact-based reasons, is a *request*: a written
reason, a basis from the list (data), an end date at most N days away (data). It
has no effect until a second authorised user of the same or a higher jurisdiction
approves it; nobody approves their own request, nor one of an account linked to
theirs (``core.foureyes``: one created the other or changed its roles); a bulk
request (more than N people, data) needs ``status.approve_bulk`` (the city
commander).

No status without a health fact: a manual status (which can only raise a person's
level, or hold it up) must cite a *health* basis (``ManualBasis.health``: a case,
a contact, a test, an arrival from a listed area, a clinical decision) and name its
source; any other basis (an appeal upheld, a data correction) may only end reasons.
The approval checks it again, so a request made before a basis was corrected, or
whose basis was changed since, cannot raise anyone.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import foureyes, permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from fangkong.core.models import Person
from fangkong.core.types import Actor, acting_user
from fangkong.status import rules
from fangkong.status.models import ManualBasis, ManualRequest, Reason
from fangkong.status.services.reasons import _end_rows, reasons_grant

MANUAL_SOURCE = "status.manual"
MIN_TEXT = 10
SOURCE_MAX = 120


def _actor_path(actor: Actor) -> str:
    path = permissions.scope_path(actor)
    if path is None:
        raise PermissionDenied()
    return path


def _people_in_scope(actor: Actor, person_ids: list[int]) -> list[int]:
    prefix = _actor_path(actor)
    found = dict(Person.objects.filter(pk__in=person_ids).values_list("pk", "scope_path"))
    missing = [pid for pid in person_ids if pid not in found or not found[pid].startswith(prefix)]
    if missing:
        raise NotFound(
            fields={
                "person_ids": _("No such person: %(ids)s.")
                % {"ids": ", ".join(map(str, missing[:10]))}
            }
        )
    return person_ids


def basis_errors(basis: ManualBasis, *, action: str, source_ref: str) -> dict[str, str]:
    """What is wrong with citing ``basis`` (and ``source_ref``) for ``action``: a
    manual status needs a health basis with its source; a basis that says which
    source it needs gets one whatever the action."""
    if action == ManualRequest.Action.GRANT and not basis.health:
        return {
            "basis": _(
                "“%(basis)s” is not a health fact: it can only end or lower a status. "
                "A manual status needs a health basis (a case, a contact, a test, an "
                "arrival from a listed area or a clinical decision)."
            )
            % {"basis": basis.name}
        }
    if basis.needs_source and not source_ref:
        if basis.source_label:
            return {
                "source_ref": _("Name the source of this basis: %(what)s.")
                % {"what": basis.source_label}
            }
        return {"source_ref": _("Name the source of this basis.")}
    return {}


def manual_request_create(
    *,
    actor: Actor,
    action: str,
    basis: str,
    text: str,
    source_ref: str = "",
    person_ids: list[int] | None = None,
    level: str = "",
    ends_at: dt.datetime | None = None,
    reason_ids: list[int] | None = None,
) -> ManualRequest:
    """Ask for a manual status (``grant``, a health basis and its source) or the
    early end of reasons (``end``, any basis)."""
    permissions.require(actor, "status.request")
    requester = acting_user(actor)
    assert requester is not None  # require() lets only a signed-in user through
    policy = rules.policy()
    now = timezone.now()
    errors: dict[str, str] = {}
    if action not in ManualRequest.Action.values:
        errors["action"] = _("Choose a manual status or an early end.")
    source_ref = " ".join((source_ref or "").split())
    if len(source_ref) > SOURCE_MAX:
        errors["source_ref"] = _("Name the source in at most %(n)s characters.") % {"n": SOURCE_MAX}
    basis_row = ManualBasis.objects.filter(code=basis, active=True).first()
    if basis_row is None:
        errors["basis"] = _("Choose the legal or health basis from the list.")
    elif action in ManualRequest.Action.values and "source_ref" not in errors:
        errors.update(basis_errors(basis_row, action=action, source_ref=source_ref))
    text = (text or "").strip()
    if len(text) < MIN_TEXT:
        errors["text"] = _("Write the reason (at least %(n)s characters).") % {"n": MIN_TEXT}
    ids: list[int] = []
    if action == ManualRequest.Action.GRANT:
        levels = rules.levels()
        if level not in levels or level == rules.lowest_level().code:
            errors["level"] = _("Choose the level to give.")
        if ends_at is None:
            errors["ends_at"] = _("Give the end date.")
        elif ends_at <= now:
            errors["ends_at"] = _("The end date must be in the future.")
        elif ends_at > now + dt.timedelta(days=policy.manual_max_days):
            errors["ends_at"] = _("A manual status lasts at most %(n)s days.") % {
                "n": policy.manual_max_days
            }
        try:
            ids = sorted({int(p) for p in person_ids or []})
        except (TypeError, ValueError):
            errors["person_ids"] = _("Person ids are whole numbers.")
        if not ids and "person_ids" not in errors:
            errors["person_ids"] = _("Choose at least one person.")
    elif action == ManualRequest.Action.END:
        try:
            rids = sorted({int(r) for r in reason_ids or []})
        except (TypeError, ValueError):
            rids = []
        rows = list(
            Reason.objects.filter(pk__in=rids, ended_at__isnull=True).values_list("pk", "person_id")
        )
        if not rids or len(rows) != len(rids):
            errors["reason_ids"] = _("Choose reasons that are still active.")
        ids = sorted({pid for _r, pid in rows})
        reason_ids = rids
    if errors:
        raise ValidationFailed(fields=errors)
    assert basis_row is not None
    _people_in_scope(actor, ids)
    with transaction.atomic():
        req = ManualRequest.objects.create(
            action=action,
            person_ids=ids,
            people_count=len(ids),
            level=level if action == ManualRequest.Action.GRANT else "",
            reason_ids=reason_ids or [],
            basis=basis_row,
            source_ref=source_ref,
            text=text,
            ends_at=ends_at if action == ManualRequest.Action.GRANT else None,
            bulk=len(ids) > policy.bulk_threshold,
            scope_path=_actor_path(actor),
            requested_by=requester,
        )
        audit_record(
            actor=actor,
            action="status.manual_request",
            obj=req,
            scope_path=req.scope_path,
            person_id=ids[0] if len(ids) == 1 else None,
            changes={
                "action": [None, action],
                "level": [None, req.level or None],
                "people": [None, len(ids)],
                "basis": [None, basis],
                "source": [None, source_ref or None],
                "ends_at": [None, ends_at.isoformat() if ends_at else None],
            },
            reason=text,
        )
    return req


def _pending_for(actor: Actor, request_id: int) -> ManualRequest:
    req = ManualRequest.objects.select_for_update().filter(pk=request_id).first()
    if req is None or not permissions.in_scope(actor, req.scope_path):
        raise NotFound()
    if req.state != ManualRequest.State.PENDING:
        raise Conflict(_("This request was already decided."))
    return req


def manual_request_approve(*, actor: Actor, request_id: int, note: str = "") -> ManualRequest:
    """The second pair of eyes: apply the request. Refused for one's own request,
    outside one's jurisdiction (404), and for bulk without ``status.approve_bulk``."""
    permissions.require(actor, "status.approve")
    now = timezone.now()
    with transaction.atomic():
        req = _pending_for(actor, request_id)
        foureyes.require_second_person(
            actor=actor,
            first_id=req.requested_by_id,
            own_message=_("A second person must approve: you cannot approve your own request."),
            own_code="own_request",
        )
        if req.bulk and not permissions.has_capability(actor, "status.approve_bulk"):
            raise PermissionDenied(
                _("A bulk change (%(n)s people) needs the city commander's approval.")
                % {"n": req.people_count},
                code="bulk_needs_commander",
            )
        basis = ManualBasis.objects.get(pk=req.basis_id)
        wrong = basis_errors(basis, action=req.action, source_ref=req.source_ref)
        if wrong:
            raise ValidationFailed(
                _("This request cannot be approved as it stands: refuse it and ask for a new one."),
                fields=wrong,
                code="basis_not_allowed",
            )
        if req.action == ManualRequest.Action.GRANT:
            if req.ends_at is None or req.ends_at <= now:
                raise ValidationFailed(
                    fields={"ends_at": _("The end date has passed: ask for a new request.")}
                )
            _people_in_scope(actor, list(req.person_ids))
        req.state = ManualRequest.State.APPROVED
        req.decided_by = acting_user(actor)
        req.decided_at = now
        req.decision_note = (note or "").strip()
        req.save(update_fields=["state", "decided_by", "decided_at", "decision_note", "updated_at"])
        audit_record(
            actor=actor,
            action="status.manual_approve",
            obj=req,
            scope_path=req.scope_path,
            changes={"state": [ManualRequest.State.PENDING, req.state]},
            reason=req.decision_note,
        )
        if req.action == ManualRequest.Action.GRANT:
            reasons_grant(
                kind="manual",
                person_ids=req.person_ids,
                source_type=MANUAL_SOURCE,
                source_id=req.pk,
                level=req.level,
                ends_at=req.ends_at,
                actor=actor,
            )
        else:
            rows = list(
                Reason.objects.filter(pk__in=req.reason_ids, ended_at__isnull=True).values_list(
                    "pk", "person_id"
                )
            )
            _end_rows(rows, how=Reason.How.REVOKED, actor=actor, now=now, notify=True)
    return req


def manual_request_refuse(*, actor: Actor, request_id: int, note: str) -> ManualRequest:
    permissions.require(actor, "status.approve")
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(fields={"note": _("Say why the request is refused.")})
    with transaction.atomic():
        req = _pending_for(actor, request_id)
        foureyes.require_second_person(
            actor=actor,
            first_id=req.requested_by_id,
            own_message=_("A second person must decide: you cannot decide your own request."),
            own_code="own_request",
        )
        req.state = ManualRequest.State.REFUSED
        req.decided_by = acting_user(actor)
        req.decided_at = timezone.now()
        req.decision_note = note
        req.save(update_fields=["state", "decided_by", "decided_at", "decision_note", "updated_at"])
        audit_record(
            actor=actor,
            action="status.manual_refuse",
            obj=req,
            scope_path=req.scope_path,
            changes={"state": [ManualRequest.State.PENDING, req.state]},
            reason=note,
        )
    return req
