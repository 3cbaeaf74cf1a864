"""Residents' own submissions: feedback (arrival reports belong to entry control)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from fangkong.core.audit import audit_record
from fangkong.core.errors import ValidationFailed
from fangkong.portal.models import Feedback
from fangkong.portal.sanitise import plain_text


@transaction.atomic
def feedback_create(*, person_id: int | None, subject: str, text: str) -> Feedback:
    subject, text = plain_text(subject)[:100], plain_text(text)[:4000]
    if not text:
        raise ValidationFailed(fields={"text": _("Write your message first.")})
    fb = Feedback.objects.create(person_id=person_id, subject=subject or _("Feedback"), text=text)
    audit_record(actor=None, action="portal.feedback.create", obj=fb, person_id=person_id)
    return fb
