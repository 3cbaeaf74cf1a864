"""Task forces (工作专班), the duty roster (在岗值守), handover notes between shifts,
and the care of frontline staff: rotation plans and recognitions. The rotation
rule (most consecutive duty days, least rest, most hours a week) is data
(``RotationRule``); the overwork list reads it (``selectors.ops.overwork_for``).

``duty.manage`` sets up task forces, shifts, rotations and recognitions of its
area; whoever is on duty writes the handover note of their shift and the next
one receives it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import NotFound, PermissionDenied, ValidationFailed
from fangkong.core.models import Jurisdiction, StaffProfile
from fangkong.core.types import Actor, acting_user
from fangkong.headquarters.models import (
    DutyShift,
    Handover,
    Recognition,
    RotationPlan,
    TaskForce,
    TaskForceMember,
)

TEXT_MAX = 4000
SHIFT_MAX_HOURS = 24
# A handover may be written by the shift that just ended for this long after it.
HANDOVER_GRACE = dt.timedelta(hours=2)


def _area(actor: Actor, area_id: int, field: str = "area_id") -> Jurisdiction:
    node = Jurisdiction.objects.filter(pk=area_id).first()
    if node is None or not permissions.in_scope(actor, node.path):
        raise NotFound(_("No such unit in your area."), fields={field: _("Not in your area.")})
    return node


def _staff(actor: Actor, user_id: int, field: str) -> Any:
    profile = (
        StaffProfile.objects.filter(user_id=user_id, user__is_active=True)
        .select_related("user", "jurisdiction")
        .first()
    )
    if profile is None or not permissions.in_scope(actor, profile.jurisdiction.path):
        raise NotFound(
            _("No such staff member in your area."), fields={field: _("Not in your area.")}
        )
    return profile.user


def _text(value: str, field: str, errors: dict[str, str], *, required: str | None = None) -> str:
    value = (value or "").strip()
    if required and not value:
        errors[field] = required
    elif len(value) > TEXT_MAX:
        errors[field] = _("At most 4000 characters.")
    return value


def _uid(actor: Actor) -> int:
    return int(getattr(actor, "pk", 0) or 0)


# --- Task forces ----------------------------------------------------------------------


def taskforce_create(
    *,
    actor: Actor,
    name: str,
    kind: str,
    area_id: int,
    leader_id: int,
    remit: str = "",
    member_ids: list[int] | None = None,
) -> TaskForce:
    permissions.require(actor, "duty.manage")
    errors: dict[str, str] = {}
    name = _text(name, "name", errors, required=_("Name the task force."))
    if len(name) > 120:
        errors["name"] = _("At most 120 characters.")
    if kind not in TaskForce.Kind.values:
        errors["kind"] = _("Choose the workstream.")
    remit = _text(remit, "remit", errors)
    if errors:
        raise ValidationFailed(fields=errors)
    area = _area(actor, area_id)
    leader = _staff(actor, leader_id, "leader_id")
    members = [_staff(actor, uid, "member_ids") for uid in dict.fromkeys(member_ids or [])]
    with transaction.atomic():
        tf = TaskForce.objects.create(
            name=name, kind=kind, area=area, scope_path=area.path, leader=leader, remit=remit
        )
        for user in members:
            TaskForceMember.objects.create(task_force=tf, user=user)
        audit_record(
            actor=actor,
            action="taskforce.create",
            obj=tf,
            scope_path=tf.scope_path,
            changes={
                "name": [None, name],
                "leader": [None, leader.pk],
                "members": [None, len(members)],
            },
        )
    return tf


def _taskforce_for_update(actor: Actor, tf_id: int) -> TaskForce:
    tf = TaskForce.objects.select_for_update().filter(pk=tf_id).first()
    if tf is None or not permissions.in_scope(actor, tf.scope_path):
        raise NotFound()
    return tf


def taskforce_member_add(
    *, actor: Actor, task_force_id: int, user_id: int, duty: str = ""
) -> TaskForceMember:
    permissions.require(actor, "duty.manage")
    if len(duty or "") > 120:
        raise ValidationFailed(fields={"duty": _("At most 120 characters.")})
    with transaction.atomic():
        tf = _taskforce_for_update(actor, task_force_id)
        user = _staff(actor, user_id, "user_id")
        member, created = TaskForceMember.objects.get_or_create(
            task_force=tf, user=user, defaults={"duty": (duty or "").strip()}
        )
        if not created:
            raise ValidationFailed(fields={"user_id": _("Already a member.")})
        audit_record(
            actor=actor,
            action="taskforce.member_add",
            obj=tf,
            scope_path=tf.scope_path,
            changes={"member": [None, user.pk]},
        )
    return member


def taskforce_member_remove(*, actor: Actor, task_force_id: int, user_id: int) -> None:
    permissions.require(actor, "duty.manage")
    with transaction.atomic():
        tf = _taskforce_for_update(actor, task_force_id)
        deleted, _rows = TaskForceMember.objects.filter(task_force=tf, user_id=user_id).delete()
        if not deleted:
            raise NotFound(_("Not a member."), fields={"user_id": _("Not a member.")})
        audit_record(
            actor=actor,
            action="taskforce.member_remove",
            obj=tf,
            scope_path=tf.scope_path,
            changes={"member": [user_id, None]},
        )


# --- Duty roster ----------------------------------------------------------------------


def shift_add(
    *,
    actor: Actor,
    area_id: int,
    user_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    role: str = DutyShift.Role.OFFICER,
    task_force_id: int | None = None,
) -> DutyShift:
    """Put someone on the roster of an area (no two shifts of one person overlap)."""
    permissions.require(actor, "duty.manage")
    errors: dict[str, str] = {}
    if role not in DutyShift.Role.values:
        errors["role"] = _("Choose the role on duty.")
    if timezone.is_naive(starts_at):
        errors["starts_at"] = _("Give the time with its time zone.")
    if timezone.is_naive(ends_at):
        errors["ends_at"] = _("Give the time with its time zone.")
    if not errors:
        if ends_at <= starts_at:
            errors["ends_at"] = _("The shift must end after it starts.")
        elif ends_at - starts_at > dt.timedelta(hours=SHIFT_MAX_HOURS):
            errors["ends_at"] = _("A shift lasts at most 24 hours.")
    if errors:
        raise ValidationFailed(fields=errors)
    area = _area(actor, area_id)
    user = _staff(actor, user_id, "user_id")
    tf = None
    if task_force_id is not None:
        tf = TaskForce.objects.filter(pk=task_force_id).first()
        if tf is None or not permissions.in_scope(actor, tf.scope_path):
            raise NotFound(fields={"task_force_id": _("Not in your area.")})
    with transaction.atomic():
        # Lock the person's shifts so two concurrent additions cannot both pass.
        clash = (
            DutyShift.objects.select_for_update()
            .filter(user=user, starts_at__lt=ends_at, ends_at__gt=starts_at)
            .exists()
        )
        if clash:
            raise ValidationFailed(
                fields={"starts_at": _("This person is already on duty at that time.")}
            )
        shift = DutyShift.objects.create(
            area=area,
            scope_path=area.path,
            user=user,
            role=role,
            task_force=tf,
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=acting_user(actor),
        )
        audit_record(
            actor=actor,
            action="duty.shift_add",
            obj=shift,
            scope_path=shift.scope_path,
            changes={
                "on_duty": [None, user.pk],
                "starts_at": [None, starts_at.isoformat()],
                "ends_at": [None, ends_at.isoformat()],
            },
        )
    return shift


def shift_remove(*, actor: Actor, shift_id: int, reason: str) -> None:
    permissions.require(actor, "duty.manage")
    if not (reason or "").strip():
        raise ValidationFailed(fields={"reason": _("Say why the shift is removed.")})
    with transaction.atomic():
        shift = DutyShift.objects.select_for_update().filter(pk=shift_id).first()
        if shift is None or not permissions.in_scope(actor, shift.scope_path):
            raise NotFound()
        audit_record(
            actor=actor,
            action="duty.shift_remove",
            obj=shift,
            scope_path=shift.scope_path,
            changes={"on_duty": [shift.user_id, None]},
            reason=reason,
        )
        shift.delete()


def _current_shift(actor: Actor, area: Jurisdiction, now: dt.datetime) -> DutyShift | None:
    return (
        DutyShift.objects.filter(
            user_id=_uid(actor),
            area=area,
            starts_at__lte=now,
            ends_at__gt=now - HANDOVER_GRACE,
        )
        .order_by("-starts_at")
        .first()
    )


def handover_write(
    *,
    actor: Actor,
    area_id: int,
    text: str,
    open_items: str = "",
    now: dt.datetime | None = None,
) -> Handover:
    """The handover note of the actor's shift (or of a duty manager)."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    text = _text(text, "text", errors, required=_("Write what the next shift must know."))
    open_items = _text(open_items, "open_items", errors)
    if errors:
        raise ValidationFailed(fields=errors)
    area = _area(actor, area_id)
    shift = _current_shift(actor, area, now)
    if shift is None and not permissions.has_capability(actor, "duty.manage"):
        raise PermissionDenied(_("Only whoever is on duty here writes its handover note."))
    writer = acting_user(actor)
    assert writer is not None  # the area's scope check lets only a signed-in user through
    with transaction.atomic():
        note = Handover.objects.create(
            area=area,
            scope_path=area.path,
            shift=shift,
            written_by=writer,
            text=text,
            open_items=open_items,
        )
        audit_record(actor=actor, action="duty.handover", obj=note, scope_path=note.scope_path)
    return note


