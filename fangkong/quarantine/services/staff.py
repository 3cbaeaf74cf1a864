"""Closed-loop management of site staff (闭环管理): roster, on-site periods,
rotation after the rule's days with monitoring after it, breach reports (破环)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import crypto, events, permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.identity import normalise_phone
from fangkong.core.types import Actor, acting_user
from fangkong.quarantine.models import BreachReport, Site, SiteStaff, StaffPeriod, StaffTest
from fangkong.quarantine.services import rules

MAX_TEXT = 4000


def _site(actor: Actor, site_id: int | None) -> Site:
    if site_id is None:
        raise ValidationFailed(fields={"site_id": _("Name the site.")})
    site = Site.objects.filter(pk=site_id).first()
    if site is None or not permissions.in_scope(actor, site.scope_path):
        raise NotFound()
    return site


@transaction.atomic
def staff_add(
    *, actor: Actor, site_id: int, name: str, role: str, phone: str = "", employer: str = ""
) -> SiteStaff:
    """Put a worker on a site's closed-loop roster (phone encrypted, shown masked)."""
    permissions.require(actor, "quarantine.staff")
    site = _site(actor, site_id)
    errors: dict[str, str] = {}
    if not name.strip() or len(name) > 100:
        errors["name"] = _("Give the name (up to 100 characters).")
    if role not in SiteStaff.Role.values:
        errors["role"] = _("Choose one of the listed roles.")
    clean_phone = ""
    if phone.strip():
        try:
            clean_phone = normalise_phone(phone)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    member = SiteStaff.objects.create(
        site=site,
        name=name.strip(),
        role=role,
        employer=employer.strip()[:200],
        phone_encrypted=crypto.encrypt(clean_phone) if clean_phone else "",
        phone_hash=crypto.lookup_hash("phone", clean_phone) if clean_phone else "",
        phone_masked=crypto.mask(clean_phone, 3, 4) if clean_phone else "",
        scope_path=site.scope_path,
    )
    audit_record(
        actor=actor,
        action="quarantine.staff_add",
        obj=member,
        scope_path=member.scope_path,
        changes={"name": [None, member.name], "role": [None, role], "phone": [None, clean_phone]},
    )
    return member


@transaction.atomic
def period_start(*, actor: Actor, staff_id: int, started_on: dt.date) -> StaffPeriod:
    """A worker enters the closed loop; rotation falls due after the rule's days."""
    permissions.require(actor, "quarantine.staff")
    member = SiteStaff.objects.select_for_update().filter(pk=staff_id).first()
    if member is None or not permissions.in_scope(actor, member.scope_path):
        raise NotFound()
    if started_on > timezone.localdate() + dt.timedelta(days=30):
        raise ValidationFailed(fields={"started_on": _("Start within the next 30 days.")})
    if StaffPeriod.objects.filter(
        staff=member, state__in=[StaffPeriod.State.ON_SITE, StaffPeriod.State.MONITORING]
    ).exists():
        raise Conflict(
            _("%(name)s is still on site or under monitoring after rotation.")
            % {"name": member.name},
            code="period_open",
        )
    rule = rules.closed_loop_rule(started_on)
    period = StaffPeriod.objects.create(
        staff=member,
        site=member.site,
        scope_path=member.scope_path,
        rule=rule,
        started_on=started_on,
        rotation_due=started_on + dt.timedelta(days=rule.rotation_days),
    )
    audit_record(
        actor=actor,
        action="quarantine.period_start",
        obj=period,
        scope_path=period.scope_path,
        changes={
            "started_on": [None, started_on.isoformat()],
            "rotation_due": [None, period.rotation_due.isoformat()],
        },
    )
    return period


@transaction.atomic
def period_rotate(*, actor: Actor, period_id: int, left_on: dt.date) -> StaffPeriod:
    """The worker leaves the site (rotation): health monitoring until the rule's end,
    with a test on each of the rule's test days."""
    permissions.require(actor, "quarantine.staff")
    period = (
        StaffPeriod.objects.select_for_update().select_related("rule").filter(pk=period_id).first()
    )
    if period is None or not permissions.in_scope(actor, period.scope_path):
        raise NotFound()
    if period.state != StaffPeriod.State.ON_SITE:
        raise Conflict(_("This worker has already left the site."), code="not_on_site")
    if left_on < period.started_on or left_on > timezone.localdate():
        raise ValidationFailed(fields={"left_on": _("A day between the start and today.")})
    period.state = StaffPeriod.State.MONITORING
    period.left_on = left_on
    period.monitoring_until = left_on + dt.timedelta(days=period.rule.monitoring_days)
    period.save(update_fields=["state", "left_on", "monitoring_until", "updated_at"])
    StaffTest.objects.bulk_create(
        [
            StaffTest(
                period=period, day_number=int(d), due_on=left_on + dt.timedelta(days=int(d) - 1)
            )
            for d in sorted(set(period.rule.monitoring_test_days or []))
            if 1 <= int(d) <= period.rule.monitoring_days
        ]
    )
    audit_record(
        actor=actor,
        action="quarantine.period_rotate",
        obj=period,
        scope_path=period.scope_path,
        changes={
            "left_on": [None, left_on.isoformat()],
            "monitoring_until": [None, period.monitoring_until.isoformat()],
        },
    )
    return period


