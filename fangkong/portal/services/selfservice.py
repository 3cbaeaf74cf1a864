"""Residents' own submissions: arrival reports and feedback."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core.audit import audit_record
from fangkong.core.errors import ValidationFailed
from fangkong.portal.models import ArrivalReport, Feedback
from fangkong.portal.sanitise import plain_text


@transaction.atomic
def arrival_report_create(
    *,
    person_id: int | None,
    from_place: str,
    arrival_date: dt.date,
    destination: str,
    transport: str = "",
) -> ArrivalReport:
    fields = {}
    if not plain_text(from_place):
        fields["from_place"] = _("Say where you are coming from.")
    if not plain_text(destination):
        fields["destination"] = _("Say where you will stay in the city.")
    if arrival_date < timezone.localdate() - dt.timedelta(days=1):
        fields["arrival_date"] = _("The arrival date is in the past.")
    if fields:
        raise ValidationFailed(fields=fields)
    report = ArrivalReport.objects.create(
        person_id=person_id,
        from_place=plain_text(from_place)[:100],
        arrival_date=arrival_date,
        destination=plain_text(destination)[:200],
        transport=plain_text(transport)[:60],
    )
    audit_record(actor=None, action="portal.arrival.create", obj=report, person_id=person_id)
    return report


@transaction.atomic
def feedback_create(*, person_id: int | None, subject: str, text: str) -> Feedback:
    subject, text = plain_text(subject)[:100], plain_text(text)[:4000]
    if not text:
        raise ValidationFailed(fields={"text": _("Write your message first.")})
    fb = Feedback.objects.create(person_id=person_id, subject=subject or _("Feedback"), text=text)
    audit_record(actor=None, action="portal.feedback.create", obj=fb, person_id=person_id)
    return fb
