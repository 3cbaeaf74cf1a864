"""During and at the end of a stay: daily health checks, scheduled tests, the
release criteria and certificate, extension, transfer out.

A fever (from the rule's threshold) or an alarming symptom, or a positive test,
makes the person a suspected case: the fact ``quarantine.person_suspected`` is
published once per stay and investigation opens the suspected case; the site
then transfers the person out (to a hospital). Release needs the criteria of
the stay's rule — the days served and the negative tests — or an approved
early release (four eyes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from fangkong.core import events, permissions
from fangkong.core.audit import audit_record_many
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.types import Actor, acting_user
from fangkong.quarantine.models import (
    Approval,
    HealthCheck,
    NumberSequence,
    Site,
    StaffPeriod,
    Stay,
    StayExtension,
    StayTest,
    Symptom,
)
from fangkong.quarantine.services.stays import (
    AdmitData,
    _audit,
    locked_stay,
    stays_admit,
    vacate_room,
)

LOWEST_TEMPERATURE = Decimal("34.0")
HIGHEST_TEMPERATURE = Decimal("43.0")
MAX_EXTENSION_DAYS = 30


# --- Health checks ------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckData:
    temperature: Any
    symptoms: Sequence[str] = ()
    note: str = ""


def clean_check(
    data: CheckData, *, field: str = ""
) -> tuple[Decimal, list[str], bool, dict[str, str]]:
    """(temperature, symptom codes, any alarming symptom, errors) of one check."""
    prefix = f"{field}." if field else ""
    errors: dict[str, str] = {}
    temp = Decimal("0")
    try:
        temp = Decimal(str(data.temperature).strip()).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        errors[f"{prefix}temperature"] = _("Give the temperature in °C, e.g. 36.6.")
    else:
        if not LOWEST_TEMPERATURE <= temp <= HIGHEST_TEMPERATURE:
            errors[f"{prefix}temperature"] = _(
                "%(value)s °C is not a possible body temperature (34.0 to 43.0)."
            ) % {"value": temp}
    known = {s.code: s for s in _symptoms()}
    codes = []
    for code in data.symptoms:
        if code not in known:
            errors[f"{prefix}symptoms"] = _("“%(value)s” is not a listed symptom.") % {
                "value": code
            }
        elif code not in codes:
            codes.append(code)
    if len(data.note) > 300:
        errors[f"{prefix}note"] = _("At most 300 characters.")
    alarming = any(known[c].alarming for c in codes if c in known)
    return temp, codes, alarming, errors


def _symptoms() -> list[Symptom]:
    return list(Symptom.objects.filter(active=True))


def _check_day(taken_on: dt.date, since: dt.date) -> dict[str, str]:
    if taken_on > timezone.localdate():
        return {"taken_on": _("A check cannot be recorded for a day to come.")}
    if taken_on < since:
        return {"taken_on": _("That day is before the stay began.")}
    return {}


def suspect(stay: Stay, *, actor: Actor, reason: str) -> bool:
    """Flag the person as a suspected case (once a stay) and publish the fact."""
    if stay.suspected_at is not None:
        return False
    stay.suspected_at = timezone.now()
    stay.suspected_reason = reason[:200]
    stay.save(update_fields=["suspected_at", "suspected_reason", "updated_at"])
    _audit(actor, stay, "quarantine.suspected", {"suspected": [None, reason[:200]]})
    events.publish(
        "quarantine.person_suspected",
        stay_id=stay.pk,
        person_id=stay.person_id,
        disease_code=stay.disease_code,
        category=stay.category.code,
        site_name=stay.site.name,
        reason=reason[:200],
        at=stay.suspected_at.isoformat(),
        actor=actor,
    )
    return True


def _fever_reason(stay: Stay, temp: Decimal, codes: list[str], alarming: bool) -> str:
    parts = []
    if temp >= stay.rule.fever_celsius:
        parts.append(_("temperature %(value)s °C") % {"value": temp})
    if alarming:
        names = {s.code: s.name for s in _symptoms()}
        parts.append(", ".join(names.get(c, c) for c in codes))
    return "; ".join(parts)


def health_check_record(
    *,
    actor: Actor,
    stay_id: int,
    taken_on: dt.date,
    slot: str,
    data: CheckData,
) -> HealthCheck:
    """Record one check of a person in their room. A second value for the same
    day and slot is refused (never overwritten): correct it by a note."""
    return health_checks_record(
        actor=actor,
        site_id=None,
        taken_on=taken_on,
        slot=slot,
        rows={stay_id: data},
        errors_by_field=True,
    )[0]


def health_checks_record(
    *,
    actor: Actor,
    site_id: int | None,
    taken_on: dt.date,
    slot: str,
    rows: dict[int, CheckData],
    errors_by_field: bool = False,
) -> list[HealthCheck]:
    """Record one round of checks (a floor, a whole site): ``{stay id: check}``.
    All or none; errors name the person's room (or, for one check, the field)."""
    permissions.require(actor, "quarantine.stays")
    if slot not in HealthCheck.Slot.values:
        raise ValidationFailed(fields={"slot": _("Choose morning or afternoon.")})
    if not rows:
        raise ValidationFailed(fields={"rows": _("Record at least one check.")})
    with transaction.atomic():
        stays = {
            s.pk: s
            for s in Stay.objects.select_for_update(of=("self",))
            .select_related("rule", "room", "site", "category")
            .filter(pk__in=list(rows))
        }
        errors: dict[str, str] = {}
        checks: list[HealthCheck] = []
        alarms: list[tuple[Stay, str]] = []
        done = set(
            HealthCheck.objects.filter(
                stay_id__in=list(stays), taken_on=taken_on, slot=slot
            ).values_list("stay_id", flat=True)
        )
        for stay_id, data in rows.items():
            stay = stays.get(stay_id)
            if stay is None or not permissions.in_scope(actor, stay.scope_path):
                raise NotFound()
            if site_id is not None and stay.site_id != site_id:
                raise NotFound()
            key = stay.room.number if stay.room else str(stay.pk)
            if stay.state != Stay.State.IN_ROOM:
                errors[key] = _("This person is not in a room of the site.")
                continue
            if stay_id in done:
                errors[key] = _("This check was already recorded; add a note instead.")
                continue
            day_errors = _check_day(taken_on, timezone.localtime(stay.admitted_at).date())
            temp, codes, alarming, check_errors = clean_check(data)
            for name, msg in [*day_errors.items(), *check_errors.items()]:
                errors.setdefault(name if errors_by_field else key, msg)
            if day_errors or check_errors:
                continue
            fever = temp >= stay.rule.fever_celsius
            checks.append(
                HealthCheck(
                    stay=stay,
                    taken_on=taken_on,
                    slot=slot,
                    temperature=temp,
                    symptoms=codes,
                    alarming=fever or alarming,
                    note=data.note.strip(),
                    recorded_by=acting_user(actor),
                )
            )
            if fever or alarming:
                alarms.append((stay, _fever_reason(stay, temp, codes, alarming)))
        if errors:
            raise ValidationFailed(fields=errors)
        try:
            with transaction.atomic():
                HealthCheck.objects.bulk_create(checks)
        except IntegrityError as exc:
            raise Conflict(
                _("Some of these checks were recorded meanwhile; reload and try again."),
                code="already_recorded",
            ) from exc
        audit_record_many(
            actor=actor,
            action="quarantine.health_check",
            entries=[
                {
                    "object_type": "quarantine.stay",
                    "object_id": c.stay_id,
                    "scope_path": stays[c.stay_id or 0].scope_path,
                    "person_id": stays[c.stay_id or 0].person_id,
                    "changes": {
                        "temperature": [None, str(c.temperature)],
                        "check_slot": [None, slot],
                    },
                }
                for c in checks
            ],
        )
        for stay, reason in alarms:
            suspect(stay, actor=actor, reason=reason)
        return checks


