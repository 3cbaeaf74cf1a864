"""Case list, new case and the case page: classification, investigation status,
trajectory stops, matching, match decisions and contacts."""

import pytest
from django.urls import reverse

from fangkong.conftest import make_person
from fangkong.core.models import Person
from fangkong.investigation.models import Case, Contact, ExposureMatch, TrajectoryStop
from fangkong.investigation.services.matching import match_case
from fangkong.investigation.tests.casekit import days_ago, new_case, new_contact
from fangkong.investigation.tests.checkins_support import make_checkin, make_stop, make_venue
from fangkong.investigation.tests.pages_support import HTMX, en_client, form_time, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(city):
    return make_person(city.xd_building, name="王芳")


@pytest.fixture
def case(patient, investigator):
    return new_case(investigator, patient, onset=days_ago(3), reported=days_ago(1))


@pytest.fixture
def yz_case(city, yingze_officer):
    person = make_person(city.yz_building, name="迎泽病例", region="140106")
    return new_case(yingze_officer, person)


# --- Access ---------------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_sign_in(client, case):
    for url in ("/investigation/", "/investigation/cases/", f"/investigation/cases/{case.pk}/"):
        r = client.get(url)
        assert r.status_code == 302
        assert r["Location"].startswith("/login/?next=")


def test_a_case_of_another_district_does_not_exist(case, yz_case, investigator):
    c = en_client(investigator)
    assert c.get(f"/investigation/cases/{case.pk}/").status_code == 200
    assert c.get(f"/investigation/cases/{yz_case.pk}/").status_code == 404
    assert c.get(f"/investigation/cases/{yz_case.pk}/chain/").status_code == 404
    r = c.post(f"/investigation/cases/{yz_case.pk}/match/", **HTMX)
    assert r.status_code == 404


def test_a_user_without_case_rights_is_refused(case, auditor):
    assert en_client(auditor).get(f"/investigation/cases/{case.pk}/").status_code == 403


def test_the_navigation_shows_investigation_only_to_users_who_may_see_it(
    investigator, grid_worker, auditor
):
    assert "/investigation/" in en_client(investigator).get(reverse("core:home")).content.decode()
    assert "/investigation/" in en_client(grid_worker).get(reverse("core:home")).content.decode()
    assert "/investigation/" not in en_client(auditor).get(reverse("core:home")).content.decode()


# --- List and new case -------------------------------------------------------------


def test_the_case_list_shows_cases_in_scope_and_filters_them(case, yz_case, investigator, city):
    c = en_client(investigator)
    page = c.get("/investigation/cases/").content.decode()
    assert case.number in page and yz_case.number not in page
    page = c.get("/investigation/cases/", {"classification": "suspected"}).content.decode()
    assert case.number not in page
    page = c.get(
        "/investigation/cases/", {"district": city.xiaodian.pk, "disease": "covid19"}
    ).content.decode()
    assert case.number in page
    # Another district is not offered: refused as a filter, nothing shown.
    r = c.get("/investigation/cases/", {"district": city.yingze.pk})
    assert r.status_code == 422 and yz_case.number not in r.content.decode()


def test_the_case_list_answers_htmx_with_the_table_only(case, investigator):
    r = en_client(investigator).get("/investigation/cases/", {"q": case.number[:6]}, **HTMX)
    body = r.content.decode()
    assert r.status_code == 200 and case.number in body and "<html" not in body


def test_the_case_list_pages_without_counting(patient, investigator, city):
    for i in range(26):
        person = make_person(city.xd_building2, name=f"病例{i}")
        new_case(investigator, person)
    c = en_client(investigator)
    first = c.get("/investigation/cases/").content.decode()
    assert 'rel="next"' in first
    second = c.get("/investigation/cases/", {"page": 2}).content.decode()
    assert 'rel="prev"' in second and 'rel="next"' not in second


def test_a_new_case_is_created_for_a_person_found_by_search(patient, investigator):
    c = en_client(investigator)
    r = c.get("/investigation/pick/people/", {"q": "王"})
    assert "王芳" in r.content.decode()
    r = c.post(
        "/investigation/cases/new/",
        {
            "person_id": patient.pk,
            "disease_code": "covid19",
            "classification": "suspected",
            "report_date": days_ago(0).isoformat(),
            "found_by": "fever_clinic",
            "severity": "mild",
            "treatment_facility": "none",
        },
    )
    case = Case.objects.get(person=patient)
    assert r.status_code == 302 and r["Location"] == f"/investigation/cases/{case.pk}/"
    assert case.classification == "suspected" and case.found_by == "fever_clinic"


