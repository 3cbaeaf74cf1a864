"""Reads of supervision, accountability, task forces, duty and staff care, scoped
to the user's area (outside it: 404)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.db.models import Count, Model, Q, QuerySet
from django.utils import timezone

from fangkong.core import permissions
from fangkong.core.errors import NotFound
from fangkong.core.models import Jurisdiction, path_upper_bound
from fangkong.core.types import Actor
from fangkong.headquarters.models import (
    Accountability,
    Checklist,
    DutyShift,
    Finding,
    FindingPhoto,
    Handover,
    InspectionPlan,
    Recognition,
    RotationPlan,
    RotationRule,
    Task,
    TaskForce,
)
from fangkong.headquarters.services.accountability import FailureRef
from fangkong.investigation.selectors import shared as investigation
from fangkong.quarantine.selectors import shared as quarantine
from fangkong.screening.selectors import shared as screening

LIST_SIZE = 300


M = TypeVar("M", bound=Model)


def _can(user: Actor, *caps: str) -> bool:
    return any(permissions.has_capability(user, c) for c in caps)


def _under(qs: QuerySet[M], user: Actor) -> QuerySet[M]:
    prefix = permissions.scope_path(user)
    if prefix is None:
        return qs.none()
    if not prefix:
        return qs
    return qs.filter(scope_path__gte=prefix, scope_path__lt=path_upper_bound(prefix))


INSPECTION_CAPS = ("inspection.plan", "inspection.conduct")


# --- Inspections ----------------------------------------------------------------------


def checklists_in_force(on: dt.date | None = None) -> list[Checklist]:
    on = on or timezone.localdate()
    latest: dict[str, Checklist] = {}
    for c in Checklist.objects.filter(effective_from__lte=on).order_by("code", "-effective_from"):
        latest.setdefault(c.code, c)
    return list(latest.values())


def plan_list_for(user: Actor, *, state: str | None = None) -> QuerySet[InspectionPlan]:
    if not _can(user, *INSPECTION_CAPS):
        return InspectionPlan.objects.none()
    qs = _under(InspectionPlan.objects.all(), user)
    if not permissions.has_capability(user, "inspection.plan"):
        qs = qs.filter(inspector_id=getattr(user, "pk", None))
    if state:
        qs = qs.filter(state=state)
    return qs.select_related("area", "checklist", "inspector__staff").annotate(
        n_visits=Count("visits", distinct=True),
        n_open=Count(
            "visits__findings",
            filter=Q(visits__findings__state=Finding.State.OPEN),
            distinct=True,
        ),
    )


def access_plan_by_id(user: Actor, plan_id: int) -> InspectionPlan:
    plan = plan_list_for(user).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound()
    return plan


def plan_visits(plan: InspectionPlan) -> list[Any]:
    """The plan's visits with their findings and photo ids (one query each)."""
    visits = list(plan.visits.select_related("unit", "inspector__staff").order_by("-visited_at"))
    findings = list(
        Finding.objects.filter(visit__plan=plan)
        .select_related("item", "rectification", "reinspected_by__staff")
        .order_by("item__position", "pk")
    )
    photos: dict[int, list[int]] = {}
    for fid, pid in FindingPhoto.objects.filter(finding__in=findings).values_list(
        "finding_id", "pk"
    ):
        photos.setdefault(fid, []).append(pid)
    by_visit: dict[int, list[Finding]] = {}
    for f in findings:
        f.photo_ids = photos.get(f.pk, [])  # type: ignore[attr-defined]
        by_visit.setdefault(f.visit_id, []).append(f)
    for v in visits:
        v.finding_rows = by_visit.get(v.pk, [])  # type: ignore[attr-defined]
    return visits


def access_photo_by_id(user: Actor, photo_id: int) -> FindingPhoto:
    photo = FindingPhoto.objects.select_related("finding__visit__plan").filter(pk=photo_id).first()
    if photo is None or not plan_list_for(user).filter(pk=photo.finding.visit.plan_id).exists():
        raise NotFound()
    return photo


