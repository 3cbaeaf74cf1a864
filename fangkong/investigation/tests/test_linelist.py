import csv
import io
import json
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from fangkong.core.errors import ValidationFailed
from fangkong.core.models import Person
from fangkong.investigation.models import Case, Cluster, Contact
from fangkong.investigation.selectors.clusters import case_chain
from fangkong.investigation.services.linelist import GENERIC_SOURCES, linelist_import

DS4C = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "ds4c" / "PatientInfo.csv"
if not DS4C.exists():
    DS4C = Path("/work/shared/datasets/ds4c/PatientInfo.csv")


def _expected_graph() -> tuple[nx.Graph, dict[str, int]]:
    """An independent reading of the file: patients, first-listed infector links
    (dropping self, unknown and mutual links) and named events."""
    text = DS4C.read_text(encoding="utf-8")
    rows: dict[str, dict[str, str]] = {}
    for raw in csv.reader(io.StringIO(text)):
        if len(raw) == 1 and "," in raw[0]:
            raw = next(csv.reader([raw[0]]))
        if raw[0] == "patient_id":
            header = raw
            continue
        r = dict(zip(header, raw, strict=True))
        if not r["confirmed_date"] or r["patient_id"] in rows:
            continue
        rows[r["patient_id"]] = r
    infector = {
        pid: r["infected_by"].replace(" ", "").split(",")[0]
        for pid, r in rows.items()
        if r["infected_by"]
    }
    g = nx.Graph()
    g.add_nodes_from(rows)
    for pid, src in infector.items():
        if src != pid and src in rows and infector.get(src) != pid:
            g.add_edge(pid, src)
    events: dict[str, int] = {}
    for pid, r in rows.items():
        if r["infection_case"].lower() not in GENERIC_SOURCES:
            g.add_edge(pid, ("event", r["infection_case"]))
            events[r["infection_case"]] = events.get(r["infection_case"], 0) + 1
    return g, events


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
    assert len(kinds["missing_date"]) == 3
    assert kinds["multiple_infectors"] == [3730]  # the line quoted as one field imports
    assert report["cases_imported"] == 5165 - 1 - 3
    assert Case.objects.count() == report["cases_imported"]
    assert Contact.objects.filter(status="became_case").count() == report["links_imported"]

    g, events = _expected_graph()
    assert report["links_imported"] == sum(
        1 for a, b in g.edges if not isinstance(a, tuple) and not isinstance(b, tuple)
    )
    expected = set()
    for comp in nx.connected_components(g):
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
    assert report["clusters"]["count"] == sum(1 for n in sizes if n >= 2)
    assert report["clusters"]["largest"] == max(sizes)
    # Named events became named clusters holding their cases.
    itaewon = Cluster.objects.get(name="Itaewon Clubs")
    assert itaewon.named
    assert Case.objects.filter(named_cluster=itaewon).count() == events["Itaewon Clubs"]
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