# --- Tests ----------------------------------------------------------------------------------

RESULTS = {
    StayTest.Result.SAMPLED,
    StayTest.Result.NEGATIVE,
    StayTest.Result.POSITIVE,
    StayTest.Result.MISSED,
}


@transaction.atomic
def stay_test_record(*, actor: Actor, test_id: int, result: str, note: str = "") -> StayTest:
    """Record a scheduled test: sampled, then negative or positive (or missed).
    A result already recorded is never replaced by another one."""
    permissions.require(actor, "quarantine.stays")
    test = (
        StayTest.objects.select_for_update(of=("self",))
        .select_related("stay")
        .filter(pk=test_id)
        .first()
    )
    if test is None or not permissions.in_scope(actor, test.stay.scope_path):
        raise NotFound()
    if result not in RESULTS:
        raise ValidationFailed(fields={"result": _("Choose one of the listed results.")})
    if len(note) > 300:
        raise ValidationFailed(fields={"note": _("At most 300 characters.")})
    if test.due_on > timezone.localdate():
        raise ValidationFailed(fields={"result": _("This test is not due yet.")})
    final = {StayTest.Result.NEGATIVE, StayTest.Result.POSITIVE, StayTest.Result.MISSED}
    if test.result in final:
        if test.result == result:
            return test
        raise Conflict(
            _("This test already has a result (%(result)s); a different one is not recorded.")
            % {"result": StayTest.Result(test.result).label},
            code="result_conflict",
        )
    stay = locked_stay(actor, test.stay_id)
    now = timezone.now()
    previous = test.result
    test.result = result
    if result == StayTest.Result.SAMPLED or (
        result in final and test.sampled_at is None and result != StayTest.Result.MISSED
    ):
        test.sampled_at = test.sampled_at or now
    if result in final:
        test.result_at = now
    test.recorded_by = acting_user(actor)
    test.note = note.strip()
    test.save()
    _audit(
        actor,
        stay,
        "quarantine.test_result",
        {"test_result": [previous, result], "day_of_stay": [None, test.day_number]},
    )
    if result == StayTest.Result.POSITIVE:
        suspect(
            stay, actor=actor, reason=_("positive test on day %(day)s") % {"day": test.day_number}
        )
    return test