def access_finding_by_id(user: Actor, finding_id: int) -> Finding:
    finding = (
        Finding.objects.select_related("visit__plan", "item", "rectification")
        .filter(pk=finding_id)
        .first()
    )
    if finding is None or not plan_list_for(user).filter(pk=finding.visit.plan_id).exists():
        raise NotFound()
    return finding


def inspector_choices_for(user: Actor) -> list[Any]:
    prefix = permissions.scope_path(user)
    if prefix is None:
        return []
    qs = get_user_model().objects.filter(is_active=True, staff__isnull=False)
    if prefix:
        qs = qs.filter(
            staff__jurisdiction__path__gte=prefix,
            staff__jurisdiction__path__lt=path_upper_bound(prefix),
        )
    # Inspectors at the city inspect the districts: offer those above the user too.
    above = get_user_model().objects.filter(
        is_active=True, staff__jurisdiction__path__in=_ancestor_paths(prefix)
    )
    users = list((qs | above).select_related("staff__jurisdiction").order_by("pk")[:2000])
    return [u for u in users if permissions.has_capability(u, "inspection.conduct")]


def _ancestor_paths(path: str) -> list[str]:
    return [path[:i] for i in range(4, len(path), 4)]


# --- Accountability -------------------------------------------------------------------

ACCOUNTABILITY_CAPS = ("accountability.propose", "accountability.decide")


def accountability_list_for(user: Actor, *, state: str | None = None) -> QuerySet[Accountability]:
    if not _can(user, *ACCOUNTABILITY_CAPS):
        return Accountability.objects.none()
    qs = _under(Accountability.objects.all(), user)
    if state:
        qs = qs.filter(state=state)
    return qs.select_related("unit", "proposed_by__staff", "decided_by__staff")


def access_accountability_by_id(user: Actor, record_id: int) -> Accountability:
    record = accountability_list_for(user).filter(pk=record_id).first()
    if record is None:
        raise NotFound()
    return record


def failure_choices_for(user: Actor, *, now: dt.datetime | None = None) -> list[FailureRef]:
    """Failures of the user's area one may hold someone accountable for (latest of
    each kind), read through the other apps' shared selectors."""
    prefix = permissions.scope_path(user)
    if prefix is None or not permissions.has_capability(user, "accountability.propose"):
        return []
    now = now or timezone.now()
    from django.utils.translation import gettext as _

    F = Accountability.Failure
    out: list[FailureRef] = []
    for r in screening.overdue_retests(prefix, now, limit=50):
        out.append(
            FailureRef(
                F.OVERDUE_RETEST,
                r.task_id,
                _("Retest of %(round)s at %(place)s overdue")
                % {"round": r.round_name, "place": r.place},
                r.district_path,
                r.due_at,
            )
        )
    for b in quarantine.breaches(prefix, limit=50):
        out.append(
            FailureRef(
                F.BREACH,
                b.breach_id,
                _("%(kind)s at %(site)s") % {"kind": b.kind, "site": b.site},
                b.scope_path,
                b.occurred_at,
            )
        )
    for c in investigation.lost_contacts(prefix, limit=50):
        out.append(
            FailureRef(
                F.LOST_CONTACT,
                c.contact_id,
                _("%(category)s lost to follow-up at %(place)s")
                % {"category": c.category, "place": c.place},
                c.district_path,
                c.since,
            )
        )
    tasks = Task.objects.filter(state=Task.State.OPEN, deadline__lt=now)
    if prefix:
        tasks = tasks.filter(scope_path__gte=prefix, scope_path__lt=path_upper_bound(prefix))
    for t in tasks.order_by("deadline")[:50]:
        out.append(
            FailureRef(
                F.OVERDUE_TASK,
                t.pk,
                _("Task past its deadline: %(title)s") % {"title": t.title},
                t.scope_path,
                t.deadline,
            )
        )
    findings = _under(Finding.objects.filter(state=Finding.State.OPEN), user)
    for f in findings.select_related("item", "visit").order_by("-pk")[:50]:
        out.append(
            FailureRef(
                F.FINDING,
                f.pk,
                _("Inspection finding at %(place)s: %(item)s")
                % {"place": f.visit.place, "item": f.item.text},
                f.scope_path,
                f.visit.visited_at,
            )
        )
    return out


