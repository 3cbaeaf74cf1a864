import datetime as dt
from typing import Any

import pytest

from fangkong.conftest import make_person
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.models import AuditEntry
from fangkong.investigation.models import Contact
from fangkong.investigation.selectors.contacts import contact_person_summary
from fangkong.investigation.services.cases import case_classify, case_release
from fangkong.investigation.services.contacts import contact_promote_to_case, contact_set_status
from fangkong.investigation.tests.casekit import days_ago, new_case, new_contact


@pytest.fixture
def case(city: Any, investigator: Any) -> Any:
    return new_case(investigator, make_person(city.xd_building, name="病例"), onset=days_ago(3))


def test_a_contact_of_a_case_is_a_close_contact_monitored_from_last_exposure(
    city: Any, investigator: Any, case: Any
) -> None:
    c = new_contact(investigator, make_person(city.xd_building2), case=case, last=days_ago(2))
    assert c.category == "close"
    assert c.status == "monitoring"
    assert c.monitoring_end == days_ago(2) + dt.timedelta(days=8)  # COVID v1: 8 days
    assert c.rules.version == 1
    assert c.warning == ""


def test_a_venue_exposure_is_venue_exposed_unless_marked_close(
    city: Any, investigator: Any, case: Any
) -> None:
    a = new_contact(investigator, make_person(city.xd_building2), case=case, exposure_type="venue")
    b = new_contact(
        investigator,
        make_person(city.xd_building2),
        case=case,
        exposure_type="venue",
        category="close",
    )
    assert a.category == "venue_exposed"
    assert a.monitoring_end == days_ago(2) + dt.timedelta(days=7)
    assert b.category == "close"


def test_a_contact_of_a_close_contact_is_a_secondary_contact(
    city: Any, investigator: Any, case: Any
) -> None:
    close = new_contact(investigator, make_person(city.xd_building2), case=case, first=days_ago(3))
    second = new_contact(
        investigator,
        make_person(city.xd_building2),
        contact=close,
        first=days_ago(2),
        last=days_ago(1),
    )
    assert second.category == "secondary"
    assert second.monitoring_end == days_ago(1) + dt.timedelta(days=7)


def test_secondary_contacts_count_only_after_the_close_contacts_own_exposure(
    city: Any, investigator: Any, case: Any
) -> None:
    close = new_contact(investigator, make_person(city.xd_building2), case=case, first=days_ago(2))
    with pytest.raises(ValidationFailed) as exc:
        new_contact(
            investigator,
            make_person(city.xd_building2),
            contact=close,
            first=days_ago(5),
            last=days_ago(4),
        )
    assert "last_exposure" in exc.value.fields
    assert Contact.objects.count() == 1


def test_there_are_no_contacts_of_secondary_contacts(
    city: Any, investigator: Any, case: Any
) -> None:
    close = new_contact(investigator, make_person(city.xd_building2), case=case)
    second = new_contact(investigator, make_person(city.xd_building2), contact=close)
    with pytest.raises(ValidationFailed) as exc:
        new_contact(investigator, make_person(city.xd_building2), contact=second)
    assert "source_contact_id" in exc.value.fields


