import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.core.errors import ValidationFailed
from fangkong.core.models import Person
from fangkong.investigation.models import Case, Cluster, Contact
from fangkong.investigation.selectors.clusters import case_chain, chain_and_cluster_figures
from fangkong.investigation.services.linelist import GENERIC_SOURCES, linelist_import

DS4C = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "ds4c" / "PatientInfo.csv"
if not DS4C.exists():
    DS4C = Path("/work/shared/datasets/ds4c/PatientInfo.csv")


def _ds4c_rows() -> tuple[dict[str, dict[str, str]], dict[int, str]]:
    """An independent reading of the file: the first row of each patient id, and
    the spreadsheet row number of each (header = 1)."""
    text = DS4C.read_text(encoding="utf-8")
    rows: dict[str, dict[str, str]] = {}
    line_of: dict[int, str] = {}
    header: list[str] = []
    for n, raw in enumerate(csv.reader(io.StringIO(text)), start=1):
        if len(raw) == 1 and "," in raw[0]:
            raw = next(csv.reader([raw[0]]))
        if raw[0] == "patient_id":
            header = raw
            continue
        r = dict(zip(header, raw, strict=True))
        if r["patient_id"] in rows:
            continue
        rows[r["patient_id"]] = r
        line_of[n] = r["patient_id"]
    return rows, line_of