def test_a_new_case_can_register_its_person(investigator):
    from fangkong.core.identity import make_prc_id

    doc = make_prc_id("140105", days_ago(365 * 30), 7)
    r = en_client(investigator).post(
        "/investigation/cases/new/",
        {
            "doc_type": "prc_id",
            "doc_number": doc,
            "name": "新登记",
            "disease_code": "covid19",
            "classification": "suspected",
            "report_date": days_ago(0).isoformat(),
            "found_by": "screening",
            "severity": "none",
            "treatment_facility": "none",
        },
    )
    assert r.status_code == 302
    person = Person.objects.get(name="新登记")
    assert Case.objects.filter(person=person).exists()


def test_a_new_case_with_bad_dates_shows_the_errors_inline(patient, investigator):
    r = en_client(investigator).post(
        "/investigation/cases/new/",
        {
            "person_id": patient.pk,
            "disease_code": "covid19",
            "classification": "asymptomatic",
            "report_date": days_ago(-3).isoformat(),
            "found_by": "screening",
            "severity": "none",
            "treatment_facility": "none",
        },
    )
    body = r.content.decode()
    assert r.status_code == 422
    assert "This date is in the future." in body
    assert "first positive sample" in body
    assert not Case.objects.exists()


def test_a_new_case_without_a_person_says_what_is_missing(investigator):
    r = en_client(investigator).post(
        "/investigation/cases/new/",
        {
            "disease_code": "covid19",
            "classification": "suspected",
            "report_date": days_ago(0).isoformat(),
            "found_by": "screening",
            "severity": "none",
            "treatment_facility": "none",
        },
    )
    assert r.status_code == 422
    assert "Choose a person found above" in r.content.decode()


# --- Case page sections ----------------------------------------------------------------


def test_the_case_page_shows_details_and_sections(case, investigator):
    body = en_client(investigator).get(f"/investigation/cases/{case.pk}/").content.decode()
    assert case.number in body and "王芳" in body
    for text in ("Trajectory", "Run matching", "Add a stop", "Add a contact"):
        assert text in body
    assert "Exclude" in body  # confirmed → excluded is the only transition


def test_excluding_needs_a_reason_shown_inline(patient, investigator):
    case = new_case(investigator, patient, classification="suspected")
    c = en_client(investigator)
    url = f"/investigation/cases/{case.pk}/classify/"
    r = c.post(url, {"classification": "excluded", "reason": ""}, **HTMX)
    assert r.status_code == 422 and "Say why the case is excluded." in r.content.decode()
    case.refresh_from_db()
    assert case.classification == "suspected"
    r = c.post(url, {"classification": "confirmed"}, **HTMX)
    assert r.status_code == 200 and 'id="case-summary"' in r.content.decode()
    case.refresh_from_db()
    assert case.classification == "confirmed"
    r = c.post(url, {"classification": "excluded", "reason": "negative retest"}, **HTMX)
    case.refresh_from_db()
    assert case.classification == "excluded"


def test_status_and_investigator_are_saved_through_the_services(case, investigator):
    r = en_client(investigator).post(
        f"/investigation/cases/{case.pk}/investigation/",
        {"status": "in_progress", "investigator_id": investigator.pk},
        **HTMX,
    )
    assert r.status_code == 200
    case.refresh_from_db()
    assert case.investigation_status == "in_progress" and case.investigator == investigator
    assert "investigator" in r.content.decode()


def test_a_venue_stop_is_added_and_listed(case, investigator, city):
    venue = make_venue(city.xd_building, name="坞城超市")
    c = en_client(investigator)
    picker = c.get("/investigation/pick/venues/", {"venue_q": "坞城"}).content.decode()
    assert "坞城超市" in picker
    r = c.post(
        f"/investigation/cases/{case.pk}/stops/",
        {
            "kind": "venue",
            "venue_id": venue.pk,
            "start": form_time(local(2, 10)),
            "end": form_time(local(2, 11)),
        },
        **HTMX,
    )
    assert r.status_code == 200
    assert "坞城超市" in r.content.decode()
    stop = TrajectoryStop.objects.get(case=case)
    assert stop.venue == venue and stop.start == local(2, 10)


