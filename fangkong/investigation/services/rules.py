"""The disease rule version in force on a date; new versions of a disease's rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core.errors import NotFound, ValidationFailed
from fangkong.core.types import Actor
from fangkong.investigation.models import Disease, DiseaseRules


def disease_by_code(code: str, *, field: str = "disease_code") -> Disease:
    disease = Disease.objects.filter(code=code, active=True).first()
    if disease is None:
        raise ValidationFailed(fields={field: _("Unknown disease “%(code)s”.") % {"code": code}})
    return disease


def rules_in_force(disease: Disease | int | str, on: dt.date) -> DiseaseRules:
    """The version with the latest ``effective_from`` on or before ``on`` (the
    highest version number among versions effective the same day)."""
    if isinstance(disease, str):
        disease = disease_by_code(disease)
    disease_id = disease if isinstance(disease, int) else disease.pk
    rules = (
        DiseaseRules.objects.select_related("disease")
        .filter(disease_id=disease_id, effective_from__lte=on)
        .order_by("-effective_from", "-version")
        .first()
    )
    if rules is None:
        raise NotFound(
            _("No rules of this disease are in force on %(date)s.") % {"date": on.isoformat()},
            code="no_rules",
        )
    return rules


def infectious_period_start(
    rules: DiseaseRules, *, onset_date: dt.date | None, first_positive_date: dt.date | None
) -> dt.date | None:
    """When a case became infectious: onset − N days, or first positive sample − N
    days when there is no onset (asymptomatic infections)."""
    if onset_date is not None:
        return onset_date - dt.timedelta(days=rules.infectious_days_before_onset)
    if first_positive_date is not None:
        return first_positive_date - dt.timedelta(days=rules.infectious_days_before_sample)
    return None


def monitoring_days(rules: DiseaseRules, category: str) -> int:
    from fangkong.investigation.models import Contact

    if category == Contact.Category.CLOSE:
        return int(rules.close_contact_monitoring_days)
    if category == Contact.Category.SECONDARY:
        return int(rules.secondary_contact_monitoring_days)
    return int(rules.venue_exposed_monitoring_days)


# --- New versions --------------------------------------------------------------------

# The parameters a version carries, with the range a value may take.
RULE_PARAMETERS: dict[str, tuple[int, int]] = {
    "infectious_days_before_onset": (0, 60),
    "infectious_days_before_sample": (0, 60),
    "copresence_buffer_minutes": (0, 24 * 60),
    "assumed_stay_minutes": (1, 24 * 60),
    "transport_seat_rows": (0, 100),
    "close_contact_monitoring_days": (1, 90),
    "secondary_contact_monitoring_days": (1, 90),
    "venue_exposed_monitoring_days": (1, 90),
    "followups_per_day": (1, 12),
    "checkin_retention_days": (1, 365),
}


def rules_add_version(
    *,
    actor: Actor,
    disease_code: str,
    effective_from: dt.date,
    source_document: str,
    classifications: list[str] | None = None,
    reason: str = "",
    **parameters: int,
) -> DiseaseRules:
    """Add a new version of a disease's rules, in force from ``effective_from``.

    History is never rewritten: existing versions are not touched, the new one
    may not take effect before today nor before the latest existing version
    (it would change the rules of days already decided), and every case,
    contact and match keeps the version recorded on it. Parameters not given are
    carried over from the latest version."""
    from django.db import transaction

    from fangkong.core import permissions
    from fangkong.core.audit import audit_record
    from fangkong.investigation.models import Case

    permissions.require(actor, "rules.manage")
    disease = disease_by_code(disease_code)
    errors: dict[str, str] = {}
    unknown = sorted(set(parameters) - set(RULE_PARAMETERS))
    if unknown:
        raise ValueError(f"unknown rule parameter(s): {', '.join(unknown)}")
    for name, value in parameters.items():
        low, high = RULE_PARAMETERS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors[name] = _("Give a whole number from %(low)s to %(high)s.") % {
                "low": low,
                "high": high,
            }
    source_document = (source_document or "").strip()
    if not source_document:
        errors["source_document"] = _("Name the document these rules come from.")
    elif len(source_document) > 300:
        errors["source_document"] = _("At most 300 characters.")
    if classifications is not None:
        wrong = [c for c in classifications if c not in Case.Classification.values]
        if wrong or not classifications:
            errors["classifications"] = _("Choose classifications from the list.")
    today = timezone.localdate()
    if effective_from < today:
        errors["effective_from"] = _(
            "A new version cannot take effect in the past: decisions already taken keep "
            "the rules they used."
        )
    with transaction.atomic():
        latest = (
            DiseaseRules.objects.select_for_update()
            .filter(disease=disease)
            .order_by("-effective_from", "-version")
            .first()
        )
        if latest is not None and effective_from < latest.effective_from:
            errors.setdefault(
                "effective_from",
                _("Version %(v)s already takes effect on %(date)s; choose that day or later.")
                % {"v": latest.version, "date": latest.effective_from.isoformat()},
            )
        if errors:
            raise ValidationFailed(fields=errors)
        top = (
            DiseaseRules.objects.filter(disease=disease)
            .order_by("-version")
            .values_list("version", flat=True)
            .first()
        )
        values: dict[str, Any] = {
            name: getattr(latest, name) if latest is not None else None for name in RULE_PARAMETERS
        }
        values = {k: v for k, v in values.items() if v is not None}
        values.update(parameters)
        rules = DiseaseRules.objects.create(
            disease=disease,
            version=(top or 0) + 1,
            effective_from=effective_from,
            source_document=source_document,
            classifications=list(
                classifications
                if classifications is not None
                else (latest.classifications if latest is not None else Case.Classification.values)
            ),
            **values,
        )
        changes: dict[str, Any] = {"effective_from": [None, effective_from.isoformat()]}
        for name in RULE_PARAMETERS:
            old = getattr(latest, name) if latest is not None else None
            if old != getattr(rules, name):
                changes[name] = [old, getattr(rules, name)]
        if latest is None or list(latest.classifications) != list(rules.classifications):
            changes["classifications"] = [
                latest.classifications if latest is not None else None,
                rules.classifications,
            ]
        audit_record(
            actor=actor,
            action="rules.version",
            obj=rules,
            changes=changes,
            reason=reason,
        )
    return rules
