"""Investigation overview (KPIs), chain graph, cluster list and onset timeline pages."""

import json
import re

import pytest

from fangkong.conftest import make_person
from fangkong.investigation.services.contacts import contact_promote_to_case
from fangkong.investigation.tests.casekit import days_ago, new_case, new_contact
from fangkong.investigation.tests.pages_support import en_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(city, investigator):
    """Case A infected B (a household contact who tested positive); C is A's contact."""
    a = new_case(investigator, make_person(city.xd_building, name="甲"), onset=days_ago(6))
    b_contact = new_contact(investigator, make_person(city.xd_building, name="乙"), case=a)
    b = contact_promote_to_case(
        actor=investigator,
        contact_id=b_contact.pk,
        classification="confirmed",
        report_date=days_ago(0),
        onset_date=days_ago(1),
    )
    new_contact(investigator, make_person(city.xd_building2, name="丙三"), case=a)
    return a, b


def _json(body, element_id):
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', body)
    assert found, element_id
    return json.loads(found.group(1))


def test_the_overview_shows_the_kpis_of_the_area(chain, investigator):
    r = en_client(investigator).get("/investigation/")
    body = r.content.decode()
    assert r.status_code == 200
    assert "Contacts per case (mean / median)" in body and "Active chains" in body
    kpis = re.sub(r"\s+", " ", body[body.index('data-testid="kpis"') :])
    assert '<p class="stat-value">2</p> <p class="stat-label">Cases (not excluded)' in kpis
    assert "50%" in kpis  # one of the two new cases was a known contact
    assert chain[0].number in body


def test_a_grid_worker_is_sent_from_the_overview_to_the_follow_ups(grid_worker):
    r = en_client(grid_worker).get("/investigation/")
    assert r.status_code == 302 and r["Location"] == "/investigation/followups/"


def test_the_chain_page_draws_infector_to_infectee_by_generation(chain, investigator):
    a, b = chain
    r = en_client(investigator).get(f"/investigation/cases/{b.pk}/chain/")
    body = r.content.decode()
    assert r.status_code == 200
    assert "vendor/echarts/echarts.min.js" in body and 'data-chart="chain"' in body
    graph = _json(body, "chain-data")
    cases = {n["id"]: n for n in graph["nodes"] if n["category"] != "contact"}
    assert cases[f"case-{a.pk}"]["generation"] == 1
    assert cases[f"case-{b.pk}"]["generation"] == 2 and cases[f"case-{b.pk}"]["current"]
    assert {"source": f"case-{a.pk}", "target": f"case-{b.pk}"} in graph["edges"]
    assert "甲" not in body and "乙" not in body  # case numbers only


def test_the_chain_of_a_case_shows_its_contacts_masked(chain, investigator):
    a, _b = chain
    body = en_client(investigator).get(f"/investigation/cases/{a.pk}/chain/").content.decode()
    graph = _json(body, "chain-data")
    contacts = [n for n in graph["nodes"] if n["category"] == "contact"]
    assert [n["name"] for n in contacts] == ["丙*"]


def test_the_cluster_list_shows_size_new_cases_and_generations(chain, investigator):
    r = en_client(investigator).get("/investigation/clusters/")
    body = r.content.decode()
    assert r.status_code == 200
    data = _json(body, "clusters-data")
    assert data["size"] == [2] and data["new"] == [2]
    row = re.sub(r"\s+", " ", body[body.index("<tbody>") :])
    assert '<td class="num">2</td> <td class="num">2</td> <td class="num">2</td>' in row


def test_the_cluster_list_of_another_district_is_empty(chain, yingze_officer):
    body = en_client(yingze_officer).get("/investigation/clusters/").content.decode()
    assert "No clusters of two or more cases in your area." in body


def test_the_timeline_counts_cases_by_onset_day(chain, investigator):
    r = en_client(investigator).get("/investigation/timeline/", {"disease": "covid19"})
    data = _json(r.content.decode(), "timeline-data")
    confirmed = next(s for s in data["series"] if s["name"] == "Confirmed")
    by_day = dict(zip(data["days"], confirmed["data"], strict=True))
    assert by_day[days_ago(6).isoformat()] == 1
    assert by_day[days_ago(1).isoformat()] == 1
    assert sum(confirmed["data"]) == 2


def test_the_timeline_of_another_district_counts_nothing(chain, yingze_officer):
    data = _json(
        en_client(yingze_officer).get("/investigation/timeline/").content.decode(),
        "timeline-data",
    )
    assert data["series"] == []


def test_chart_pages_need_case_rights(grid_worker):
    c = en_client(grid_worker)
    assert c.get("/investigation/clusters/").status_code == 403
    assert c.get("/investigation/timeline/").status_code == 403


def test_a_cluster_page_draws_all_its_cases(chain, investigator, yingze_officer):
    a, b = chain
    cluster_id = b.cluster_id
    assert cluster_id is not None
    r = en_client(investigator).get(f"/investigation/clusters/{cluster_id}/")
    body = r.content.decode()
    assert r.status_code == 200 and f"Cluster #{cluster_id}" in body
    graph = _json(body, "chain-data")
    assert {n["name"] for n in graph["nodes"]} == {a.number, b.number}
    assert graph["edges"] == [{"source": f"case-{a.pk}", "target": f"case-{b.pk}"}]
    r = en_client(yingze_officer).get(f"/investigation/clusters/{cluster_id}/")
    assert r.status_code == 404