# --- Release --------------------------------------------------------------------------------


def release_unmet(stay: Stay, on: dt.date) -> list[str]:
    """What keeps the stay from ending on ``on`` under its rule (empty: release)."""
    unmet: list[str] = []
    rule = stay.rule
    if on < stay.planned_end:
        unmet.append(
            _("The quarantine runs until %(date)s.") % {"date": date_format(stay.last_day)}
        )
    tests = list(stay.tests.all())
    if any(t.result == StayTest.Result.POSITIVE for t in tests):
        unmet.append(_("A test was positive."))
    open_tests = [
        t
        for t in tests
        if t.due_on <= on and t.result in (StayTest.Result.DUE, StayTest.Result.SAMPLED)
    ]
    if open_tests:
        unmet.append(_("%(n)s scheduled tests have no result yet.") % {"n": len(open_tests)})
    window_start = stay.planned_end - dt.timedelta(days=rule.release_test_window_days)
    negatives = [
        t for t in tests if t.result == StayTest.Result.NEGATIVE and t.due_on >= window_start
    ]
    if len(negatives) < rule.release_negative_tests:
        unmet.append(
            _("%(n)s negative tests are needed in the last %(days)s days; there are %(have)s.")
            % {
                "n": rule.release_negative_tests,
                "days": rule.release_test_window_days,
                "have": len(negatives),
            }
        )
    if stay.suspected_at is not None:
        unmet.append(_("The person is a suspected case."))
    return unmet


def next_number(kind: str, count: int = 1) -> list[str]:
    """``count`` new numbers of a kind (order, certificate), per year: GL2022000123."""
    year = timezone.localdate().year
    prefix = {"order": "GL", "certificate": "JC"}[kind]
    key = f"{kind}-{year}"
    NumberSequence.objects.get_or_create(key=key)
    seq = NumberSequence.objects.select_for_update().get(key=key)
    first = seq.last + 1
    seq.last += count
    seq.save(update_fields=["last"])
    return [f"{prefix}{year}{n:06d}" for n in range(first, first + count)]