# --- Task forces and duty -------------------------------------------------------------

DUTY_VIEW_CAPS = ("duty.manage", "hq.dashboard", "task.handle")


def taskforce_list_for(user: Actor) -> QuerySet[TaskForce]:
    if not _can(user, *DUTY_VIEW_CAPS):
        return TaskForce.objects.none()
    uid = getattr(user, "pk", None)
    # Members and leaders see their own task force wherever it sits.
    own = TaskForce.objects.filter(Q(members__user_id=uid) | Q(leader_id=uid)).values("pk")
    active = TaskForce.objects.filter(active=True)
    return (
        (_under(active, user) | active.filter(pk__in=own))
        .select_related("area", "leader__staff")
        .prefetch_related("members__user__staff")
    )


def access_taskforce_by_id(user: Actor, tf_id: int) -> TaskForce:
    tf = taskforce_list_for(user).filter(pk=tf_id).first()
    if tf is None:
        raise NotFound()
    return tf


@dataclass
class AreaDuty:
    area: Jurisdiction
    shifts: list[DutyShift] = field(default_factory=list)


def on_duty_now(user: Actor, *, now: dt.datetime | None = None) -> list[AreaDuty]:
    """Who is on duty now, per area: the user's area and below, and the areas above
    it (whom to call)."""
    prefix = permissions.scope_path(user)
    if prefix is None or not _can(user, *DUTY_VIEW_CAPS):
        return []
    now = now or timezone.now()
    qs = DutyShift.objects.filter(starts_at__lte=now, ends_at__gt=now)
    if prefix:
        qs = qs.filter(
            Q(scope_path__gte=prefix, scope_path__lt=path_upper_bound(prefix))
            | Q(scope_path__in=_ancestor_paths(prefix))
        )
    groups: dict[int, AreaDuty] = {}
    for s in qs.select_related("area", "user__staff__jurisdiction", "task_force").order_by(
        "scope_path", "role", "starts_at"
    ):
        groups.setdefault(s.area_id, AreaDuty(s.area)).shifts.append(s)
    return list(groups.values())


def roster_for(
    user: Actor, *, start: dt.datetime, end: dt.datetime, area_id: int | None = None
) -> QuerySet[DutyShift]:
    if not _can(user, *DUTY_VIEW_CAPS):
        return DutyShift.objects.none()
    qs = _under(DutyShift.objects.filter(starts_at__lt=end, ends_at__gt=start), user)
    if area_id is not None:
        qs = qs.filter(area_id=area_id)
    return qs.select_related("area", "user__staff", "task_force").order_by("starts_at", "pk")


def handovers_for(user: Actor) -> QuerySet[Handover]:
    if not _can(user, *DUTY_VIEW_CAPS):
        return Handover.objects.none()
    return _under(Handover.objects.all(), user).select_related(
        "area", "written_by__staff", "received_by__staff"
    )


def access_handover_by_id(user: Actor, handover_id: int) -> Handover:
    note = handovers_for(user).filter(pk=handover_id).first()
    if note is None:
        raise NotFound()
    return note


def duty_area_choices_for(user: Actor) -> list[Jurisdiction]:
    """Areas a roster is kept for: the user's node and the nodes down to communities."""
    prefix = permissions.scope_path(user)
    if prefix is None:
        return []
    qs = Jurisdiction.objects.exclude(
        level__in=[Jurisdiction.Level.BUILDING, Jurisdiction.Level.GRID]
    )
    if prefix:
        qs = qs.filter(path__gte=prefix, path__lt=path_upper_bound(prefix))
    return list(qs.order_by("path")[:2000])


def staff_choices_for(user: Actor) -> list[Any]:
    prefix = permissions.scope_path(user)
    if prefix is None:
        return []
    qs = get_user_model().objects.filter(is_active=True, staff__isnull=False)
    if prefix:
        qs = qs.filter(
            staff__jurisdiction__path__gte=prefix,
            staff__jurisdiction__path__lt=path_upper_bound(prefix),
        )
    return list(
        qs.select_related("staff__jurisdiction").order_by(
            "staff__jurisdiction__path", "staff__display_name", "pk"
        )[:2000]
    )


