from typing import Any

import networkx as nx
import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.conftest import make_person, make_staff
from fangkong.core.errors import NotFound, ValidationFailed
from fangkong.core.models import common_path
from fangkong.investigation.models import Case, Cluster, Contact, Disease
from fangkong.investigation.selectors.clusters import (
    case_chain,
    cluster_list_for,
    investigation_kpis,
)
from fangkong.investigation.services.clusters import (
    cluster_add_case,
    cluster_assign,
    cluster_create_named,
    cluster_link_case,
    cluster_name,
    cluster_recompute,
)
from fangkong.investigation.services.contacts import contact_promote_to_case
from fangkong.investigation.services.rules import rules_in_force
from fangkong.investigation.tests.casekit import days_ago, new_case, new_contact


def _partition(disease: Disease) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for cid, cl in Case.objects.filter(disease=disease, cluster__isnull=False).values_list(
        "id", "cluster_id"
    ):
        groups.setdefault(cl, set()).add(cid)
    return {frozenset(g) for g in groups.values()}


def test_common_path_is_the_deepest_node_holding_every_path() -> None:
    assert common_path(["00010002", "00010003"]) == "0001"
    assert common_path(["000100020003", "00010002"]) == "00010002"
    assert common_path(["0001", "0002"]) == ""
    assert common_path([]) == ""


# (infector index or None, pin index or None) for each new case, in creation order
_plans = st.lists(
    st.tuples(st.one_of(st.none(), st.integers(0, 40)), st.one_of(st.none(), st.integers(0, 1))),
    min_size=1,
    max_size=14,
)


@pytest.mark.django_db
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=_plans)
def test_incremental_clusters_equal_a_full_recompute_and_networkx(city: Any, plan: Any) -> None:
    with transaction.atomic():
        disease = Disease.objects.get(code="covid19")
        rules = rules_in_force(disease, days_ago(0))
        named = [
            Cluster.objects.create(disease=disease, name=f"event {i}", named=True) for i in range(2)
        ]
        graph = nx.Graph()
        cases: list[Case] = []
        for i, (infector, pin) in enumerate(plan):
            person = make_person(city.xd_building)
            source = None
            if infector is not None and cases:
                src_case = cases[infector % len(cases)]
                source = Contact.objects.create(
                    disease=disease,
                    rules=rules,
                    source_case=src_case,
                    person=person,
                    category="close",
                    exposure_type="household",
                    first_exposure=days_ago(3),
                    last_exposure=days_ago(2),
                    scope_path=person.scope_path,
                )
            case = Case.objects.create(
                number=f"T-{i}",
                person=person,
                disease=disease,
                rules=rules,
                classification="confirmed",
                report_date=days_ago(1),
                found_by="other",
                source_contact=source,
                named_cluster=named[pin] if pin is not None else None,
                scope_path=person.scope_path,
            )
            cluster_link_case(case)
            cases.append(case)
            graph.add_node(case.pk)
            if source is not None:
                graph.add_edge(case.pk, source.source_case_id)
            if pin is not None:
                graph.add_edge(case.pk, ("event", pin))
        incremental = _partition(disease)
        expected = set()
        for comp in nx.connected_components(graph):
            members = frozenset(n for n in comp if isinstance(n, int))
            pinned = any(not isinstance(n, int) for n in comp)
            if len(members) >= 2 or (pinned and members):
                expected.add(members)
        assert incremental == expected
        for cl in Cluster.objects.filter(disease=disease, case_count__gt=0):
            assert cl.case_count == Case.objects.filter(cluster=cl).count()
        cluster_recompute(disease)
        assert _partition(disease) == expected
        # A component holding a pinned case lives in a named cluster.
        for case in Case.objects.filter(named_cluster__isnull=False).select_related("cluster"):
            assert case.cluster is not None and case.cluster.named
        transaction.set_rollback(True)


def test_a_full_recompute_keeps_cluster_identity(city: Any, investigator: Any) -> None:
    a = new_case(investigator, make_person(city.xd_building))
    close = new_contact(investigator, make_person(city.xd_building2), case=a)
    b = contact_promote_to_case(
        actor=investigator,
        contact_id=close.pk,
        classification="confirmed",
        report_date=days_ago(0),
        onset_date=days_ago(1),
    )
    b.refresh_from_db()
    cluster_id = b.cluster_id
    assert cluster_id is not None
    assert cluster_recompute("covid19")["changed"] == 0
    b.refresh_from_db()
    assert b.cluster_id == cluster_id
    cl = Cluster.objects.get(pk=cluster_id)
    assert cl.case_count == 2
    assert cl.scope_path == city.xd_grid.path


