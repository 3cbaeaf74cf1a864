"""Investigation facts become reasons: confirmed → red, contacts per rule, release ends."""

from __future__ import annotations

from typing import Any

from fangkong.conftest import make_person
from fangkong.investigation.services.cases import case_classify, case_release
from fangkong.investigation.services.contacts import contact_create, contact_set_status
from fangkong.investigation.tests.casekit import days_ago, new_case, new_contact
from fangkong.status.models import Reason
from fangkong.status.selectors import person_status


def test_confirmed_case_is_red_until_released(city: Any, investigator: Any) -> None:
    p = make_person(city.xd_building)
    case = new_case(investigator, p)
    assert person_status(p.pk)["level"] == "red"
    r = Reason.objects.get(person=p)
    assert (r.kind, r.source_type, r.source_id) == ("confirmed_case", "investigation.case", case.pk)
    case_release(actor=investigator, case_id=case.pk, released_at=days_ago(0))
    assert person_status(p.pk)["level"] == "green"
    assert Reason.objects.get(person=p).ended_how == "case_released"


def test_suspected_then_confirmed_then_excluded(city: Any, investigator: Any) -> None:
    p = make_person(city.xd_building)
    case = new_case(investigator, p, classification="suspected")
    assert person_status(p.pk)["level"] == "green"
    case_classify(actor=investigator, case_id=case.pk, classification="confirmed")
    assert person_status(p.pk)["level"] == "red"
    case_classify(
        actor=investigator, case_id=case.pk, classification="excluded", reason="lab error"
    )
    assert person_status(p.pk)["level"] == "green"
    assert Reason.objects.get(person=p).ended_how == "revoked"


def test_contacts_get_levels_per_rule_until_monitoring_end(city: Any, investigator: Any) -> None:
    index = make_person(city.xd_building)
    close = make_person(city.xd_building)
    second = make_person(city.xd_building)
    case = new_case(investigator, index)
    c1 = new_contact(investigator, close, case=case)
    assert person_status(close.pk)["level"] == "red"  # COVID-19 close contact: red
    reason = Reason.objects.get(person=close)
    assert reason.kind == "close_contact"
    assert reason.ends_at is not None
    assert reason.ends_at.date() >= c1.monitoring_end  # type: ignore[operator]
    new_contact(investigator, second, contact=c1)
    assert person_status(second.pk)["level"] == "yellow"
    contact_set_status(actor=investigator, contact_id=c1.pk, status="completed")
    assert person_status(close.pk)["level"] == "green"


def test_contact_who_becomes_a_case_is_superseded(city: Any, investigator: Any) -> None:
    index = make_person(city.xd_building)
    close = make_person(city.xd_building)
    case = new_case(investigator, index)
    new_contact(investigator, close, case=case)
    new_case(investigator, close)
    kinds = dict(Reason.objects.filter(person=close).values_list("kind", "ended_how"))
    assert kinds == {"close_contact": "superseded", "confirmed_case": ""}
    assert person_status(close.pk)["level"] == "red"


def test_venue_exposed_is_yellow(city: Any, investigator: Any) -> None:
    index = make_person(city.xd_building)
    guest = make_person(city.xd_building)
    case = new_case(investigator, index)
    contact_create(
        actor=investigator,
        source_case_id=case.pk,
        person_id=guest.pk,
        exposure_type="venue",
        first_exposure=days_ago(2),
        last_exposure=days_ago(2),
    )
    assert person_status(guest.pk)["level"] == "yellow"