def test_a_person_cannot_be_their_own_contact(city: Any, investigator: Any, case: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        new_contact(investigator, case.person, case=case)
    assert "person_id" in exc.value.fields
    close = new_contact(investigator, make_person(city.xd_building2), case=case)
    with pytest.raises(ValidationFailed):
        new_contact(investigator, close.person, contact=close)


def test_it_refuses_future_or_reversed_exposure_dates(
    city: Any, investigator: Any, case: Any
) -> None:
    person = make_person(city.xd_building2)
    with pytest.raises(ValidationFailed) as exc:
        new_contact(investigator, person, case=case, first=days_ago(1), last=days_ago(-1))
    assert set(exc.value.fields) == {"last_exposure"}
    with pytest.raises(ValidationFailed) as exc:
        new_contact(investigator, person, case=case, first=days_ago(1), last=days_ago(2))
    assert set(exc.value.fields) == {"last_exposure"}


def test_an_exposure_before_the_infectious_period_is_warned_not_refused(
    city: Any, investigator: Any, case: Any
) -> None:
    # onset 3 days ago, infectious from 5 days ago (onset − 2)
    c = new_contact(
        investigator, make_person(city.xd_building2), case=case, first=days_ago(9), last=days_ago(6)
    )
    assert days_ago(6).isoformat() in c.warning  # the last exposure
    assert days_ago(5).isoformat() in c.warning  # the start of the infectious period
    ok = new_contact(
        investigator, make_person(city.xd_building2), case=case, first=days_ago(6), last=days_ago(5)
    )
    assert ok.warning == ""


def test_asymptomatic_cases_are_infectious_from_the_first_positive_sample(
    city: Any, investigator: Any
) -> None:
    from fangkong.investigation.services.cases import case_create

    asym = case_create(
        actor=investigator,
        person_id=make_person(city.xd_building).pk,
        disease_code="covid19",
        classification="asymptomatic",
        first_positive_date=days_ago(2),
        report_date=days_ago(1),
        found_by="screening",
    )
    early = new_contact(
        investigator, make_person(city.xd_building2), case=asym, first=days_ago(6), last=days_ago(5)
    )
    assert early.warning
    fine = new_contact(
        investigator, make_person(city.xd_building2), case=asym, first=days_ago(4), last=days_ago(4)
    )
    assert fine.warning == ""


def test_continuous_exposure_stays_open_until_the_case_is_released(
    city: Any, investigator: Any, case: Any
) -> None:
    c = new_contact(
        investigator,
        make_person(city.xd_building),
        case=case,
        continuous_exposure=True,
        relation="spouse",
    )
    assert c.monitoring_end is None
    case_release(actor=investigator, case_id=case.pk, released_at=days_ago(0))
    c.refresh_from_db()
    assert c.last_exposure == days_ago(0)
    assert c.monitoring_end == days_ago(0) + dt.timedelta(days=8)


def test_a_person_who_is_both_keeps_both_links_and_the_stricter_category(
    city: Any, investigator: Any, case: Any
) -> None:
    other_case = new_case(investigator, make_person(city.xd_building))
    close = new_contact(investigator, make_person(city.xd_building2), case=other_case)
    person = make_person(city.xd_building2)
    new_contact(investigator, person, contact=close)
    summary = contact_person_summary(investigator, person.pk)
    assert summary.category == "secondary"
    new_contact(investigator, person, case=case, exposure_type="venue")
    assert contact_person_summary(investigator, person.pk).category == "secondary"
    new_contact(investigator, person, case=case, exposure_type="workplace")
    summary = contact_person_summary(investigator, person.pk)
    assert summary.category == "close"
    assert len(summary.links) == 3


def test_a_contact_who_becomes_a_case_promotes_their_contacts(
    city: Any, investigator: Any, case: Any
) -> None:
    close = new_contact(investigator, make_person(city.xd_building2), case=case, first=days_ago(3))
    second = new_contact(
        investigator,
        make_person(city.xd_building2),
        contact=close,
        first=days_ago(2),
        last=days_ago(1),
    )
    new_case_ = contact_promote_to_case(
        actor=investigator,
        contact_id=close.pk,
        classification="confirmed",
        onset_date=days_ago(1),
        report_date=days_ago(0),
    )
    close.refresh_from_db()
    second.refresh_from_db()
    assert new_case_.source_contact == close
    assert close.status == "became_case"
    assert second.category == "close"
    assert second.source_case == new_case_
    assert second.source_contact == close  # the history stays
    assert second.monitoring_end == days_ago(1) + dt.timedelta(days=8)
    entry = AuditEntry.objects.get(action="contact.promote", object_id=str(second.pk))
    assert entry.changes["category"] == ["secondary", "close"]
    # The chain: both cases now form one cluster.
    case.refresh_from_db()
    assert case.cluster_id is not None
    assert case.cluster_id == new_case_.cluster_id


def test_a_suspected_case_from_a_contact_promotes_only_once_confirmed(
    city: Any, investigator: Any, case: Any
) -> None:
    close = new_contact(investigator, make_person(city.xd_building2), case=case, first=days_ago(3))
    second = new_contact(
        investigator, make_person(city.xd_building2), contact=close, first=days_ago(2)
    )
    suspect = contact_promote_to_case(
        actor=investigator, contact_id=close.pk, classification="suspected", report_date=days_ago(0)
    )
    close.refresh_from_db()
    second.refresh_from_db()
    assert close.status == "monitoring"
    assert second.category == "secondary"
    case_classify(actor=investigator, case_id=suspect.pk, classification="confirmed")
    close.refresh_from_db()
    second.refresh_from_db()
    assert close.status == "became_case"
    assert second.category == "close"


def test_contacts_are_closed_by_hand_as_completed_or_lost(
    city: Any, investigator: Any, case: Any
) -> None:
    c = new_contact(investigator, make_person(city.xd_building2), case=case)
    with pytest.raises(ValidationFailed):
        contact_set_status(actor=investigator, contact_id=c.pk, status="became_case")
    contact_set_status(actor=investigator, contact_id=c.pk, status="lost")
    c.refresh_from_db()
    assert c.status == "lost"


def test_the_same_link_is_not_recorded_twice(city: Any, investigator: Any, case: Any) -> None:
    person = make_person(city.xd_building2)
    new_contact(investigator, person, case=case)
    with pytest.raises(Conflict):
        new_contact(investigator, person, case=case)


def test_a_case_of_another_district_does_not_exist(
    city: Any, investigator: Any, yingze_officer: Any
) -> None:
    yz_case = new_case(yingze_officer, make_person(city.yz_building))
    with pytest.raises(NotFound):
        new_contact(investigator, make_person(city.xd_building), case=yz_case)


def test_a_known_contact_reported_as_a_case_is_linked_to_the_contact(
    city: Any, investigator: Any, case: Any
) -> None:
    person = make_person(city.xd_building2)
    venue = new_contact(investigator, person, case=case, exposure_type="venue")
    close = new_contact(investigator, person, case=case, exposure_type="workplace")
    reported = new_case(investigator, person, onset=days_ago(1), reported=days_ago(0))
    assert reported.source_contact_id == close.pk
    venue.refresh_from_db()
    close.refresh_from_db()
    assert (venue.status, close.status) == ("became_case", "became_case")
    with pytest.raises(ValidationFailed) as exc:
        contact_promote_to_case(
            actor=investigator,
            contact_id=close.pk,
            classification="confirmed",
            report_date=days_ago(0),
        )
    assert "source_contact_id" in exc.value.fields
