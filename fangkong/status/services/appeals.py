"""Appeals (申诉): a resident contests their status; the jurisdiction's status
team decides within the SLA (data) and the decision goes back by SMS."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.crypto import lookup_hash
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.models import Person
from fangkong.core.types import Actor, acting_user
from fangkong.status import rules
from fangkong.status.models import Appeal

MIN_TEXT = 10
MAX_TEXT = 2000


def appeal_create(*, person_id: int, doc_number: str, text: str) -> Appeal:
    """The verified resident appeals. The document number typed on the form must
    be the resident's own: an appeal for someone else's document is refused."""
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise NotFound()
    errors: dict[str, str] = {}
    if lookup_hash("doc", (doc_number or "").strip().upper()) != person.doc_hash:
        errors["doc_number"] = _(
            "You can appeal only about your own status: this is not your document."
        )
    text = (text or "").strip()
    if not MIN_TEXT <= len(text) <= MAX_TEXT:
        errors["text"] = _("Explain your appeal in %(min)s to %(max)s characters.") % {
            "min": MIN_TEXT,
            "max": MAX_TEXT,
        }
    if errors:
        raise ValidationFailed(fields=errors)
    from fangkong.status.selectors import effective

    with transaction.atomic():
        if Appeal.objects.filter(person=person, state=Appeal.State.OPEN).exists():
            raise Conflict(_("You already have an open appeal; you will get an answer by SMS."))
        now = timezone.now()
        appeal = Appeal.objects.create(
            person=person,
            scope_path=person.scope_path,
            text=text,
            level_at_appeal=effective(person.pk)[0],
            due_at=now + dt.timedelta(hours=rules.policy().appeal_sla_hours),
        )
        audit_record(
            actor=None,
            action="status.appeal_create",
            obj=appeal,
            scope_path=appeal.scope_path,
            person_id=person.pk,
            changes={"level": [None, appeal.level_at_appeal]},
        )
    return appeal


def appeal_decide(*, actor: Actor, appeal_id: int, state: str, text: str) -> Appeal:
    """Decide an appeal (upheld / rejected) with a reason; the person gets an SMS.
    Upholding records the decision: changing the status itself goes through a
    manual request (four eyes)."""
    permissions.require(actor, "status.appeals")
    errors: dict[str, str] = {}
    if state not in (Appeal.State.UPHELD, Appeal.State.REJECTED):
        errors["state"] = _("Choose upheld or rejected.")
    text = (text or "").strip()
    if not text:
        errors["text"] = _("Give the reason of the decision: it is sent to the person.")
    if errors:
        raise ValidationFailed(fields=errors)
    from fangkong.notify.services import notify_system

    with transaction.atomic():
        appeal = (
            Appeal.objects.select_for_update().select_related("person").filter(pk=appeal_id).first()
        )
        if appeal is None or not permissions.in_scope(actor, appeal.scope_path):
            raise NotFound()
        if appeal.state != Appeal.State.OPEN:
            raise Conflict(_("This appeal was already decided."))
        appeal.state = state
        appeal.decided_by = acting_user(actor)
        appeal.decided_at = timezone.now()
        appeal.decision_text = text
        appeal.save(
            update_fields=["state", "decided_by", "decided_at", "decision_text", "updated_at"]
        )
        audit_record(
            actor=actor,
            action="status.appeal_decide",
            obj=appeal,
            scope_path=appeal.scope_path,
            person_id=appeal.person_id,
            changes={"state": [Appeal.State.OPEN, state]},
            reason=text,
        )
        notify_system(
            person=appeal.person,
            purpose="status_appeal",
            template_code="status_appeal_decided",
            context={"decision": appeal.get_state_display(), "reason": text[:400]},
            legally_required=True,
            dedup_key=f"appeal-{appeal.pk}",
        )
    return appeal
