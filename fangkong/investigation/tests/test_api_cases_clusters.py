"""API: clusters, chains, KPIs."""

from typing import Any

import pytest

from fangkong.conftest import client_for, make_person
from fangkong.investigation.models import Case, Cluster
from fangkong.investigation.services.contacts import contact_promote_to_case
from fangkong.investigation.tests.casekit import days_ago, new_case, new_contact

J = "application/json"


@pytest.fixture
def chain(city: Any, investigator: Any) -> tuple[Case, Case]:
    a = new_case(investigator, make_person(city.xd_building))
    c = new_contact(investigator, make_person(city.xd_building2), case=a)
    b = contact_promote_to_case(
        actor=investigator,
        contact_id=c.pk,
        classification="confirmed",
        report_date=days_ago(0),
        onset_date=days_ago(1),
    )
    a.refresh_from_db()
    b.refresh_from_db()
    return a, b


def test_it_lists_clusters_and_shows_one_with_its_graph(investigator: Any, chain: Any) -> None:
    a, b = chain
    c = client_for(investigator)
    items = c.get("/api/v1/clusters").json()["items"]
    assert [(i["id"], i["case_count"], i["new_cases_7d"]) for i in items] == [(a.cluster_id, 2, 2)]
    detail = c.get(f"/api/v1/clusters/{a.cluster_id}").json()
    assert detail["graph"]["edges"] == [{"source": a.pk, "target": b.pk}]
    assert detail["graph"]["generations"] == 2


def test_it_shows_the_chain_of_a_case(investigator: Any, chain: Any) -> None:
    a, b = chain
    body = client_for(investigator).get(f"/api/v1/cases/{b.pk}/chain").json()
    assert {n["id"]: n["generation"] for n in body["nodes"]} == {a.pk: 1, b.pk: 2}
    assert body["cluster_id"] == a.cluster_id


def test_cluster_list_refuses_bad_filters(investigator: Any) -> None:
    r = client_for(investigator).get("/api/v1/clusters?active_since=lately")
    assert r.status_code == 400
    assert "active_since" in r.json()["error"]["fields"]


def test_clusters_and_chains_of_another_district_are_404(yingze_officer: Any, chain: Any) -> None:
    a, b = chain
    c = client_for(yingze_officer)
    assert c.get("/api/v1/clusters").json()["items"] == []
    assert c.get(f"/api/v1/clusters/{a.cluster_id}").status_code == 404
    assert c.get(f"/api/v1/cases/{b.pk}/chain").status_code == 404


def test_it_creates_names_assigns_and_fills_a_named_cluster(
    investigator: Any, commander: Any, chain: Any
) -> None:
    a, b = chain
    c = client_for(investigator)
    r = c.post("/api/v1/clusters", {"name": "坞城夜市"}, content_type=J)
    assert r.status_code == 201, r.content
    event = r.json()["id"]
    r = c.post(f"/api/v1/clusters/{event}/cases", {"case_id": a.pk}, content_type=J)
    assert r.json()["cluster_id"] == event
    assert Case.objects.get(pk=b.pk).cluster_id == event  # the chain joined the event
    r = c.post(f"/api/v1/clusters/{event}/name", {"name": "坞城夜市聚集"}, content_type=J)
    assert r.json()["name"] == "坞城夜市聚集"
    r = client_for(commander).post(
        f"/api/v1/clusters/{event}/assign", {"investigator_id": investigator.pk}, content_type=J
    )
    assert r.json()["assigned_to_id"] == investigator.pk


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("", {"name": ""}, "name"),
        ("", {"name": "x", "disease_code": "ebola-x"}, "disease_code"),
        ("/{id}/name", {"name": "x" * 201}, "name"),
        ("/{id}/assign", {"investigator_id": 999999}, "investigator_id"),
        ("/{id}/cases", {"case_id": "one"}, "case_id"),
    ],
)
def test_cluster_writes_refuse_bad_input(
    investigator: Any, chain: Any, path: str, payload: dict[str, Any], field: str
) -> None:
    a, _b = chain
    before = list(Cluster.objects.values_list("id", "name", "assigned_to_id"))
    r = client_for(investigator).post(
        "/api/v1/clusters" + path.format(id=a.cluster_id), payload, content_type=J
    )
    assert r.status_code == 400, r.content
    assert field in r.json()["error"]["fields"]
    assert list(Cluster.objects.values_list("id", "name", "assigned_to_id")) == before


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/{id}/name", {"name": "x"}),
        ("/{id}/assign", {"investigator_id": None}),
        ("/{id}/cases", {"case_id": 1}),
    ],
)
def test_cluster_writes_in_another_district_are_404(
    yingze_officer: Any, chain: Any, path: str, payload: dict[str, Any]
) -> None:
    a, _b = chain
    r = client_for(yingze_officer).post(
        "/api/v1/clusters" + path.format(id=a.cluster_id), payload, content_type=J
    )
    assert r.status_code == 404
    assert Cluster.objects.get(pk=a.cluster_id).name == ""


def test_kpis(investigator: Any, chain: Any) -> None:
    body = client_for(investigator).get("/api/v1/investigation/kpis?disease=covid19").json()
    assert body["cases"] == 2
    assert body["new_cases_known_contacts"] == 1
    assert body["active_chains"] == 1


def test_kpis_refuse_bad_input_and_are_empty_elsewhere(yingze_officer: Any, chain: Any) -> None:
    c = client_for(yingze_officer)
    r = c.get("/api/v1/investigation/kpis?day=today")
    assert r.status_code == 400
    assert "day" in r.json()["error"]["fields"]
    assert c.get("/api/v1/investigation/kpis").json()["cases"] == 0
