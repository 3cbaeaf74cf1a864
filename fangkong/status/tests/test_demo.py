from __future__ import annotations

from typing import Any

from fangkong.conftest import make_person
from fangkong.investigation.tests.casekit import new_case, new_contact
from fangkong.status import demo
from fangkong.status.models import Reason


def test_demo_seed_is_idempotent(city: Any, investigator: Any) -> None:
    case = new_case(investigator, make_person(city.xd_building))
    new_contact(investigator, make_person(city.xd_building), case=case)
    Reason.objects.all().delete()  # as if loaded in bulk, without facts
    assert "(2 given now" in demo.seed()
    assert "(0 given now" in demo.seed()
    assert Reason.objects.filter(ended_at__isnull=True).count() == 2