@transaction.atomic
def stay_release(*, actor: Actor, stay_id: int, note: str = "") -> Stay:
    """End a stay that meets its release criteria (or whose early release was
    approved), with a release certificate number; the room awaits disinfection."""
    permissions.require(actor, "quarantine.stays")
    stay = locked_stay(actor, stay_id)
    if stay.state != Stay.State.IN_ROOM:
        raise Conflict(_("Only a person in a room can be released."), code="not_in_room")
    today = timezone.localdate()
    unmet = release_unmet(stay, today)
    early = (
        Approval.objects.select_for_update()
        .filter(stay=stay, kind=Approval.Kind.EARLY_RELEASE, state=Approval.State.APPROVED)
        .first()
    )
    if unmet and early is None:
        raise Conflict(
            _("The release criteria are not met: %(unmet)s Ask for an approved early release.")
            % {"unmet": " ".join(unmet)},
            code="criteria_not_met",
            fields={f"criteria.{i}": m for i, m in enumerate(unmet)},
        )
    if len(note) > MAX_NOTE:
        raise ValidationFailed(fields={"note": _("At most 2,000 characters.")})
    vacate_room(stay)
    stay.state = Stay.State.RELEASED
    stay.ended_at = timezone.now()
    stay.ended_by = acting_user(actor)
    stay.end_note = note.strip()
    stay.certificate_number = next_number("certificate")[0]
    if unmet and early is not None:
        stay.early_release = early
        early.state = Approval.State.USED
        early.save(update_fields=["state", "updated_at"])
    stay.save()
    _audit(
        actor,
        stay,
        "quarantine.stay_release",
        {
            "state": [Stay.State.IN_ROOM, Stay.State.RELEASED],
            "certificate": [None, stay.certificate_number],
            "early": [None, bool(unmet)],
        },
        note,
    )
    events.publish(
        "stay.released",
        stay_id=stay.pk,
        person_id=stay.person_id,
        released_on=today.isoformat(),
        home_monitoring_until=(
            today + dt.timedelta(days=stay.rule.home_monitoring_days)
        ).isoformat(),
        actor=actor,
    )
    return stay


MAX_NOTE = 2000


@transaction.atomic
def release_request_early(*, actor: Actor, stay_id: int, reason_kind: str, reason: str) -> Approval:
    """Ask for a release before the criteria are met (another person approves)."""
    from fangkong.quarantine.services.stays import _check_reason

    permissions.require(actor, "quarantine.stays")
    _check_reason(reason_kind, reason)
    stay = locked_stay(actor, stay_id)
    if stay.state != Stay.State.IN_ROOM:
        raise Conflict(_("Only a person in a room can be released."), code="not_in_room")
    if Approval.objects.filter(
        stay=stay, state__in=[Approval.State.PENDING, Approval.State.APPROVED]
    ).exists():
        raise Conflict(_("A request for this person is already waiting."), code="duplicate")
    approval = Approval.objects.create(
        kind=Approval.Kind.EARLY_RELEASE,
        stay=stay,
        reason_kind=reason_kind,
        reason=reason.strip(),
        scope_path=stay.scope_path,
        requested_by=acting_user(actor),
    )
    _audit(actor, stay, "quarantine.early_release_request", {}, reason)
    return approval


@transaction.atomic
def stay_extend(*, actor: Actor, stay_id: int, days: int, reason: str) -> Stay:
    """Extend a stay (with its reason); a test is scheduled on the new last day."""
    permissions.require(actor, "quarantine.stays")
    errors: dict[str, str] = {}
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        errors["days"] = _("Extend by 1 to 30 days.")
    if not reason.strip():
        errors["reason"] = _("Give the reason.")
    elif len(reason) > MAX_NOTE:
        errors["reason"] = _("At most 2,000 characters.")
    if errors:
        raise ValidationFailed(fields=errors)
    stay = locked_stay(actor, stay_id)
    if not stay.is_open:
        raise Conflict(_("This stay has already ended."), code="stay_ended")
    previous = stay.planned_end
    stay.planned_end = previous + dt.timedelta(days=days)
    stay.save(update_fields=["planned_end", "updated_at"])
    StayExtension.objects.create(
        stay=stay,
        days=days,
        reason=reason.strip(),
        previous_end=previous,
        new_end=stay.planned_end,
        actor=acting_user(actor),
    )
    last_day = stay.planned_end - dt.timedelta(days=1)
    StayTest.objects.get_or_create(
        stay=stay,
        due_on=last_day,
        extra=False,
        defaults={"day_number": stay.day_number(last_day)},
    )
    _audit(
        actor,
        stay,
        "quarantine.stay_extend",
        {"planned_end": [previous.isoformat(), stay.planned_end.isoformat()]},
        reason,
    )
    events.publish(
        "stay.extended",
        stay_id=stay.pk,
        person_id=stay.person_id,
        planned_end=stay.planned_end.isoformat(),
        actor=actor,
    )
    return stay


# --- Transfer out -----------------------------------------------------------------------------