def handover_receive(*, actor: Actor, handover_id: int, now: dt.datetime | None = None) -> Handover:
    """The next shift confirms it has read the note (someone on duty there now, not
    its writer)."""
    now = now or timezone.now()
    with transaction.atomic():
        note = Handover.objects.select_for_update().filter(pk=handover_id).first()
        if note is None or not permissions.in_scope(actor, note.scope_path):
            raise NotFound()
        if note.received_at is not None:
            raise ValidationFailed(_("This handover note has already been received."))
        if note.written_by_id == getattr(actor, "pk", None):
            raise PermissionDenied(_("The next shift receives the note, not its writer."))
        on_duty = DutyShift.objects.filter(
            user_id=_uid(actor),
            area_id=note.area_id,
            starts_at__lte=now + HANDOVER_GRACE,
            ends_at__gt=now,
        ).exists()
        if not on_duty and not permissions.has_capability(actor, "duty.manage"):
            raise PermissionDenied(_("Only whoever is on duty here receives its handover note."))
        note.received_by = acting_user(actor)
        note.received_at = now
        note.save(update_fields=["received_by", "received_at", "updated_at"])
        audit_record(
            actor=actor, action="duty.handover_receive", obj=note, scope_path=note.scope_path
        )
    return note


# --- Frontline staff care -------------------------------------------------------------


