"""Closed-loop breach inquiries (破环流调): a quarantine site reports a breach of its
staff's closed loop; the fact ``quarantine.breach_reported`` opens an inquiry here
(once per breach), an investigator takes it up and closes it with findings and an
outcome (exposure found or not). ``breach_inquiry.closed`` tells other modules."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, ValidationFailed
from fangkong.core.events import publish
from fangkong.core.types import Actor, acting_user
from fangkong.investigation.models import BreachInquiry
from fangkong.investigation.selectors.breaches import access_breach_inquiry_by_id

MAX_FINDINGS = 4000


def breach_inquiry_open(
    *,
    actor: Actor,
    breach_id: int,
    site_name: str,
    scope_path: str,
    occurred_at: dt.datetime,
) -> BreachInquiry:
    """The inquiry of a breach (system actor, from the fact): opened once; a second
    delivery of the same fact returns the inquiry already open."""
    with transaction.atomic():
        inquiry, created = BreachInquiry.objects.get_or_create(
            breach_id=breach_id,
            defaults={
                "site_name": site_name[:200],
                "scope_path": scope_path,
                "occurred_at": occurred_at,
            },
        )
        if created:
            audit_record(
                actor=actor,
                action="breach_inquiry.open",
                obj=inquiry,
                scope_path=inquiry.scope_path,
                changes={"site": [None, inquiry.site_name]},
            )
    return inquiry


def breach_inquiry_take(*, actor: Actor, inquiry_id: int) -> BreachInquiry:
    """An investigator takes up an open inquiry (it becomes theirs)."""
    permissions.require(actor, "case.manage")
    with transaction.atomic():
        inquiry = access_breach_inquiry_by_id(actor, inquiry_id, for_update=True)
        if inquiry.state != BreachInquiry.State.OPEN:
            raise Conflict(_("This inquiry was already taken up."), code="already_taken")
        inquiry.state = BreachInquiry.State.IN_PROGRESS
        inquiry.investigator = acting_user(actor)
        inquiry.save(update_fields=["state", "investigator", "updated_at"])
        audit_record(
            actor=actor,
            action="breach_inquiry.take",
            obj=inquiry,
            scope_path=inquiry.scope_path,
            changes={"inquiry_state": [BreachInquiry.State.OPEN, inquiry.state]},
        )
    return inquiry


def breach_inquiry_close(
    *, actor: Actor, inquiry_id: int, outcome: str, findings: str
) -> BreachInquiry:
    """Close an inquiry with its outcome and findings (both required)."""
    permissions.require(actor, "case.manage")
    errors: dict[str, str] = {}
    if outcome not in (BreachInquiry.Outcome.NO_EXPOSURE, BreachInquiry.Outcome.EXPOSURE):
        errors["outcome"] = _("Say whether anyone was exposed.")
    if not findings.strip():
        errors["findings"] = _("Record the findings before closing.")
    elif len(findings) > MAX_FINDINGS:
        errors["findings"] = _("At most 4,000 characters.")
    with transaction.atomic():
        inquiry = access_breach_inquiry_by_id(actor, inquiry_id, for_update=True)
        if inquiry.state == BreachInquiry.State.CLOSED:
            raise Conflict(_("This inquiry is closed."), code="closed")
        if errors:
            raise ValidationFailed(fields=errors)
        before = inquiry.state
        inquiry.state = BreachInquiry.State.CLOSED
        inquiry.outcome = outcome
        inquiry.findings = findings.strip()
        inquiry.investigator = inquiry.investigator or acting_user(actor)
        inquiry.closed_at = timezone.now()
        inquiry.save(
            update_fields=[
                "state",
                "outcome",
                "findings",
                "investigator",
                "closed_at",
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            action="breach_inquiry.close",
            obj=inquiry,
            scope_path=inquiry.scope_path,
            changes={"inquiry_state": [before, inquiry.state], "inquiry_outcome": [None, outcome]},
            reason=inquiry.findings,
        )
        publish(
            "breach_inquiry.closed",
            inquiry_id=inquiry.pk,
            breach_id=inquiry.breach_id,
            outcome=outcome,
            findings=inquiry.findings,
            actor=actor,
        )
    return inquiry
