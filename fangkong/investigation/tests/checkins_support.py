"""Helpers shared by the venue, check-in and matching tests (not a test module)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.test import Client

from fangkong.core.models import Jurisdiction, Person
from fangkong.investigation.models import (
    Case,
    CheckIn,
    Disease,
    DiseaseRules,
    TrajectoryStop,
    Venue,
)

_seq = {"case": 0}


def post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def patch(client: Client, url: str, body: Any) -> Any:
    return client.patch(url, json.dumps(body), content_type="application/json")


def make_venue(building: Jurisdiction, name: str = "老鼠仓超市", **kw: Any) -> Venue:
    return Venue.objects.create(
        name=name,
        category=kw.pop("category", Venue.Category.SUPERMARKET),
        building=building,
        scope_path=building.path,
        **kw,
    )


def covid() -> tuple[Disease, DiseaseRules]:
    disease = Disease.objects.get(code="covid19")
    rules = DiseaseRules.objects.filter(disease=disease).order_by("-version").first()
    assert rules is not None
    return disease, rules


def make_case(person: Person, **kw: Any) -> Case:
    disease, rules = covid()
    _seq["case"] += 1
    defaults: dict[str, Any] = {
        "number": f"140100-2022-{_seq['case']:05d}",
        "person": person,
        "disease": disease,
        "rules": rules,
        "classification": Case.Classification.CONFIRMED,
        "onset_date": dt.date(2022, 10, 5),
        "report_date": dt.date(2022, 10, 6),
        "found_by": Case.FoundBy.SCREENING,
        "scope_path": person.scope_path,
    }
    defaults.update(kw)
    return Case.objects.create(**defaults)


def make_stop(case: Case, venue: Venue, start: dt.datetime, end: dt.datetime) -> TrajectoryStop:
    return TrajectoryStop.objects.create(
        case=case, kind=TrajectoryStop.Kind.VENUE, venue=venue, start=start, end=end
    )


def make_checkin(
    venue: Venue,
    person: Person,
    time: dt.datetime,
    last_scan_at: dt.datetime | None = None,
    left_at: dt.datetime | None = None,
) -> CheckIn:
    return CheckIn.objects.create(
        venue=venue,
        person=person,
        time=time,
        last_scan_at=last_scan_at or time,
        left_at=left_at,
    )
