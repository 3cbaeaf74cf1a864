"""The case page's outcome and release actions; the person's contact summary API."""

from typing import Any

import pytest

from fangkong.conftest import client_for, make_person
from fangkong.investigation.models import Case, Contact
from fangkong.investigation.tests.casekit import days_ago, new_case, new_contact
from fangkong.investigation.tests.pages_support import HTMX, en_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(city: Any, investigator: Any) -> Case:
    return new_case(
        investigator,
        make_person(city.xd_building, name="王芳"),
        onset=days_ago(6),
        positive=days_ago(5),
        reported=days_ago(4),
    )


def test_the_case_page_offers_outcome_and_release(investigator: Any, case: Case) -> None:
    html = en_client(investigator).get(f"/investigation/cases/{case.pk}/").content.decode()
    assert "Record the outcome" in html and "Release from isolation" in html


def test_an_outcome_is_recorded_from_the_page(investigator: Any, case: Case) -> None:
    r = en_client(investigator).post(
        f"/investigation/cases/{case.pk}/outcome/",
        {"outcome": "recovered", "outcome_date": days_ago(1).isoformat(), "reason": "痊愈出院"},
        **HTMX,
    )
    assert r.status_code == 200
    assert 'id="case-summary"' in r.content.decode()
    case.refresh_from_db()
    assert (case.outcome, case.outcome_date) == ("recovered", days_ago(1))


def test_an_outcome_without_its_date_is_refused_inline(investigator: Any, case: Case) -> None:
    r = en_client(investigator).post(
        f"/investigation/cases/{case.pk}/outcome/", {"outcome": "died"}, **HTMX
    )
    assert r.status_code == 422
    assert "Give the date of the outcome." in r.content.decode()
    case.refresh_from_db()
    assert case.outcome == "none"


def test_release_ends_continuous_exposure_and_hides_the_action(
    city: Any, investigator: Any, case: Case
) -> None:
    household = new_contact(
        investigator, make_person(city.xd_building), case=case, continuous_exposure=True
    )
    assert household.monitoring_end is None
    c = en_client(investigator)
    r = c.post(
        f"/investigation/cases/{case.pk}/release/", {"released_at": days_ago(0).isoformat()}, **HTMX
    )
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="contacts"' in html  # the contacts section comes along (out of band)
    case.refresh_from_db()
    assert case.released_at == days_ago(0)
    household.refresh_from_db()
    assert household.monitoring_end is not None
    page = c.get(f"/investigation/cases/{case.pk}/").content.decode()
    assert "Release from isolation" not in page


def test_a_release_before_the_report_date_is_refused(investigator: Any, case: Case) -> None:
    r = en_client(investigator).post(
        f"/investigation/cases/{case.pk}/release/",
        {"released_at": days_ago(6).isoformat()},
        **HTMX,
    )
    assert r.status_code == 422
    assert "before the report date" in r.content.decode()
    case.refresh_from_db()
    assert case.released_at is None


def test_outcome_and_release_of_another_district_do_not_exist(
    city: Any, yingze_officer: Any, case: Case
) -> None:
    c = en_client(yingze_officer)
    r = c.post(f"/investigation/cases/{case.pk}/outcome/", {"outcome": "recovered"}, **HTMX)
    assert r.status_code == 404
    r = c.post(f"/investigation/cases/{case.pk}/release/", {"released_at": "2020-01-01"}, **HTMX)
    assert r.status_code == 404


# --- Contact summary API ------------------------------------------------------------


def test_contact_summary_gives_the_strictest_category(
    city: Any, investigator: Any, case: Case
) -> None:
    person = make_person(city.xd_building2, name="李四")
    close = new_contact(investigator, person, case=case)
    other = new_contact(investigator, make_person(city.xd_building2), case=case)
    new_contact(investigator, person, contact=other, last=days_ago(1))
    r = client_for(investigator).get(f"/api/v1/people/{person.pk}/contact-summary")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["category"] == "close"
    assert body["open_ended"] is False
    assert {link["id"] for link in body["links"]} >= {close.pk}
    assert len(body["links"]) == 2
    assert body["monitoring_end"] == max(
        c.monitoring_end.isoformat()
        for c in Contact.objects.filter(person=person)
        if c.monitoring_end
    )


def test_contact_summary_of_someone_without_links_in_the_area(city: Any, investigator: Any) -> None:
    person = make_person(city.xd_building)
    body = client_for(investigator).get(f"/api/v1/people/{person.pk}/contact-summary").json()
    assert (body["category"], body["links"]) == (None, [])


def test_contact_summary_of_another_district_does_not_exist(
    city: Any, investigator: Any, yingze_officer: Any, case: Case
) -> None:
    person = make_person(city.xd_building2)
    new_contact(investigator, person, case=case)
    stranger = make_person(city.xd_building2)
    r = client_for(yingze_officer).get(f"/api/v1/people/{person.pk}/contact-summary")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    r = client_for(yingze_officer).get(f"/api/v1/people/{stranger.pk}/contact-summary")
    assert r.status_code == 404
    r = client_for(investigator).get("/api/v1/people/999999/contact-summary")
    assert r.status_code == 404