def _expected_links(
    named: dict[str, list[str]],
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Sources and possible sources the way issue 23 says, computed on its own:
    every usable named infector (not the person, in the list) is kept; the first
    is the source unless the two name each other first; the rest are possible."""
    usable = {
        pid: [i for i in dict.fromkeys(infs) if i != pid and i in named]
        for pid, infs in named.items()
    }
    source = {}
    possible = []
    for pid, infs in usable.items():
        if not infs:
            continue
        first = infs[0]
        if not (usable[first] and usable[first][0] == pid):
            source[pid] = first
        possible += [(pid, other) for other in infs[1:]]
    return source, possible


def _components(nodes: Any, edges: Any) -> list[frozenset[Any]]:
    g = nx.Graph()
    g.add_nodes_from(nodes)
    g.add_edges_from(edges)
    return [frozenset(c) for c in nx.connected_components(g)]


@pytest.mark.skipif(not DS4C.exists(), reason="DS4C dataset not available")
def test_it_imports_ds4c_as_it_is_and_rebuilds_its_chains(
    city: Any, commander: Any, capsys: Any
) -> None:
    call_command(
        "import_linelist",
        str(DS4C),
        "--format",
        "ds4c",
        "--as",
        "commander",
        "--into",
        "140105",
        "--json",
    )
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == 5165
    kinds: dict[str, list[int]] = {}
    for e in report["errors"]:
        kinds.setdefault(e["kind"], []).append(e["row"])
    assert len(kinds["self_infection"]) == 4
    assert len(kinds["duplicate_id"]) == 1
    assert len(kinds["mutual_infection"]) == 18  # nine pairs, both rows reported
    assert len(kinds["unknown_infector"]) == 7
    assert "missing_date" not in kinds and "multiple_infectors" not in kinds
    warned: dict[str, list[int]] = {}
    for e in report["warnings"]:
        warned.setdefault(e["kind"], []).append(e["row"])
    # The three rows without a confirmation date import, flagged for completion.
    assert warned["missing_date"] == [4732, 4733, 4734]
    assert report["to_complete"] == 3
    undated = Case.objects.filter(needs_completion=True)
    assert sorted(undated.values_list("external_ref", flat=True)) == [
        "6011000051",
        "6011000052",
        "6011000053",
    ]
    assert not undated.filter(report_date__isnull=False).exists()
    # The whole row quoted as one field names two infectors: both kept.
    assert warned["multiple_infectors"] == [3730]
    assert report["cases_imported"] == 5165 - 1
    assert Case.objects.count() == report["cases_imported"]

    rows, line_of = _ds4c_rows()
    assert line_of[3730] == "5000000022"
    named = {
        pid: [i for i in re.split(r"[,\s]+", r["infected_by"]) if i] for pid, r in rows.items()
    }
    source, possible = _expected_links(named)
    assert report["links_imported"] == len(source)
    assert report["possible_sources"] == len(possible) >= 1
    assert Contact.objects.filter(status="became_case", possible_source=False).count() == len(
        source
    )
    ref_of_person = dict(Case.objects.values_list("person_id", "external_ref"))
    ref_of_case = dict(Case.objects.values_list("id", "external_ref"))
    got_possible = {
        (ref_of_person[person_id], ref_of_case[source_id])
        for person_id, source_id in Contact.objects.filter(possible_source=True).values_list(
            "person_id", "source_case_id"
        )
    }
    assert got_possible == set(possible)
    twice = Case.objects.select_related("source_contact__source_case").get(
        external_ref="5000000022"
    )
    assert twice.source_contact is not None
    assert ref_of_case.get(twice.source_contact.source_case_id or 0) == "1500000050"
    assert ("5000000022", "1500000055") in got_possible

    # Chains: infector links alone; clusters: links and named events (networkx).
    chains = [c for c in _components(rows, source.items()) if len(c) >= 2]
    assert report["chains"] == {"count": len(chains), "largest": max(len(c) for c in chains)}
    events = {
        pid: ("event", r["infection_case"])
        for pid, r in rows.items()
        if r["infection_case"].lower() not in GENERIC_SOURCES
    }
    expected = set()
    for comp in _components(rows, [*source.items(), *events.items()]):
        members = frozenset(n for n in comp if isinstance(n, str))
        if len(members) >= 2 or len(members) < len(comp):
            expected.add(members)
    got: dict[int, set[str]] = {}
    for ref, cl in Case.objects.filter(cluster__isnull=False).values_list(
        "external_ref", "cluster_id"
    ):
        got.setdefault(cl, set()).add(ref)
    assert {frozenset(m) for m in got.values()} == expected
    sizes = [len(m) for m in expected]
    assert report["clusters"] == {
        "count": sum(1 for n in sizes if n >= 2),
        "largest": max(sizes),
        "named": len(set(events.values())),
    }
    # The clusters page's figures are the same.
    assert chain_and_cluster_figures(commander) == {
        "chains": report["chains"],
        "clusters": report["clusters"],
    }
    # Named events became named clusters holding their cases.
    itaewon = Cluster.objects.get(name="Itaewon Clubs")
    assert itaewon.named
    assert Case.objects.filter(named_cluster=itaewon).count() == sum(
        1 for e in events.values() if e == ("event", "Itaewon Clubs")
    )
    # People: line-list documents, approximate birth from the age band, a scope.
    p = Person.objects.get(name="Patient 1000000001")
    assert p.doc_type == "line_list"
    assert (p.sex, str(p.birth_date)) == ("M", "1965-07-01")
    assert p.scope_path == city.xiaodian.path
    first = Case.objects.get(external_ref="1000000001")
    assert first.reporting_unit == "Seoul / Gangseo-gu"
    assert first.number.startswith("140100-2020-")
    assert first.outcome == "recovered"
    # Generations follow the infector links.
    infected = Case.objects.filter(source_contact__isnull=False).order_by("id").first()
    assert infected is not None
    chain = case_chain(commander, infected.pk)
    gen = {n["id"]: n["generation"] for n in chain["nodes"]}
    assert infected.source_contact is not None
    src_id = infected.source_contact.source_case_id
    assert gen[infected.pk] == gen[src_id] + 1


def test_a_second_import_of_the_same_rows_imports_nothing(city: Any, commander: Any) -> None:
    data = b"id,confirmed_date,infected_by\nA001,2022-10-01,\nA002,2022-10-03,A001\n"
    first = linelist_import(actor=commander, data=data, fmt="generic")
    assert (first.cases_imported, first.links_imported) == (2, 1)
    again = linelist_import(actor=commander, data=data, fmt="generic")
    assert again.cases_imported == 0
    assert {e["kind"] for e in again.errors} == {"already_imported"}
    assert Person.objects.filter(doc_type="line_list").count() == 2


def test_it_accepts_gbk_and_utf8(city: Any, commander: Any) -> None:
    text = (
        "id,confirmed_date,place,cluster\n"
        "B001,2022-10-01,太原市小店区,坞城夜市\n"
        "B002,2022-10-02,太原市,坞城夜市\n"
    )
    r1 = linelist_import(actor=commander, data=text.encode("gbk"), fmt="generic")
    assert r1.cases_imported == 2
    assert Case.objects.get(external_ref="B001").reporting_unit == "太原市小店区"
    assert Cluster.objects.get(name="坞城夜市").case_count == 2
    r2 = linelist_import(
        actor=commander, data=text.replace("B00", "C00").encode("utf-8-sig"), fmt="generic"
    )
    assert r2.cases_imported == 2


def test_unknown_columns_are_refused_with_nothing_written(city: Any, commander: Any) -> None:
    data = b"id,confirmed_date,favourite_colour\nA001,2022-10-01,blue\n"
    with pytest.raises(ValidationFailed) as exc:
        linelist_import(actor=commander, data=data, fmt="generic")
    assert "favourite_colour" in exc.value.fields["columns"]
    assert not Case.objects.exists()


def test_undecodable_bytes_are_refused(city: Any, commander: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        linelist_import(actor=commander, data=b"id,confirmed_date\n\xff\xfe\xff,x\n", fmt="generic")
    assert "file" in exc.value.fields


def test_bad_rows_are_reported_and_the_others_import(city: Any, commander: Any) -> None:
    data = (
        b"id,confirmed_date,infected_by\n"
        b"A1,2022-10-01,\n"  # too short an id
        b"A002,2022-13-01,\n"
        b"A003,2099-01-01,\n"
        b"A004,2022-10-01,A004\n"
        b"A005,2022-10-01,A006\n"
        b"A006,2022-10-01,A005\n"
        b"A007,2022-10-01,ZZZ9\n"
        b"A008,2022-10-01,\n"
    )
    report = linelist_import(actor=commander, data=data, fmt="generic")
    kinds = [e["kind"] for e in report.errors]
    assert kinds == [
        "bad_id",
        "bad_date",
        "bad_date",
        "self_infection",
        "mutual_infection",
        "mutual_infection",
        "unknown_infector",
    ]
    assert report.cases_imported == 5
    assert report.links_imported == 0


def test_the_command_needs_a_known_user_and_file(city: Any, commander: Any, tmp_path: Path) -> None:
    f = tmp_path / "l.csv"
    f.write_text("id,confirmed_date\nA001,2022-10-01\n")
    with pytest.raises(CommandError):
        call_command("import_linelist", str(f), "--as", "nobody-here")
    with pytest.raises(CommandError):
        call_command("import_linelist", str(tmp_path / "missing.csv"), "--as", "commander")


def test_another_districts_node_is_out_of_reach(city: Any, xiaodian_officer: Any) -> None:
    from fangkong.core.errors import NotFound

    with pytest.raises(NotFound):
        linelist_import(
            actor=xiaodian_officer,
            data=b"id,confirmed_date\nA001,2022-10-01\n",
            fmt="generic",
            into_code="140106",
        )


# One patient each: (has a confirmation date, infectors as indices into the list,
# 99 = not in the list, and a named event index or None).
_patients = st.lists(
    st.tuples(
        st.booleans(),
        st.lists(st.sampled_from([0, 1, 2, 3, 4, 5, 6, 7, 99]), max_size=3),
        st.one_of(st.none(), st.integers(0, 2)),
    ),
    min_size=1,
    max_size=8,
)


def _reachable(nodes: list[Any], edges: list[tuple[Any, Any]]) -> list[frozenset[Any]]:
    """Components by brute force: grow each node's set until nothing is added."""
    reach = {n: {n} for n in nodes}
    changed = True
    while changed:
        changed = False
        for a, b in edges:
            union = reach[a] | reach[b]
            for n in union:
                if reach[n] != union and not union <= reach[n]:
                    reach[n] |= union
                    changed = True
    return list({frozenset(r) for r in reach.values()})


@pytest.mark.django_db
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(patients=_patients)
def test_random_line_lists_lose_no_case_and_count_chains_like_brute_force(
    city: Any, commander: Any, patients: list[tuple[bool, list[int], int | None]]
) -> None:
    ids = [f"P{k:03d}" for k in range(len(patients))]

    def name(i: int) -> str:
        return ids[i] if i < len(ids) else "ZZZ9"

    lines = ["id,confirmed_date,infected_by,cluster"]
    named: dict[str, list[str]] = {}
    events: dict[str, str] = {}
    for pid, (dated, infs, event) in zip(ids, patients, strict=True):
        named[pid] = [name(i) for i in infs]
        if event is not None:
            events[pid] = f"event {event}"
        lines.append(
            f'{pid},{"2022-10-01" if dated else ""},"{";".join(named[pid])}",'
            f"{events.get(pid, 'etc')}"
        )
    with transaction.atomic():
        report = linelist_import(actor=commander, data="\n".join(lines).encode(), fmt="generic")
        # Every row imports; the undated ones flagged, as warnings.
        assert report.cases_imported == len(ids)
        undated = {pid for pid, p in zip(ids, patients, strict=True) if not p[0]}
        assert (
            set(Case.objects.filter(needs_completion=True).values_list("external_ref", flat=True))
            == undated
        )
        assert report.to_complete == len(undated)
        assert {w["row"] for w in report.warnings if w["kind"] == "missing_date"} == {
            ids.index(pid) + 2 for pid in undated
        }
        # Every usable named infector kept: one source, the others possible.
        known = {pid: [i for i in infs if i in named] for pid, infs in named.items()}
        source, possible = _expected_links({pid: known[pid] for pid in ids})
        assert report.links_imported == len(source)
        assert report.possible_sources == len(possible)
        ref = dict(Case.objects.values_list("id", "external_ref"))
        got_source = {
            ref[c]: ref[s]
            for c, s in Case.objects.filter(source_contact__isnull=False).values_list(
                "id", "source_contact__source_case_id"
            )
        }
        assert got_source == source
        # Chains and clusters against brute force.
        chains = [c for c in _reachable(ids, list(source.items())) if len(c) >= 2]
        assert report.chains == {
            "count": len(chains),
            "largest": max((len(c) for c in chains), default=0),
        }
        event_nodes = sorted(set(events.values()))
        comps = _reachable([*ids, *event_nodes], [*source.items(), *events.items()])
        clusters = [
            len([n for n in c if n in named])
            for c in comps
            if len([n for n in c if n in named]) >= 2 or any(n in event_nodes for n in c)
        ]
        assert report.clusters == {
            "count": sum(1 for n in clusters if n >= 2),
            "largest": max(clusters, default=0),
            "named": len(event_nodes),
        }
        assert chain_and_cluster_figures(commander) == {
            "chains": report.chains,
            "clusters": report.clusters,
        }
        transaction.set_rollback(True)
