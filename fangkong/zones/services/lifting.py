"""Lifting (解封): the daily evaluation of each zone in force against its level's
criteria, and the commander's decision on its recommendations.

Nothing here lifts or downgrades a zone by itself: a recommendation whose
criteria are met waits in the commander's queue with its evidence; accepting
it records a proposal (by the evaluation) and its approval (by the commander).
"""

from __future__ import annotations

import bisect
import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.models import path_upper_bound
from fangkong.core.types import Actor
from fangkong.screening.selectors.shared import latest_result_by_person
from fangkong.zones.models import LiftRecommendation, Zone, ZoneProposal, ZoneUnit
from fangkong.zones.services.zones import (
    minimal_paths,
    proposal_approve,
    resident_ids,
)


def zone_evidence(zone: Zone, *, today: dt.date) -> dict[str, Any]:
    """Days since the last case among residents, untested residents and the last
    positive, measured against the zone level's criteria."""
    return evidence_for([zone], today=today)[zone.pk]


def _cases_since(paths_by_zone: dict[int, list[str]], since: dt.date) -> dict[int, list[dt.date]]:
    """Report dates of (not excluded) cases reported on or after ``since`` among the
    residents of each zone: one read of the recent cases, matched to the zones'
    units by path prefix."""
    from fangkong.investigation.selectors.shared import case_report_dates_since

    rows = case_report_dates_since(since)
    keys = [r[0] for r in rows]
    out: dict[int, list[dt.date]] = {}
    for zone_id, paths in paths_by_zone.items():
        dates: list[dt.date] = []
        for p in paths:
            i = bisect.bisect_left(keys, p)
            hi = path_upper_bound(p)
            while i < len(rows) and rows[i][0] < hi:
                dates.append(rows[i][1])
                i += 1
        out[zone_id] = dates
    return out


def evidence_for(zones: list[Zone], *, today: dt.date) -> dict[int, dict[str, Any]]:
    """The evidence of many zones with shared reads: their units in one query,
    recent cases in one query, test results of the residents of all zones whose
    level needs them in one (chunked) call."""
    paths_by_zone: dict[int, list[str]] = {z.pk: [] for z in zones}
    for zone_id, path in ZoneUnit.objects.filter(
        zone_id__in=list(paths_by_zone), active=True
    ).values_list("zone_id", "path"):
        paths_by_zone[zone_id].append(path)
    paths_by_zone = {k: minimal_paths(v) for k, v in paths_by_zone.items()}
    since_of = {z.pk: timezone.localdate(z.level_since) if z.level_since else today for z in zones}
    earliest = min(since_of.values(), default=today)
    cases = _cases_since(paths_by_zone, earliest)
    # Residents: read where the level's test criterion needs them; elsewhere the
    # count kept by the zone's last approved change is enough for the evidence.
    ids_of: dict[int, list[int]] = {}
    counts: dict[int, int] = {}
    for z in zones:
        if z.level.lift_requires_all_negative:
            ids_of[z.pk] = resident_ids(paths_by_zone[z.pk])
            counts[z.pk] = len(ids_of[z.pk])
        else:
            counts[z.pk] = z.resident_count
    wanted = [i for ids in ids_of.values() for i in ids]
    results = latest_result_by_person(wanted) if wanted else {}
    out: dict[int, dict[str, Any]] = {}
    for z in zones:
        level = z.level
        since = since_of[z.pk]
        dates = [d for d in cases.get(z.pk, []) if d >= since]
        last_case = max(dates, default=None)
        start = max(last_case, since) if last_case else since
        days = max((today - start).days, 0)
        evidence: dict[str, Any] = {
            "residents": counts[z.pk],
            "cases": len(dates),
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
        met_tests = True
        if level.lift_requires_all_negative:
            if results is None:
                evidence["results_available"] = False
                met_tests = False
            else:
                mine = [results[i] for i in ids_of[z.pk] if i in results]
                untested = len(ids_of[z.pk]) - len(mine)
                not_negative = sum(1 for r in mine if r.get("result") != "negative")
                last_pos = max(
                    (
                        r["sampled_at"]
                        for r in mine
                        if r.get("result") == "positive" and r.get("sampled_at")
                    ),
                    default=None,
                )
                evidence["untested"] = untested
                evidence["not_negative"] = not_negative
                evidence["last_positive"] = last_pos.isoformat() if last_pos else None
                met_tests = untested == 0 and not_negative == 0
        evidence["met_days"] = days >= level.lift_days_without_case
        evidence["met_tests"] = met_tests
        out[z.pk] = evidence
    return out


def lifting_evaluate_all(*, today: dt.date | None = None) -> int:
    """Evaluate every zone in force; returns how many recommendations are met today.

    One row per zone and day (re-running the job the same day refreshes it, unless
    the commander has already acted on it). The evidence is read first; the rows
    are then written in one transaction."""
    today = today or timezone.localdate()
    found: list[tuple[Zone, dict[str, Any], bool]] = []
    zones = list(
        Zone.objects.filter(state=Zone.State.ACTIVE).select_related("level", "level__lift_to")
    )
    for k in range(0, len(zones), 1000):
        part = zones[k : k + 1000]
        evidence = evidence_for(part, today=today)
        found.extend(
            (z, evidence[z.pk], bool(evidence[z.pk]["met_days"] and evidence[z.pk]["met_tests"]))
            for z in part
        )
    met_count = 0
    with transaction.atomic():
        existing = {
            r.zone_id: r
            for r in LiftRecommendation.objects.select_for_update(of=("self",)).filter(
                evaluated_on=today, zone_id__in=[z.pk for z, _e, _m in found]
            )
        }
        new: list[LiftRecommendation] = []
        changed: list[LiftRecommendation] = []
        for zone, facts, met in found:
            rec = existing.get(zone.pk)
            if rec is not None and rec.state != LiftRecommendation.State.OPEN:
                continue
            met_count += met
            fields = {
                "from_level": zone.level,
                "to_level": zone.level.lift_to,
                "met": met,
                "evidence": facts,
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


def _access_recommendation(actor: Actor, rec_id: int) -> LiftRecommendation:
    rec = (
        LiftRecommendation.objects.select_for_update(of=("self",))
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
    *, actor: Actor, recommendation_id: int, decision_number: str = "", note: str = ""
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
    *, actor: Actor, recommendation_id: int, note: str = ""
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