def test_stop_times_in_the_future_or_reversed_are_refused_inline(case, investigator):
    c = en_client(investigator)
    url = f"/investigation/cases/{case.pk}/stops/"
    r = c.post(
        url,
        {
            "kind": "address",
            "address": "坞城路 1 号",
            "start": form_time(local(-1, 10)),
            "end": form_time(local(-1, 11)),
        },
        **HTMX,
    )
    assert r.status_code == 422 and "This time is in the future." in r.content.decode()
    r = c.post(
        url,
        {
            "kind": "address",
            "address": "坞城路 1 号",
            "start": form_time(local(2, 11)),
            "end": form_time(local(2, 10)),
        },
        **HTMX,
    )
    assert r.status_code == 422 and "The end is before the start." in r.content.decode()
    assert not TrajectoryStop.objects.exists()


def test_a_plain_post_of_a_stop_goes_back_to_the_case_page(case, investigator):
    r = en_client(investigator).post(
        f"/investigation/cases/{case.pk}/stops/",
        {
            "kind": "transport",
            "transport_mode": "train",
            "transport_number": "g91",
            "start": form_time(local(2, 8)),
            "end": form_time(local(2, 12)),
        },
    )
    assert r.status_code == 302
    assert TrajectoryStop.objects.get(case=case).transport_number == "G91"


def _exposed(case, city):
    venue = make_venue(city.xd_building, name="坞城超市")
    make_stop(case, venue, local(2, 10), local(2, 11))
    other = make_person(city.xd_building2, name="李明")
    make_checkin(venue, other, local(2, 10, 20))
    return other


def test_running_matching_lists_the_exposed_people_masked(case, investigator, city):
    _exposed(case, city)
    r = en_client(investigator).post(f"/investigation/cases/{case.pk}/match/", **HTMX)
    body = r.content.decode()
    assert r.status_code == 200
    assert "李*" in body and "李明" not in body
    assert "坞城超市" in body and "Confirm" in body
    assert ExposureMatch.objects.filter(case=case, status="pending").count() == 1


def test_confirming_a_match_adds_the_contact_to_the_case(case, investigator, city):
    other = _exposed(case, city)
    match_case(actor=investigator, case_id=case.pk)
    match = ExposureMatch.objects.get(case=case)
    r = en_client(investigator).post(f"/investigation/matches/{match.pk}/confirm/", **HTMX)
    body = r.content.decode()
    assert r.status_code == 200
    assert 'id="contacts"' in body and 'hx-swap-oob="true"' in body
    assert "Venue-exposed person" in body
    contact = Contact.objects.get(source_case=case)
    assert contact.person == other and contact.match == match
    match.refresh_from_db()
    assert match.status == "confirmed"


def test_dismissing_a_match_needs_a_reason(case, investigator, city):
    _exposed(case, city)
    match_case(actor=investigator, case_id=case.pk)
    match = ExposureMatch.objects.get(case=case)
    c = en_client(investigator)
    r = c.post(f"/investigation/matches/{match.pk}/dismiss/", {"reason": ""}, **HTMX)
    assert r.status_code == 422 and "Say why the match is dismissed." in r.content.decode()
    r = c.post(f"/investigation/matches/{match.pk}/dismiss/", {"reason": "staff"}, **HTMX)
    assert r.status_code == 200
    match.refresh_from_db()
    assert match.status == "dismissed"
    assert not Contact.objects.exists()


def test_a_match_of_another_district_does_not_exist(yz_case, investigator, commander, city):
    venue = make_venue(city.yz_building, name="柳巷商场")
    make_stop(yz_case, venue, local(2, 10), local(2, 11))
    make_checkin(venue, make_person(city.yz_building, name="路人", region="140106"), local(2, 10))
    match_case(actor=commander, case_id=yz_case.pk)
    match = ExposureMatch.objects.get(case=yz_case)
    r = en_client(investigator).post(f"/investigation/matches/{match.pk}/confirm/", **HTMX)
    assert r.status_code == 404


