"""Demo statuses: reasons for the demo's open cases and contacts under monitoring.

Cases and contacts loaded in bulk (not through the investigation services) have
published no facts; this gives them the reasons the facts would have given.
Idempotent: ``reasons_grant`` adds nothing a source already gave.
"""

from __future__ import annotations

from fangkong.investigation.selectors.shared import monitored_contact_facts, open_case_facts
from fangkong.status.facts import CONTACT_KINDS, end_of_day
from fangkong.status.services import reasons_grant


def seed() -> str:
    reasons = 0
    for case_id, person_id, disease_id in open_case_facts():
        reasons += reasons_grant(
            kind="confirmed_case",
            person_ids=[person_id],
            source_type="investigation.case",
            source_id=case_id,
            disease_id=disease_id,
            notify=False,
        )
    from django.utils import timezone

    now = timezone.now()
    for contact_id, person_id, category, monitoring_end, disease_id in monitored_contact_facts():
        ends_at = end_of_day(monitoring_end) if monitoring_end else None
        if ends_at is not None and ends_at <= now:
            continue
        reasons += reasons_grant(
            kind=CONTACT_KINDS[category],
            person_ids=[person_id],
            source_type="investigation.contact",
            source_id=contact_id,
            disease_id=disease_id,
            ends_at=ends_at,
            notify=False,
        )
    return f"{reasons:,} status reasons for open cases and contacts under monitoring"
