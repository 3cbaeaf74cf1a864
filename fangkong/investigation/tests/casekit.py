"""Helpers for the case / contact / follow-up tests (plain functions, no fixtures)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from fangkong.core.models import Person
from fangkong.core.types import Actor
from fangkong.investigation.models import Case, Contact
from fangkong.investigation.services.cases import case_create
from fangkong.investigation.services.contacts import contact_create


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


def new_case(
    actor: Actor,
    person: Person,
    *,
    classification: str = "confirmed",
    onset: dt.date | None = None,
    positive: dt.date | None = None,
    reported: dt.date | None = None,
    disease: str = "covid19",
    **extra: Any,
) -> Case:
    return case_create(
        actor=actor,
        person_id=person.pk,
        disease_code=disease,
        classification=classification,
        onset_date=onset if onset is not None else days_ago(3),
        first_positive_date=positive if positive is not None else days_ago(2),
        report_date=reported or days_ago(1),
        found_by="screening",
        **extra,
    )


def new_contact(
    actor: Actor,
    person: Person,
    *,
    case: Case | None = None,
    contact: Contact | None = None,
    first: dt.date | None = None,
    last: dt.date | None = None,
    exposure_type: str = "household",
    **extra: Any,
) -> Contact:
    return contact_create(
        actor=actor,
        source_case_id=case.pk if case else None,
        source_contact_id=contact.pk if contact else None,
        person_id=person.pk,
        exposure_type=exposure_type,
        first_exposure=first or days_ago(3),
        last_exposure=last or days_ago(2),
        **extra,
    )