@transaction.atomic
def stay_transfer_out(
    *,
    actor: Actor,
    stay_id: int,
    reason: str,
    site_id: int | None = None,
    hospital_id: int | None = None,
    bed_type: str = "general",
    severity: str = "mild",
) -> Stay:
    """End the stay by moving the person to another site (a new stay, waiting
    for a room there) or to a hospital (an admission)."""
    from fangkong.quarantine.services.hospitals import patient_admit

    permissions.require(actor, "quarantine.stays")
    if (site_id is None) == (hospital_id is None):
        raise ValidationFailed(fields={"destination": _("Choose a site or a hospital.")})
    if not reason.strip():
        raise ValidationFailed(fields={"reason": _("Give the reason.")})
    stay = locked_stay(actor, stay_id)
    if not stay.is_open:
        raise Conflict(_("This stay has already ended."), code="stay_ended")
    vacate_room(stay)
    stay.state = Stay.State.TRANSFERRED
    stay.ended_at = timezone.now()
    stay.ended_by = acting_user(actor)
    stay.end_note = reason.strip()
    Approval.objects.filter(stay=stay, state=Approval.State.PENDING).update(
        state=Approval.State.CANCELLED
    )
    if site_id is not None:
        target = Site.objects.filter(pk=site_id).first()
        if target is None or target.pk == stay.site_id:
            raise ValidationFailed(fields={"site_id": _("Choose another active site.")})
        stay.transferred_to = target.name
        stay.save()
        new = stays_admit(
            actor=actor,
            site_id=target.pk,
            people=[
                AdmitData(
                    person_id=stay.person_id,
                    category=stay.category.code,
                    disease_code=stay.disease_code,
                    started_on=stay.started_on,
                )
            ],
            source=Stay.Source.MOVE,
        )[0]
        Stay.objects.filter(pk=new.pk).update(previous=stay, planned_end=stay.planned_end)
    else:
        stay.save()
        admission = patient_admit(
            actor=actor,
            hospital_id=hospital_id or 0,
            person_id=stay.person_id,
            bed_type=bed_type,
            severity=severity,
            note=reason,
            from_stay_id=stay.pk,
            check_treat_capability=False,
        )
        stay.transferred_to = admission.hospital.name
        stay.save(update_fields=["transferred_to"])
    _audit(
        actor,
        stay,
        "quarantine.stay_transfer",
        {"stay_state": [Stay.State.IN_ROOM, stay.state], "to": [None, stay.transferred_to]},
        reason,
    )
    events.publish(
        "stay.ended", stay_id=stay.pk, person_id=stay.person_id, outcome="transferred", actor=actor
    )
    return stay


# --- Staff after rotation ------------------------------------------------------------------


def staff_check_record(
    *, actor: Actor, period_id: int, taken_on: dt.date, slot: str, data: CheckData
) -> HealthCheck:
    """A check of a site worker during their monitoring after rotation."""
    permissions.require(actor, "quarantine.staff")
    if slot not in HealthCheck.Slot.values:
        raise ValidationFailed(fields={"slot": _("Choose morning or afternoon.")})
    with transaction.atomic():
        period = (
            StaffPeriod.objects.select_for_update()
            .select_related("rule")
            .filter(pk=period_id)
            .first()
        )
        if period is None or not permissions.in_scope(actor, period.scope_path):
            raise NotFound()
        if period.state != StaffPeriod.State.MONITORING or period.left_on is None:
            raise Conflict(
                _("This worker is not under monitoring after rotation."), code="not_monitoring"
            )
        errors = _check_day(taken_on, period.left_on)
        temp, codes, alarming, check_errors = clean_check(data)
        errors.update(check_errors)
        if errors:
            raise ValidationFailed(fields=errors)
        if HealthCheck.objects.filter(period=period, taken_on=taken_on, slot=slot).exists():
            raise Conflict(
                _("This check was already recorded; add a note instead."), code="already_recorded"
            )
        check = HealthCheck.objects.create(
            period=period,
            taken_on=taken_on,
            slot=slot,
            temperature=temp,
            symptoms=codes,
            alarming=alarming or temp >= period.rule.fever_celsius,
            note=data.note.strip(),
            recorded_by=acting_user(actor),
        )
        audit_record_many(
            actor=actor,
            action="quarantine.staff_check",
            entries=[
                {
                    "object_type": "quarantine.staffperiod",
                    "object_id": period.pk,
                    "scope_path": period.scope_path,
                    "changes": {
                        "temperature": [None, str(temp)],
                        "alarming": [None, check.alarming],
                    },
                }
            ],
        )
        return check
