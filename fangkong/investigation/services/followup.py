"""Follow-up (随访): teams, daily lists, records.

Each morning ``followup_generate_daily`` ends the monitoring of contacts whose
period is over and gives every contact still under monitoring one follow-up for
the day, assigned to a team covering the contact's address: the active team(s)
at the deepest tree node above the contact; when several teams share that node,
the one with the fewest follow-ups that day (load balancing). Idempotent.

"Seen with symptoms" opens a suspected case for the person (found by contact
monitoring, linked to the contact): the district's case list is the task queue
of suspected cases to test and investigate. The contact stays under monitoring
until the case is confirmed (then it "became a case") or excluded.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record, diff
from fangkong.core.errors import ValidationFailed
from fangkong.core.models import PATH_SEGMENT
from fangkong.core.selectors import access_jurisdiction_by_id
from fangkong.core.types import Actor, acting_user
from fangkong.investigation.models import Case, Contact, FollowUp, FollowUpTeam
from fangkong.investigation.selectors.followup import access_followup_by_id, access_team_by_id

Status = FollowUp.Status


# --- Teams ---------------------------------------------------------------------


def _members(actor: Actor, member_ids: list[int]) -> list[Any]:
    users = list(get_user_model().objects.filter(pk__in=member_ids, is_active=True))
    ok = [
        u
        for u in users
        if (p := permissions.staff_profile(u)) is not None
        and permissions.in_scope(actor, p.jurisdiction.path)
    ]
    if len(ok) != len(set(member_ids)):
        raise ValidationFailed(fields={"member_ids": _("Some members are not staff of your area.")})
    return ok


def followup_team_create(
    *, actor: Actor, name: str, jurisdiction_id: int, member_ids: list[int] | None = None
) -> FollowUpTeam:
    permissions.require(actor, "followup.manage")
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(fields={"name": _("A name is required.")})
    with transaction.atomic():
        node = access_jurisdiction_by_id(actor, jurisdiction_id)
        members = _members(actor, member_ids or [])
        team = FollowUpTeam.objects.create(name=name[:200], jurisdiction=node, scope_path=node.path)
        team.members.set(members)
        audit_record(
            actor=actor,
            action="followup_team.create",
            obj=team,
            scope_path=team.scope_path,
            changes=diff(
                {},
                {"name": team.name, "jurisdiction_id": node.pk, "members": [u.pk for u in members]},
            ),
        )
    return team


def followup_team_update(
    *,
    actor: Actor,
    team_id: int,
    name: str | None = None,
    member_ids: list[int] | None = None,
    active: bool | None = None,
) -> FollowUpTeam:
    """Rename, restaff or (de)activate a team. Teams are never deleted: their
    past follow-ups keep pointing at them."""
    permissions.require(actor, "followup.manage")
    with transaction.atomic():
        team = access_team_by_id(actor, team_id)
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        if name is not None:
            if not name.strip():
                raise ValidationFailed(fields={"name": _("A name is required.")})
            before["name"], after["name"] = team.name, name.strip()[:200]
            team.name = after["name"]
        if active is not None:
            before["active"], after["active"] = team.active, active
            team.active = active
        team.save(update_fields=["name", "active", "updated_at"])
        if member_ids is not None:
            members = _members(actor, member_ids)
            before["members"] = sorted(team.members.values_list("pk", flat=True))
            after["members"] = sorted(u.pk for u in members)
            team.members.set(members)
        audit_record(
            actor=actor,
            action="followup_team.update",
            obj=team,
            scope_path=team.scope_path,
            changes=diff(before, after),
        )
    return team


# --- Daily lists ---------------------------------------------------------------


def contact_complete_ended(day: dt.date) -> int:
    """End the monitoring of contacts whose period is over before ``day``."""
    due = Contact.objects.filter(status=Contact.Status.MONITORING, monitoring_end__lt=day)
    count = due.update(status=Contact.Status.COMPLETED, updated_at=timezone.now())
    if count:
        audit_record(
            actor=None,
            action="contact.monitoring_completed",
            object_type="investigation.contact",
            changes={"count": count, "ended_before": day.isoformat()},
        )
    return count


def _insert_followups(rows: list[tuple[Any, ...]]) -> None:
    """One prepared INSERT, many parameter rows; a follow-up that already exists for
    that contact and day (a concurrent run) is skipped."""
    table = connection.ops.quote_name(FollowUp._meta.db_table)
    sql = (
        f"INSERT INTO {table} (created_at, updated_at, contact_id, date, team_id, "  # noqa: S608
        "scope_path, status, symptoms) VALUES (%s, %s, %s, %s, %s, %s, "
        f"'{FollowUp.Status.NOT_ATTEMPTED.value}', '[]') "
    )
    if connection.vendor == "sqlite":
        sql = sql.replace("INSERT INTO", "INSERT OR IGNORE INTO", 1)
    else:
        sql += "ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        for i in range(0, len(rows), 10000):
            cursor.executemany(sql, rows[i : i + 10000])


def followup_generate_daily(day: dt.date | None = None) -> int:
    """Create the day's follow-ups (one per contact under monitoring and day).
    Returns how many were created; running it again the same day creates none."""
    day = day or timezone.localdate()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    day_value = connection.ops.adapt_datefield_value(day)
    with transaction.atomic():
        contact_complete_ended(day)
        teams_at: dict[str, list[int]] = defaultdict(list)
        for tid, tpath in FollowUpTeam.objects.filter(active=True).values_list("id", "scope_path"):
            teams_at[tpath].append(tid)
        load: dict[int, int] = defaultdict(int)
        for row in (
            FollowUp.objects.filter(date=day, team__isnull=False)
            .values("team_id")
            .annotate(n=Count("id"))
        ):
            load[row["team_id"]] = row["n"]
        done = set(FollowUp.objects.filter(date=day).values_list("contact_id", flat=True))
        depths = sorted({len(p) for p in teams_at}, reverse=True)
        rows: list[tuple[Any, ...]] = []
        for contact_id, path in (
            Contact.objects.filter(status=Contact.Status.MONITORING, first_exposure__lte=day)
            .values_list("id", "scope_path")
            .iterator(chunk_size=10000)
        ):
            if contact_id in done:
                continue
            team_id: int | None = None
            for depth in depths:
                if depth > len(path) or depth % PATH_SEGMENT:
                    continue
                candidates = teams_at.get(path[:depth])
                if candidates:
                    team_id = min(candidates, key=lambda t: (load[t], t))
                    load[team_id] += 1
                    break
            rows.append((now, now, contact_id, day_value, team_id, path))
        _insert_followups(rows)
    return len(rows)


# --- Records -------------------------------------------------------------------


def followup_record(
    *,
    actor: Actor,
    followup_id: int,
    status: str,
    symptoms: list[str] | None = None,
    temperature: Decimal | float | str | None = None,
) -> FollowUp:
    """Record a follow-up. "Seen with symptoms" opens a suspected case (returned
    as ``followup.opened_case``, ``None`` otherwise)."""
    from fangkong.investigation.services.cases import case_create_unchecked

    permissions.require(actor, "followup.record")
    errors: dict[str, str] = {}
    if status not in Status.values:
        errors["status"] = _("Unknown value “%(value)s”.") % {"value": status}
    symptoms = [str(s).strip()[:60] for s in (symptoms or []) if str(s).strip()][:20]
    temp: Decimal | None = None
    if temperature is not None and temperature != "":
        try:
            temp = Decimal(str(temperature)).quantize(Decimal("0.1"))
        except InvalidOperation:
            errors["temperature"] = _("Give the temperature in °C, e.g. 36.8.")
        else:
            if not Decimal("30") <= temp <= Decimal("45"):
                errors["temperature"] = _("A body temperature is between 30 and 45 °C.")
    if status == Status.SEEN_WITH_SYMPTOMS and not symptoms and temp is None:
        errors["symptoms"] = _("Record the symptoms or the temperature.")
    if status in (Status.NOT_REACHED, Status.NOT_ATTEMPTED) and (symptoms or temp is not None):
        errors["status"] = _("Symptoms are recorded only for people who were seen.")
    if errors:
        raise ValidationFailed(fields=errors)
    opened: Case | None = None
    with transaction.atomic():
        fu = access_followup_by_id(actor, followup_id, for_update=True)
        if fu.date > timezone.localdate():
            raise ValidationFailed(fields={"followup_id": _("This follow-up is not due yet.")})
        contact = fu.contact
        if contact.status != Contact.Status.MONITORING:
            raise ValidationFailed(
                fields={"followup_id": _("This contact is no longer under monitoring.")}
            )
        before = {"status": fu.status, "symptoms": fu.symptoms, "temperature": fu.temperature}
        fu.status = status
        fu.symptoms = symptoms
        fu.temperature = temp
        fu.recorded_by = acting_user(actor)
        fu.recorded_at = timezone.now()
        fu.save(
            update_fields=[
                "status",
                "symptoms",
                "temperature",
                "recorded_by",
                "recorded_at",
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            action="followup.record",
            obj=fu,
            scope_path=fu.scope_path,
            person_id=contact.person_id,
            changes=diff(
                {**before, "temperature": str(before["temperature"] or "") or None},
                {
                    "status": status,
                    "symptoms": symptoms,
                    "temperature": str(temp) if temp else None,
                },
            ),
        )
        if status == Status.SEEN_WITH_SYMPTOMS:
            open_case = (
                Case.objects.filter(person_id=contact.person_id, disease_id=contact.disease_id)
                .exclude(classification=Case.Classification.EXCLUDED)
                .first()
            )
            if open_case is None:
                opened = case_create_unchecked(
                    actor=actor,
                    person=contact.person,
                    disease=contact.disease,
                    classification=Case.Classification.SUSPECTED,
                    report_date=fu.date,
                    found_by=Case.FoundBy.CONTACT_MONITORING,
                    reporting_unit=fu.team.name if fu.team else "",
                    source_contact_id=contact.pk,
                    reason=_("Seen with symptoms at follow-up."),
                )
    fu.opened_case = opened  # type: ignore[attr-defined]
    return fu
