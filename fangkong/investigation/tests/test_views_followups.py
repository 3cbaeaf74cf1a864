"""The daily follow-up list and its quick form per row."""

import pytest

from fangkong.conftest import make_person
from fangkong.investigation.models import Case, FollowUp
from fangkong.investigation.services.followup import followup_generate_daily, followup_team_create
from fangkong.investigation.tests.casekit import new_case, new_contact
from fangkong.investigation.tests.pages_support import HTMX, en_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def followups(city, investigator, xiaodian_officer, grid_worker):
    team = followup_team_create(
        actor=xiaodian_officer,
        name="坞城随访组",
        jurisdiction_id=city.xd_grid.pk,
        member_ids=[grid_worker.pk],
    )
    case = new_case(investigator, make_person(city.xd_building, name="病例甲"))
    for name in ("密接一", "密接二"):
        new_contact(investigator, make_person(city.xd_building2, name=name), case=case)
    followup_generate_daily()
    assert FollowUp.objects.filter(team=team).count() == 2
    return list(FollowUp.objects.order_by("id"))


def test_a_grid_worker_sees_the_follow_ups_of_their_team(followups, grid_worker):
    r = en_client(grid_worker).get("/investigation/followups/")
    body = r.content.decode()
    assert r.status_code == 200
    assert "密接一" in body and "密接二" in body and "Seen, well" in body


def test_someone_outside_the_teams_sees_them_only_in_the_whole_area_view(followups, investigator):
    c = en_client(investigator)
    assert "密接一" not in c.get("/investigation/followups/").content.decode()
    assert "密接一" in c.get("/investigation/followups/", {"all": "1"}).content.decode()


def test_another_district_sees_none_and_cannot_record(followups, yingze_officer):
    c = en_client(yingze_officer)
    assert "密接一" not in c.get("/investigation/followups/", {"all": "1"}).content.decode()
    fu = followups[0]
    r = c.post(f"/investigation/followups/{fu.pk}/", {f"fu{fu.pk}-status": "seen_well"}, **HTMX)
    assert r.status_code == 404


def test_seen_well_is_recorded_in_place(followups, grid_worker):
    fu = followups[0]
    r = en_client(grid_worker).post(
        f"/investigation/followups/{fu.pk}/", {f"fu{fu.pk}-status": "seen_well"}, **HTMX
    )
    assert r.status_code == 200 and f'id="fu-{fu.pk}"' in r.content.decode()
    fu.refresh_from_db()
    assert fu.status == "seen_well" and fu.recorded_by == grid_worker


def test_symptoms_without_details_are_refused_inline(followups, grid_worker):
    fu = followups[0]
    r = en_client(grid_worker).post(
        f"/investigation/followups/{fu.pk}/", {f"fu{fu.pk}-status": "seen_with_symptoms"}, **HTMX
    )
    assert r.status_code == 422
    assert "Record the symptoms or the temperature." in r.content.decode()
    fu.refresh_from_db()
    assert fu.status == "not_attempted"


def test_seen_with_symptoms_opens_a_suspected_case(followups, grid_worker):
    fu = followups[1]
    r = en_client(grid_worker).post(
        f"/investigation/followups/{fu.pk}/",
        {
            f"fu{fu.pk}-status": "seen_with_symptoms",
            f"fu{fu.pk}-symptoms": "cough, fever",
            f"fu{fu.pk}-temperature": "38.2",
        },
        **HTMX,
    )
    body = r.content.decode()
    assert r.status_code == 200
    opened = Case.objects.get(person=fu.contact.person)
    assert opened.classification == "suspected"
    assert opened.number in body and "A suspected case was opened" in body
    fu.refresh_from_db()
    assert fu.symptoms == ["cough", "fever"] and str(fu.temperature) == "38.2"


def test_a_plain_post_returns_to_the_list(followups, grid_worker):
    fu = followups[0]
    r = en_client(grid_worker).post(
        f"/investigation/followups/{fu.pk}/", {f"fu{fu.pk}-status": "not_reached"}
    )
    assert r.status_code == 302 and r["Location"] == "/investigation/followups/"
