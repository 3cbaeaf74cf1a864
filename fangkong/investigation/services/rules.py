"""The disease rule version in force on a date."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from fangkong.core.errors import NotFound, ValidationFailed
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
