"""Lifting (解封): the daily evaluation of each zone in force against its level's
criteria, and the commander's decision on its recommendations.

Nothing here lifts or downgrades a zone by itself: a recommendation whose
criteria are met waits in the commander's queue with its evidence; accepting
it records a proposal (by the evaluation) and its approval (by the commander).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.zones import effects
from fangkong.zones.models import LiftRecommendation, Zone, ZoneProposal
from fangkong.zones.services.zones import (
    minimal_paths,
    people_under,
    proposal_approve,
    resident_ids,
)


def zone_evidence(zone: Zone, *, today: dt.date) -> dict[str, Any]:
    """Days since the last case among residents, untested residents and the last
    positive, measured against the zone level's criteria."""
    level = zone.level
    paths = minimal_paths(zone.units.filter(active=True).values_list("path", flat=True))
    # Test results are read only where the level's criterion needs them.
    needs_tests = level.lift_requires_all_negative
    ids = resident_ids(paths) if needs_tests else []
    residents = len(ids) if needs_tests else people_under(paths).count()
    last_case, cases = effects.last_case_dates(paths)
    since = timezone.localdate(zone.level_since) if zone.level_since else today
    start = max(d for d in (last_case, since) if d is not None)
    days = max((today - start).days, 0)
    evidence: dict[str, Any] = {
        "residents": residents,
        "cases": cases,
        "last_case_date": last_case.isoformat() if last_case else None,
        "level_since": since.isoformat(),
        "days_without_case": days,
        "days_required": level.lift_days_without_case,
        "all_negative_required": level.lift_requires_all_negative,
        "untested": None,
        "not_negative": None,
        "last_positive": None,
        "results_available": True,
    }
    met_days = days >= level.lift_days_without_case
    met_tests = True
    results = effects.latest_results(ids) if ids else {}
    if not needs_tests:
        pass
    elif results is None:
        evidence["results_available"] = False
        met_tests = False
    else:
        untested = sum(1 for i in ids if i not in results)
        positives = [r for r in results.values() if r.get("result") == "positive"]
        not_negative = sum(1 for r in results.values() if r.get("result") != "negative")
        last_pos = max((r["sampled_at"] for r in positives if r.get("sampled_at")), default=None)
        evidence["untested"] = untested
        evidence["not_negative"] = not_negative
        evidence["last_positive"] = last_pos.isoformat() if last_pos else None
        met_tests = untested == 0 and not_negative == 0
    evidence["met_days"] = met_days
    evidence["met_tests"] = met_tests
    return evidence


def lifting_evaluate_all(*, today: dt.date | None = None) -> int:
    """Evaluate every zone in force; returns how many recommendations are met today.

    One row per zone and day (re-running the job the same day refreshes it, unless
    the commander has already acted on it). The evidence is read first; the rows
    are then written in one transaction."""
    today = today or timezone.localdate()
    found: list[tuple[Zone, dict[str, Any], bool]] = []
    zones = Zone.objects.filter(state=Zone.State.ACTIVE).select_related("level", "level__lift_to")
    for zone in zones.iterator(chunk_size=200):
        evidence = zone_evidence(zone, today=today)
        found.append((zone, evidence, bool(evidence["met_days"] and evidence["met_tests"])))
    met_count = 0
    with transaction.atomic():
        existing = {
            r.zone_id: r
            for r in LiftRecommendation.objects.select_for_update().filter(
                evaluated_on=today, zone_id__in=[z.pk for z, _e, _m in found]
            )
        }
        new: list[LiftRecommendation] = []
        changed: list[LiftRecommendation] = []
        for zone, evidence, met in found:
            rec = existing.get(zone.pk)
            if rec is not None and rec.state != LiftRecommendation.State.OPEN:
                continue
            met_count += met
            fields = {
                "from_level": zone.level,
                "to_level": zone.level.lift_to,
                "met": met,
                "evidence": evidence,
                "scope_path": zone.scope_path,
            }
            if rec is None:
                new.append(LiftRecommendation(zone=zone, evaluated_on=today, **fields))
            else:
                for key, value in fields.items():
                    setattr(rec, key, value)
                rec.updated_at = timezone.now()
                changed.append(rec)
        LiftRecommendation.objects.bulk_create(new, batch_size=500)
        LiftRecommendation.objects.bulk_update(
            changed,
            ["from_level", "to_level", "met", "evidence", "scope_path", "updated_at"],
            batch_size=500,
        )
        # Earlier open recommendations give way to today's.
        LiftRecommendation.objects.filter(
            state=LiftRecommendation.State.OPEN, evaluated_on__lt=today
        ).update(state=LiftRecommendation.State.STALE)
    return met_count


def _access_recommendation(actor: Any, rec_id: int) -> LiftRecommendation:
    rec = (
        LiftRecommendation.objects.select_for_update()
        .select_related("zone", "to_level", "from_level")
        .filter(pk=rec_id)
        .first()
    )
    if rec is None or not permissions.in_scope(actor, rec.scope_path):
        raise NotFound()
    if rec.state != LiftRecommendation.State.OPEN:
        raise Conflict(_("This recommendation has already been acted on."))
    return rec


def recommendation_accept(
    *, actor: Any, recommendation_id: int, decision_number: str = "", note: str = ""
) -> ZoneProposal:
    """The commander accepts a met recommendation: the change is proposed by the
    daily evaluation and approved by the commander, both recorded."""
    permissions.require(actor, "zone.approve")
    with transaction.atomic():
        rec = _access_recommendation(actor, recommendation_id)
        if not rec.met:
            raise ValidationFailed(
                fields={"recommendation": _("The criteria of this level are not met yet.")}
            )
        zone = rec.zone
        if zone.state != Zone.State.ACTIVE or zone.level_id != rec.from_level_id:
            raise Conflict(_("The zone has changed since it was evaluated."))
        kind = ZoneProposal.Kind.CHANGE_LEVEL if rec.to_level else ZoneProposal.Kind.LIFT
        proposal = ZoneProposal.objects.create(
            zone=zone,
            kind=kind,
            level=rec.to_level,
            reason=_("Daily evaluation of %(date)s: %(days)s days without a new case.")
            % {"date": rec.evaluated_on.isoformat(), "days": rec.evidence.get("days_without_case")},
            scope_path=zone.scope_path,
            proposed_by=None,
        )
        audit_record(
            actor=None,
            action="zone.propose",
            obj=proposal,
            scope_path=proposal.scope_path,
            changes={"kind": [None, kind], "recommendation": [None, rec.pk]},
            reason=proposal.reason,
        )
        proposal_approve(
            actor=actor, proposal_id=proposal.pk, decision_number=decision_number, note=note
        )
        rec.refresh_from_db()
        rec.state = LiftRecommendation.State.ACCEPTED
        rec.proposal = proposal
        rec.save(update_fields=["state", "proposal", "updated_at"])
    return proposal


def recommendation_dismiss(
    *, actor: Any, recommendation_id: int, note: str = ""
) -> LiftRecommendation:
    permissions.require(actor, "zone.approve")
    with transaction.atomic():
        rec = _access_recommendation(actor, recommendation_id)
        rec.state = LiftRecommendation.State.DISMISSED
        rec.save(update_fields=["state", "updated_at"])
        audit_record(
            actor=actor,
            action="zone.recommendation_dismiss",
            obj=rec,
            scope_path=rec.scope_path,
            changes={"state": ["open", "dismissed"]},
            reason=note,
        )
    return rec