def rotation_plan_create(
    *,
    actor: Actor,
    user_id: int,
    rest_from: dt.date,
    rest_until: dt.date,
    replacement_id: int | None = None,
    reason: str = "",
) -> RotationPlan:
    """Rotate someone off duty to rest: their shifts in the rest period go to the
    replacement (or off the roster when nobody stands in)."""
    permissions.require(actor, "duty.manage")
    errors: dict[str, str] = {}
    reason = _text(reason, "reason", errors)
    if rest_until < rest_from:
        errors["rest_until"] = _("The rest ends before it starts.")
    elif (rest_until - rest_from).days > 60:
        errors["rest_until"] = _("A rotation lasts at most 60 days.")
    if replacement_id is not None and replacement_id == user_id:
        errors["replacement_id"] = _("Someone else must stand in.")
    if errors:
        raise ValidationFailed(fields=errors)
    user = _staff(actor, user_id, "user_id")
    replacement = _staff(actor, replacement_id, "replacement_id") if replacement_id else None
    area = user.staff.jurisdiction
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(rest_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(rest_until + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    with transaction.atomic():
        shifts = list(
            DutyShift.objects.select_for_update().filter(
                user=user, starts_at__lt=end, ends_at__gt=start
            )
        )
        if replacement is not None:
            for s in shifts:
                if (
                    DutyShift.objects.filter(
                        user=replacement, starts_at__lt=s.ends_at, ends_at__gt=s.starts_at
                    )
                    .exclude(pk=s.pk)
                    .exists()
                ):
                    raise ValidationFailed(
                        fields={
                            "replacement_id": _(
                                "The person standing in is on duty at one of these times."
                            )
                        }
                    )
                s.user = replacement
                s.save(update_fields=["user", "updated_at"])
        else:
            DutyShift.objects.filter(pk__in=[s.pk for s in shifts]).delete()
        plan = RotationPlan.objects.create(
            area=area,
            scope_path=area.path,
            user=user,
            replacement=replacement,
            rest_from=rest_from,
            rest_until=rest_until,
            reason=reason,
            created_by=acting_user(actor),
        )
        audit_record(
            actor=actor,
            action="care.rotation",
            obj=plan,
            scope_path=plan.scope_path,
            changes={
                "rotated_off": [None, user.pk],
                "replacement": [None, replacement.pk if replacement else None],
                "shifts": [None, len(shifts)],
            },
            reason=reason,
        )
    return plan


def recognition_record(
    *,
    actor: Actor,
    user_id: int,
    kind: str,
    citation: str,
    awarded_on: dt.date | None = None,
) -> Recognition:
    permissions.require(actor, "duty.manage")
    errors: dict[str, str] = {}
    if kind not in Recognition.Kind.values:
        errors["kind"] = _("Choose the kind of recognition.")
    citation = _text(citation, "citation", errors, required=_("Say what it is for."))
    awarded_on = awarded_on or timezone.localdate()
    if awarded_on > timezone.localdate():
        errors["awarded_on"] = _("The date cannot be in the future.")
    if errors:
        raise ValidationFailed(fields=errors)
    user = _staff(actor, user_id, "user_id")
    area = user.staff.jurisdiction
    with transaction.atomic():
        rec = Recognition.objects.create(
            area=area,
            scope_path=area.path,
            user=user,
            kind=kind,
            citation=citation,
            awarded_on=awarded_on,
            created_by=acting_user(actor),
        )
        audit_record(
            actor=actor,
            action="care.recognition",
            obj=rec,
            scope_path=rec.scope_path,
            changes={"recognised": [None, user.pk], "kind": [None, kind]},
        )
    return rec