def test_the_chain_of_a_case_has_generations(city: Any, investigator: Any) -> None:
    a = new_case(investigator, make_person(city.xd_building))
    c1 = new_contact(investigator, make_person(city.xd_building2), case=a)
    b = contact_promote_to_case(
        actor=investigator,
        contact_id=c1.pk,
        classification="confirmed",
        report_date=days_ago(0),
        onset_date=days_ago(1),
    )
    c2 = new_contact(
        investigator, make_person(city.xd_building2), case=b, first=days_ago(1), last=days_ago(0)
    )
    c = contact_promote_to_case(
        actor=investigator,
        contact_id=c2.pk,
        classification="asymptomatic",
        report_date=days_ago(0),
        first_positive_date=days_ago(0),
    )
    chain = case_chain(investigator, c.pk)
    generations = {n["id"]: n["generation"] for n in chain["nodes"]}
    assert generations == {a.pk: 1, b.pk: 2, c.pk: 3}
    assert {(e["source"], e["target"]) for e in chain["edges"]} == {(a.pk, b.pk), (b.pk, c.pk)}
    assert chain["generations"] == 3


def test_named_clusters_collect_pinned_cases(city: Any, investigator: Any, commander: Any) -> None:
    event = cluster_create_named(actor=investigator, disease_code="covid19", name="坞城夜市")
    a = new_case(investigator, make_person(city.xd_building))
    b = new_case(investigator, make_person(city.xd_building2))
    cluster_add_case(actor=investigator, cluster_id=event.pk, case_id=a.pk)
    cluster_add_case(actor=investigator, cluster_id=event.pk, case_id=b.pk)
    event.refresh_from_db()
    assert event.case_count == 2
    assert set(Case.objects.filter(cluster=event).values_list("id", flat=True)) == {a.pk, b.pk}
    cluster_name(actor=investigator, cluster_id=event.pk, name="坞城夜市聚集性疫情")
    cluster_assign(actor=commander, cluster_id=event.pk, investigator_id=investigator.pk)
    event.refresh_from_db()
    assert event.name == "坞城夜市聚集性疫情"
    assert event.assigned_to == investigator
    listed = list(cluster_list_for(investigator))
    assert [c.pk for c in listed] == [event.pk]
    assert listed[0].new_cases_7d == 2  # type: ignore[attr-defined]


def test_only_named_clusters_take_pinned_cases(city: Any, investigator: Any) -> None:
    a = new_case(investigator, make_person(city.xd_building))
    close = new_contact(investigator, make_person(city.xd_building2), case=a)
    b = contact_promote_to_case(
        actor=investigator,
        contact_id=close.pk,
        classification="confirmed",
        report_date=days_ago(0),
        onset_date=days_ago(1),
    )
    b.refresh_from_db()
    with pytest.raises(ValidationFailed):
        cluster_add_case(actor=investigator, cluster_id=b.cluster_id or 0, case_id=a.pk)


def test_a_cluster_of_another_district_does_not_exist(city: Any, investigator: Any) -> None:
    yz = make_staff("yz_inv", city.yingze, "investigator")
    event = cluster_create_named(actor=yz, disease_code="covid19", name="柳巷")
    with pytest.raises(NotFound):
        cluster_name(actor=investigator, cluster_id=event.pk, name="x")


def test_kpis_count_contacts_per_case_and_known_contacts(city: Any, investigator: Any) -> None:
    a = new_case(investigator, make_person(city.xd_building))
    new_case(investigator, make_person(city.xd_building))
    c1 = new_contact(investigator, make_person(city.xd_building2), case=a)
    new_contact(investigator, make_person(city.xd_building2), case=a)
    contact_promote_to_case(
        actor=investigator,
        contact_id=c1.pk,
        classification="confirmed",
        report_date=days_ago(0),
        onset_date=days_ago(1),
    )
    k = investigation_kpis(investigator, disease="covid19")
    assert k["cases"] == 3
    assert k["contacts_per_case_mean"] == pytest.approx(0.67, abs=0.01)
    assert k["contacts_per_case_median"] == 0.0
    assert k["new_cases"] == 3
    assert k["new_cases_known_contacts"] == 1
    assert k["contacts_under_monitoring"] == 1
    assert k["active_chains"] == 1


def test_an_excluded_case_leaves_its_cluster(
    city: Any, investigator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from fangkong.investigation.services.cases import case_classify

    a = new_case(investigator, make_person(city.xd_building))
    close = new_contact(investigator, make_person(city.xd_building2), case=a)
    b = contact_promote_to_case(
        actor=investigator,
        contact_id=close.pk,
        classification="confirmed",
        report_date=days_ago(0),
        onset_date=days_ago(1),
    )
    b.refresh_from_db()
    assert b.cluster_id is not None
    with django_capture_on_commit_callbacks(execute=True):
        case_classify(
            actor=investigator, case_id=b.pk, classification="excluded", reason="false positive"
        )
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.cluster_id is None and b.cluster_id is None
    assert not Cluster.objects.exists()


def test_components_survive_a_cycle_of_infectors_in_bad_data() -> None:
    from fangkong.investigation.services.clusters import _components

    day = "2022-10-01"
    rows = [
        (1, None, None, 2, "", day),
        (2, None, None, 3, "", day),
        (3, None, None, 1, "", day),
        (4, None, None, 3, "", day),
        (5, None, None, None, "", day),
        (6, None, 9, None, "", day),
        (7, None, 9, 5, "", day),
    ]
    components, pinned = _components(rows)
    groups = {frozenset(rows[i][0] for i in idx) for idx in components.values()}
    assert groups == {frozenset({1, 2, 3, 4}), frozenset({5, 6, 7})}
    assert sum(pinned[root][9] for root in components) == 2