# --- Frontline staff care -------------------------------------------------------------


def rotation_rule_in_force(on: dt.date | None = None) -> RotationRule | None:
    on = on or timezone.localdate()
    return RotationRule.objects.filter(effective_from__lte=on).order_by("-effective_from").first()


@dataclass(frozen=True)
class Overwork:
    """Someone whose duty breaks the rotation rule: consecutive days on duty up to
    today, hours in the last seven days, rests shorter than the rule's least."""

    user: Any
    consecutive_days: int
    week_hours: int
    short_rests: int
    too_many_days: bool
    too_many_hours: bool
    rotation_planned: bool


def overwork_for(user: Actor, *, now: dt.datetime | None = None) -> list[Overwork]:
    """The overwork list of the user's area under the rotation rule in force."""
    if not _can(user, "duty.manage", "hq.dashboard"):
        return []
    now = now or timezone.now()
    today = timezone.localdate(now)
    rule = rotation_rule_in_force(today)
    if rule is None:
        return []
    lookback = today - dt.timedelta(days=rule.max_consecutive_days + 8)
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(lookback, dt.time.min, tzinfo=tz)
    shifts = _under(DutyShift.objects.filter(ends_at__gt=since, starts_at__lte=now), user).order_by(
        "user_id", "starts_at"
    )
    by_user: dict[int, list[DutyShift]] = {}
    for s in shifts.select_related("user__staff__jurisdiction"):
        by_user.setdefault(s.user_id, []).append(s)
    resting = set(
        _under(
            RotationPlan.objects.filter(state=RotationPlan.State.PLANNED, rest_until__gte=today),
            user,
        ).values_list("user_id", flat=True)
    )
    week_start = now - dt.timedelta(days=7)
    out: list[Overwork] = []
    for rows in by_user.values():
        days: set[dt.date] = set()
        hours = 0.0
        short = 0
        prev_end: dt.datetime | None = None
        for s in rows:
            d = timezone.localtime(s.starts_at, tz).date()
            last = timezone.localtime(min(s.ends_at, now) - dt.timedelta(seconds=1), tz).date()
            while d <= last:
                days.add(d)
                d += dt.timedelta(days=1)
            a, b = max(s.starts_at, week_start), min(s.ends_at, now)
            if b > a:
                hours += (b - a).total_seconds() / 3600
            if (
                prev_end is not None
                and s.starts_at >= week_start
                and (s.starts_at - prev_end) < dt.timedelta(hours=rule.min_rest_hours)
            ):
                short += 1
            prev_end = max(prev_end, s.ends_at) if prev_end else s.ends_at
        run = 0
        d = today if today in days else today - dt.timedelta(days=1)
        while d in days:
            run += 1
            d -= dt.timedelta(days=1)
        too_days = run > rule.max_consecutive_days
        too_hours = hours > rule.max_week_hours
        if too_days or too_hours or short:
            out.append(
                Overwork(
                    user=rows[0].user,
                    consecutive_days=run,
                    week_hours=round(hours),
                    short_rests=short,
                    too_many_days=too_days,
                    too_many_hours=too_hours,
                    rotation_planned=rows[0].user_id in resting,
                )
            )
    out.sort(key=lambda o: (-o.consecutive_days, -o.week_hours))
    return out


def rotation_plans_for(user: Actor) -> QuerySet[RotationPlan]:
    if not _can(user, "duty.manage", "hq.dashboard"):
        return RotationPlan.objects.none()
    return _under(RotationPlan.objects.all(), user).select_related(
        "user__staff", "replacement__staff", "area"
    )


def recognitions_for(user: Actor) -> QuerySet[Recognition]:
    if not _can(user, *DUTY_VIEW_CAPS):
        return Recognition.objects.none()
    return _under(Recognition.objects.all(), user).select_related("user__staff", "area")
