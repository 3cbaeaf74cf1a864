"""Accountability (追责问责): a failure of an area — an overdue retest, a breach of a
site's closed loop, a contact lost to follow-up (read through screening's,
quarantine's and investigation's ``selectors/shared.py``), an overdue task or an
inspection finding (this app's) — linked to the party responsible for it
(属地/部门/单位/个人) with the measure proposed; a second person decides it and
records the decision with its document number (``core.foureyes``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import foureyes, permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import NotFound, ValidationFailed
from fangkong.core.models import Jurisdiction
from fangkong.core.types import Actor, acting_user
from fangkong.headquarters.models import Accountability, Finding, Task
from fangkong.investigation.selectors import shared as investigation
from fangkong.quarantine.selectors import shared as quarantine
from fangkong.screening.selectors import shared as screening

TEXT_MAX = 4000
DOCUMENT_MAX = 80


@dataclass(frozen=True)
class FailureRef:
    """A failure as the command centre sees it: in words, a place, no names."""

    kind: str
    id: int
    text: str
    scope_path: str
    at: dt.datetime | None


def _node(path: str) -> Jurisdiction | None:
    return Jurisdiction.objects.filter(path=path).first()


def failure_lookup(prefix: str, kind: str, failure_id: int, now: dt.datetime) -> FailureRef | None:
    """The failure ``kind``/``failure_id`` under ``prefix``, or None (not a failure,
    or not in the area)."""
    F = Accountability.Failure
    if kind == F.OVERDUE_RETEST:
        r = screening.overdue_retest(prefix, failure_id, now)
        if r is None:
            return None
        text = _("Retest of %(round)s at %(place)s overdue") % {
            "round": r.round_name,
            "place": r.place,
        }
        return FailureRef(kind, failure_id, text, r.district_path, r.due_at)
    if kind == F.BREACH:
        rows = quarantine.breaches(prefix, breach_id=failure_id, limit=1)
        if not rows:
            return None
        b = rows[0]
        text = _("%(kind)s at %(site)s") % {"kind": b.kind, "site": b.site}
        return FailureRef(kind, failure_id, text, b.scope_path, b.occurred_at)
    if kind == F.LOST_CONTACT:
        lost = investigation.lost_contacts(prefix, contact_id=failure_id, limit=1)
        if not lost:
            return None
        c = lost[0]
        text = _("%(category)s lost to follow-up at %(place)s") % {
            "category": c.category,
            "place": c.place,
        }
        return FailureRef(kind, failure_id, text, c.district_path, c.since)
    if kind == F.OVERDUE_TASK:
        task = Task.objects.filter(pk=failure_id, state=Task.State.OPEN, deadline__lt=now).first()
        if task is None or not task.scope_path.startswith(prefix):
            return None
        text = _("Task past its deadline: %(title)s") % {"title": task.title}
        return FailureRef(kind, failure_id, text, task.scope_path, task.deadline)
    if kind == F.FINDING:
        finding = (
            Finding.objects.select_related("item", "visit")
            .filter(pk=failure_id, result=Finding.Result.FAILED)
            .first()
        )
        if finding is None or not finding.scope_path.startswith(prefix):
            return None
        text = _("Inspection finding at %(place)s: %(item)s") % {
            "place": finding.visit.place,
            "item": finding.item.text,
        }
        return FailureRef(kind, failure_id, text, finding.scope_path, finding.visit.visited_at)
    return None


def accountability_propose(
    *,
    actor: Actor,
    failure_kind: str,
    failure_id: int,
    party_kind: str,
    party_name: str,
    measure: str,
    grounds: str,
    now: dt.datetime | None = None,
) -> Accountability:
    """Propose holding a party accountable for a failure of the actor's area."""
    permissions.require(actor, "accountability.propose")
    now = now or timezone.now()
    errors: dict[str, str] = {}
    party_name = (party_name or "").strip()
    grounds = (grounds or "").strip()
    if failure_kind not in Accountability.Failure.values:
        errors["failure_kind"] = _("Choose the kind of failure.")
    if party_kind not in Accountability.Party.values:
        errors["party_kind"] = _(
            "Choose who is responsible: territory, department, unit or individual."
        )
    if not party_name:
        errors["party_name"] = _("Name the party responsible.")
    elif len(party_name) > 200:
        errors["party_name"] = _("At most 200 characters.")
    if measure not in Accountability.Measure.values:
        errors["measure"] = _("Choose a measure.")
    if not grounds:
        errors["grounds"] = _("Give the grounds.")
    elif len(grounds) > TEXT_MAX:
        errors["grounds"] = _("At most 4000 characters.")
    if errors:
        raise ValidationFailed(fields=errors)
    prefix = permissions.scope_path(actor)
    failure = None if prefix is None else failure_lookup(prefix, failure_kind, failure_id, now)
    if failure is None:
        raise NotFound(
            _("No such failure in your area."),
            fields={"failure_id": _("Not a failure of your area.")},
        )
    unit = _node(failure.scope_path) or Jurisdiction.objects.filter(path=prefix).first()
    if unit is None:
        raise NotFound()
    with transaction.atomic():
        record = Accountability.objects.create(
            failure_kind=failure_kind,
            failure_id=failure_id,
            failure_text=failure.text[:400],
            failure_at=failure.at,
            unit=unit,
            scope_path=unit.path,
            party_kind=party_kind,
            party_name=party_name,
            measure=measure,
            grounds=grounds,
            proposed_by=acting_user(actor),
        )
        audit_record(
            actor=actor,
            action="accountability.propose",
            obj=record,
            scope_path=record.scope_path,
            changes={
                "failure_kind": [None, failure_kind],
                "party_kind": [None, party_kind],
                "measure": [None, measure],
            },
            reason=grounds,
        )
    return record