@transaction.atomic
def staff_test_record(*, actor: Actor, test_id: int, result: str) -> StaffTest:
    """The result of a rotated worker's test on a test day (negative or positive;
    never replaced by another). A positive result is an alarm on the staff page
    and in the site manager's work."""
    permissions.require(actor, "quarantine.staff")
    test = (
        StaffTest.objects.select_for_update(of=("self",))
        .select_related("period__staff")
        .filter(pk=test_id)
        .first()
    )
    if test is None or not permissions.in_scope(actor, test.period.scope_path):
        raise NotFound()
    if result not in (StaffTest.Result.NEGATIVE, StaffTest.Result.POSITIVE):
        raise ValidationFailed(fields={"result": _("Choose negative or positive.")})
    if test.due_on > timezone.localdate():
        raise ValidationFailed(fields={"result": _("This test is not due yet.")})
    if test.result != StaffTest.Result.DUE:
        if test.result == result:
            return test
        raise Conflict(
            _("This test already has a result (%(result)s); a different one is not recorded.")
            % {"result": StaffTest.Result(test.result).label},
            code="result_conflict",
        )
    test.result = result
    test.result_at = timezone.now()
    test.recorded_by = acting_user(actor)
    test.save(update_fields=["result", "result_at", "recorded_by"])
    audit_record(
        actor=actor,
        action="quarantine.staff_test",
        object_type="quarantine.staffperiod",
        object_id=test.period_id,
        scope_path=test.period.scope_path,
        changes={
            "test_result": [StaffTest.Result.DUE, result],
            "monitoring_day": [None, test.day_number],
        },
    )
    return test


def periods_finish(*, today: dt.date | None = None) -> int:
    """Monitoring periods that ran out are done (a daily job)."""
    day = today or timezone.localdate()
    with transaction.atomic():
        done = list(
            StaffPeriod.objects.select_for_update()
            .filter(state=StaffPeriod.State.MONITORING, monitoring_until__lte=day)
            .values_list("pk", "scope_path")
        )
        StaffPeriod.objects.filter(pk__in=[pk for pk, _p in done]).update(
            state=StaffPeriod.State.DONE
        )
        for pk, path in done:
            audit_record(
                actor=None,
                action="quarantine.period_done",
                object_type="quarantine.staffperiod",
                object_id=pk,
                scope_path=path,
            )
    return len(done)


@transaction.atomic
def breach_report(
    *,
    actor: Actor,
    site_id: int | None,
    kind: str,
    occurred_at: dt.datetime,
    description: str,
    staff_ids: Sequence[int] = (),
) -> BreachReport:
    """Report a breach of the closed loop at a site (the site is required);
    ``quarantine.breach_reported`` gives investigation its inquiry."""
    permissions.require(actor, "quarantine.staff")
    errors: dict[str, str] = {}
    site: Site | None = None
    try:
        site = _site(actor, site_id)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if kind not in BreachReport.Kind.values:
        errors["kind"] = _("Choose one of the listed kinds.")
    if not description.strip():
        errors["description"] = _("Describe what happened.")
    elif len(description) > MAX_TEXT:
        errors["description"] = _("At most 4,000 characters.")
    if occurred_at > timezone.now():
        errors["occurred_at"] = _("A breach is reported after it happened.")
    staff = (
        list(SiteStaff.objects.filter(pk__in=list(staff_ids), site=site))
        if staff_ids and site
        else []
    )
    if len(staff) != len(set(staff_ids)):
        errors["staff_ids"] = _("Name workers of this site.")
    if errors or site is None:
        raise ValidationFailed(fields=errors)
    report = BreachReport.objects.create(
        site=site,
        scope_path=site.scope_path,
        kind=kind,
        occurred_at=occurred_at,
        description=description.strip(),
        reported_by=acting_user(actor),
    )
    report.staff.set(staff)
    audit_record(
        actor=actor,
        action="quarantine.breach_report",
        obj=report,
        scope_path=report.scope_path,
        changes={"breach_kind": [None, kind], "staff": [None, [m.name for m in staff]]},
        reason=description,
    )
    events.publish(
        "quarantine.breach_reported",
        breach_id=report.pk,
        site_name=site.name,
        scope_path=report.scope_path,
        kind=kind,
        occurred_at=occurred_at.isoformat(),
        staff_count=len(staff),
        actor=actor,
    )
    return report


@transaction.atomic
def breach_update(
    *, actor: Actor, breach_id: int, state: str, findings: str = "", measures: str = ""
) -> BreachReport:
    """Take up (investigating) or close a breach report; closing needs findings."""
    permissions.require(actor, "quarantine.breaches")
    report = BreachReport.objects.select_for_update().filter(pk=breach_id).first()
    if report is None or not permissions.in_scope(actor, report.scope_path):
        raise NotFound()
    if report.state == BreachReport.State.CLOSED:
        raise Conflict(_("This report is closed."), code="closed")
    if state not in (BreachReport.State.INVESTIGATING, BreachReport.State.CLOSED):
        raise ValidationFailed(fields={"state": _("Choose investigating or closed.")})
    if state == BreachReport.State.CLOSED and not findings.strip():
        raise ValidationFailed(fields={"findings": _("Record the findings before closing.")})
    if len(findings) > MAX_TEXT or len(measures) > MAX_TEXT:
        raise ValidationFailed(fields={"findings": _("At most 4,000 characters.")})
    previous = report.state
    report.state = state
    report.investigator = report.investigator or acting_user(actor)
    if findings.strip():
        report.findings = findings.strip()
    if measures.strip():
        report.measures = measures.strip()
    if state == BreachReport.State.CLOSED:
        report.closed_at = timezone.now()
    report.save()
    audit_record(
        actor=actor,
        action="quarantine.breach_update",
        obj=report,
        scope_path=report.scope_path,
        changes={"breach_state": [previous, state]},
        reason=findings,
    )
    return report