def test_a_named_household_contact_is_added(case, investigator, city):
    mother = make_person(city.xd_building, name="王母")
    r = en_client(investigator).post(
        f"/investigation/cases/{case.pk}/contacts/",
        {
            "person_id": mother.pk,
            "exposure_type": "household",
            "relation": "mother",
            "first_exposure": days_ago(4).isoformat(),
            "last_exposure": days_ago(1).isoformat(),
            "continuous_exposure": "on",
        },
        **HTMX,
    )
    body = r.content.decode()
    assert r.status_code == 200
    assert "王母" in body and "Close contact" in body and "Until the case is released" in body
    contact = Contact.objects.get(person=mother)
    assert contact.category == "close" and contact.continuous_exposure


def test_a_secondary_contact_is_traced_from_a_close_contact(case, investigator, city):
    mother = make_person(city.xd_building, name="王母")
    close = new_contact(investigator, mother, case=case, first=days_ago(3), last=days_ago(2))
    friend = make_person(city.xd_building2, name="赵友")
    r = en_client(investigator).post(
        f"/investigation/cases/{case.pk}/contacts/",
        {
            "person_id": friend.pk,
            "source_contact_id": close.pk,
            "exposure_type": "other",
            "first_exposure": days_ago(2).isoformat(),
            "last_exposure": days_ago(1).isoformat(),
        },
        **HTMX,
    )
    assert r.status_code == 200
    body = r.content.decode()
    assert "Secondary contact" in body and "via 王母" in body


def test_contact_errors_are_shown_inline(case, investigator, patient):
    c = en_client(investigator)
    url = f"/investigation/cases/{case.pk}/contacts/"
    r = c.post(
        url,
        {
            "exposure_type": "household",
            "first_exposure": days_ago(1).isoformat(),
            "last_exposure": days_ago(2).isoformat(),
        },
        **HTMX,
    )
    assert r.status_code == 422 and "Choose the person in the search above." in r.content.decode()
    r = c.post(
        url,
        {
            "person_id": patient.pk,
            "exposure_type": "household",
            "first_exposure": days_ago(2).isoformat(),
            "last_exposure": days_ago(1).isoformat(),
        },
        **HTMX,
    )
    assert r.status_code == 422
    assert "A person cannot be their own contact." in r.content.decode()
    assert not Contact.objects.exists()


def test_an_early_exposure_is_recorded_with_a_warning(case, investigator, city):
    early = make_person(city.xd_building, name="早接触")
    r = en_client(investigator).post(
        f"/investigation/cases/{case.pk}/contacts/",
        {
            "person_id": early.pk,
            "exposure_type": "workplace",
            "first_exposure": days_ago(20).isoformat(),
            "last_exposure": days_ago(19).isoformat(),
        },
        **HTMX,
    )
    assert r.status_code == 200
    assert "before the case became infectious" in r.content.decode()


def test_the_pickers_offer_only_people_and_venues_of_the_users_area(investigator, city):
    make_person(city.xd_building, name="王小店")
    make_person(city.yz_building, name="王迎泽", region="140106")
    make_venue(city.xd_building, name="坞城超市")
    make_venue(city.yz_building, name="柳巷超市")
    c = en_client(investigator)
    people = c.get("/investigation/pick/people/", {"q": "王"}).content.decode()
    assert "王小店" in people and "王迎泽" not in people
    venues = c.get("/investigation/pick/venues/", {"venue_q": "超市"}).content.decode()
    assert "坞城超市" in venues and "柳巷超市" not in venues
    assert 'name="venue_id"' in venues


def test_the_case_page_says_when_infectiousness_began_by_the_rules_one_definition(
    case, investigator, monkeypatch
):
    """The page recomputed the rule itself: a change to infectious_period_start (the
    one definition matching uses) did not reach what the investigator reads."""
    import datetime as dt

    from fangkong.investigation.services import rules

    seen = []

    def rule(r, *, onset_date, first_positive_date):
        seen.append((r.pk, onset_date, first_positive_date))
        return dt.date(2020, 1, 23)

    monkeypatch.setattr(rules, "infectious_period_start", rule)
    page = en_client(investigator).get(reverse("investigation:case", args=[case.pk]))
    assert "2020-01-23" in page.content.decode()
    assert seen == [(case.rules_id, case.onset_date, case.first_positive_date)]


def test_no_unscoped_case_access_is_left():
    """``access_case_or_404`` found any case by id, outside the user's area, and
    nothing used it: the scoped ``access_case_by_id`` is the one way."""
    from fangkong.investigation.services import cases

    assert not hasattr(cases, "access_case_or_404")