def _record_for_update(actor: Actor, record_id: int) -> Accountability:
    record = Accountability.objects.select_for_update().filter(pk=record_id).first()
    if record is None or not permissions.in_scope(actor, record.scope_path):
        raise NotFound()
    return record


def accountability_decide(
    *,
    actor: Actor,
    record_id: int,
    pursue: bool,
    decision: str,
    document_number: str = "",
    measure: str | None = None,
) -> Accountability:
    """Decide a proposal (a second person: neither the proposer nor linked to them):
    pursued with the decision and its document number (the measure may change), or
    not pursued with the reason."""
    permissions.require(actor, "accountability.decide")
    decision = (decision or "").strip()
    document_number = (document_number or "").strip()
    errors: dict[str, str] = {}
    if not decision:
        errors["decision"] = _("Write the decision.") if pursue else _("Say why it is not pursued.")
    elif len(decision) > TEXT_MAX:
        errors["decision"] = _("At most 4000 characters.")
    if pursue and not document_number:
        errors["document_number"] = _("Give the document number of the decision.")
    elif len(document_number) > DOCUMENT_MAX:
        errors["document_number"] = _("At most 80 characters.")
    if measure is not None and measure not in Accountability.Measure.values:
        errors["measure"] = _("Choose a measure.")
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        record = _record_for_update(actor, record_id)
        if record.state != Accountability.State.PROPOSED:
            raise ValidationFailed(_("This accountability record is already decided."))
        foureyes.require_second_person(
            actor=actor,
            first_id=record.proposed_by_id,
            own_message=_("Someone other than the proposer must decide."),
            own_code="own_proposal",
        )
        before = (record.state, record.measure)
        record.state = Accountability.State.DECIDED if pursue else Accountability.State.REJECTED
        if pursue and measure:
            record.measure = measure
        record.decision = decision
        record.document_number = document_number if pursue else ""
        record.decided_by = acting_user(actor)
        record.decided_at = timezone.now()
        record.save(
            update_fields=[
                "state",
                "measure",
                "decision",
                "document_number",
                "decided_by",
                "decided_at",
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            action="accountability.decide",
            obj=record,
            scope_path=record.scope_path,
            changes={
                "state": [before[0], record.state],
                "measure": [before[1], record.measure],
                "document_number": [None, record.document_number or None],
            },
            reason=decision,
        )
    return record
