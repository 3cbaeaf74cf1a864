import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from fangkong.core.errors import ValidationFailed
from fangkong.core.signing import person_token
from fangkong.core.tabular import FileRejected, ImportRejected
from fangkong.screening import selectors
from fangkong.screening.models import (
    BuildingFlag,
    CustodyEvent,
    ResultReport,
    Task,
    Tube,
)
from fangkong.screening.services import custody, results, sampling
from fangkong.screening.tests.kit import build, people


@pytest.fixture
def kit(city: Any) -> Any:
    return build(city)


def _sampled_tube(kit: Any, code: str, crowd: list[Any], *, capacity: int | None = None) -> Tube:
    sampling.tube_open(
        actor=kit.sampler,
        round_id=kit.round.pk,
        barcode=code,
        site_id=kit.site.pk,
        capacity=capacity,
    )
    for p in crowd:
        sampling.tube_scan(actor=kit.sampler, barcode=code, person_token=person_token(p.pk))
    return sampling.tube_close(actor=kit.sampler, barcode=code)


def _received(kit: Any, codes: list[str], box: str = "X1") -> None:
    custody.box_pack(actor=kit.sampler, round_id=kit.round.pk, barcode=box, tube_barcodes=codes)
    custody.box_hand_over(actor=kit.sampler, barcode=box, place="坞城")
    custody.box_receive(actor=kit.labtech, lab_id=kit.lab.pk, barcode=box)


def _report(kit: Any, rows: list[dict[str, Any]]) -> Any:
    return results.results_import(actor=kit.labtech, lab_id=kit.lab.pk, rows=rows)


def test_the_chain_of_custody_is_recorded_and_append_only(kit: Any) -> None:
    tube = _sampled_tube(kit, "T1", people(kit.city, 2))
    _received(kit, ["T1"])
    custody.tubes_test_start(actor=kit.labtech, lab_id=kit.lab.pk, tube_barcodes=["T1"])
    _report(kit, [{"tube": "T1", "result": "negative"}])
    _report(kit, [{"tube": "T1", "result": "positive", "ct_values": {"N": 30}}])
    chain = selectors.tube_chain(kit.manager, "T1")
    assert [e["stage"] for e in chain] == [
        "collected",
        "handed_over",
        "received",
        "test_started",
        "reported",
        "reported",
    ]
    assert [(e["result"], e["status"]) for e in chain[-2:]] == [
        ("negative", "applied"),
        ("positive", "conflict"),
    ]
    assert chain[2]["lab"] == kit.lab.name and chain[1]["box"] == "X1"
    assert all(e["user"] for e in chain)
    # The reports are the chain's last links: the custody rows do not repeat them.
    assert not CustodyEvent.objects.filter(tube=tube, stage="reported").exists()
    with pytest.raises(RuntimeError):
        CustodyEvent.objects.filter(tube=tube).delete()
    with pytest.raises(RuntimeError):
        CustodyEvent.objects.filter(tube=tube).update(place="x")


def test_a_negative_result_is_applied_and_reporting_it_again_changes_nothing(kit: Any) -> None:
    _sampled_tube(kit, "T1", people(kit.city, 3))
    _received(kit, ["T1"])
    first = _report(kit, [{"tube": "T1", "result": "negative"}])
    assert first.applied == 1
    n = ResultReport.objects.count()
    again = _report(kit, [{"tube": "T1", "result": "negative"}])
    assert again.applied == 0 and again.duplicates == 1
    assert ResultReport.objects.count() == n
    assert Tube.objects.get(barcode="T1").result == "negative"


def test_a_file_that_repeats_a_row_applies_it_once_at_the_reported_time(kit: Any) -> None:
    tube = _sampled_tube(kit, "T1", people(kit.city, 2))
    _received(kit, ["T1"])
    at = (timezone.now() - dt.timedelta(hours=1)).replace(microsecond=250000)
    row = {"tube": "T1", "result": "negative", "reported_at": at.isoformat()}
    out = _report(kit, [row, dict(row)])
    assert (out.applied, out.duplicates) == (1, 1)
    assert ResultReport.objects.filter(tube=tube).count() == 1
    tube.refresh_from_db()
    assert tube.reported_at == at and tube.state == "reported"
    (event,) = [e for e in selectors.tube_chain(kit.labtech, "T1") if e["stage"] == "reported"]
    assert event["time"] == at and event["lab"] == kit.lab.name
    assert ResultReport.objects.get(tube=tube).reported_at == at


def test_a_second_different_result_is_a_conflict_not_an_overwrite(kit: Any) -> None:
    _sampled_tube(kit, "T1", people(kit.city, 3))
    _received(kit, ["T1"])
    _report(kit, [{"tube": "T1", "result": "negative"}])
    out = _report(kit, [{"tube": "T1", "result": "positive", "ct_values": {"ORF1ab": 30}}])
    assert out.conflicts == 1
    assert Tube.objects.get(barcode="T1").result == "negative"
    assert ResultReport.objects.filter(status="conflict").count() == 1
    again = _report(kit, [{"tube": "T1", "result": "positive", "ct_values": {"ORF1ab": 30}}])
    assert again.conflicts == 0 and ResultReport.objects.filter(status="conflict").count() == 1


def test_results_for_unknown_or_unreceived_tubes_are_held_and_flag_the_lab(kit: Any) -> None:
    from fangkong.screening.selectors.coverage import sla_board

    _sampled_tube(kit, "T1", people(kit.city, 2))
    out = _report(
        kit, [{"tube": "T1", "result": "negative"}, {"tube": "NOPE", "result": "negative"}]
    )
    assert out.held == 2 and out.applied == 0
    assert Tube.objects.get(barcode="T1").result == ""
    board = sla_board(kit.manager, kit.round)
    lab = next(r for r in board["labs"] if r["id"] == kit.lab.pk)
    assert lab["never_received"] == 1 and lab["flagged"]


def test_malformed_rows_name_row_and_column_and_nothing_is_imported(kit: Any) -> None:
    _sampled_tube(kit, "T1", people(kit.city, 2))
    _received(kit, ["T1"])
    with pytest.raises(ValidationFailed) as exc:
        _report(
            kit,
            [
                {"tube": "T1", "result": "negative"},
                {"tube": "T2", "result": "maybe"},
                {"tube": "T3", "result": "positive", "ct_values": {"N": "abc"}},
            ],
        )
    rows = exc.value.extra["rows"]
    assert {(r["row"], r["column"]) for r in rows} == {(2, "result"), (3, "ct_N")}
    assert Tube.objects.get(barcode="T1").result == ""
    assert not ResultReport.objects.exists()


def test_a_positive_pool_grants_reasons_retest_tasks_and_flags_buildings(kit: Any) -> None:
    from fangkong.status.models import Reason

    crowd = people(kit.city, 4)
    limited = people(kit.city, 1, limited_mobility=True)
    _sampled_tube(kit, "T1", crowd + limited)
    _received(kit, ["T1"])
    out = _report(
        kit, [{"tube": "T1", "result": "positive", "ct_values": {"ORF1ab": 28.5, "N": 30}}]
    )
    assert out.consequences["reasons"] == 5
    assert Reason.objects.filter(kind="pooled_positive", source_type="screening.tube").count() == 5
    tasks = Task.objects.filter(kind="retest")
    assert tasks.count() == 5 and all(t.priority == Task.Priority.HIGH for t in tasks)
    assert tasks.get(person=limited[0]).team == kit.d2d_team
    assert tasks.get(person=crowd[0]).team == kit.team
    assert BuildingFlag.objects.filter(building=kit.city.xd_building).exists()


# Few people with reasons to clear: only theirs are read; many: every member is.
@pytest.mark.parametrize("few", [5000, 0], ids=["few clearable", "many clearable"])
def test_a_single_tube_retest_closes_the_task_and_a_negative_ends_the_reason(
    kit: Any, monkeypatch: Any, few: int
) -> None:
    from fangkong.screening.services import followup
    from fangkong.status.selectors import person_status

    monkeypatch.setattr(followup, "FEW_CLEARABLE", few)

    crowd = people(kit.city, 3)
    _sampled_tube(kit, "T1", crowd)
    _received(kit, ["T1"])
    _report(kit, [{"tube": "T1", "result": "positive", "ct_values": {"N": 31}}])
    assert person_status(crowd[0].pk)["level"] != "green"
    retest = sampling.tube_open(
        actor=kit.sampler, round_id=kit.round.pk, barcode="R1", site_id=kit.site.pk, retest=True
    )
    assert retest.capacity == 1
    sampling.tube_scan(actor=kit.sampler, barcode="R1", person_token=person_token(crowd[0].pk))
    sampling.tube_close(actor=kit.sampler, barcode="R1")
    assert Task.objects.get(person=crowd[0]).state == "done"
    _sampled_tube(kit, "N1", people(kit.city, 2))  # someone else's negative, same file
    _received(kit, ["R1", "N1"], box="X2")
    _report(kit, [{"tube": "R1", "result": "negative"}, {"tube": "N1", "result": "negative"}])
    assert person_status(crowd[0].pk)["level"] == "green"
    assert person_status(crowd[1].pk)["level"] != "green"  # not retested yet


def test_a_positive_single_tube_opens_a_suspected_case(kit: Any) -> None:
    from fangkong.investigation.models import Case

    (p,) = people(kit.city, 1)
    _sampled_tube(kit, "S1", [p], capacity=1)
    _received(kit, ["S1"])
    out = _report(kit, [{"tube": "S1", "result": "positive", "ct_values": {"N": 25}}])
    assert out.consequences["cases"] == 1
    case = Case.objects.get(person=p)
    assert case.classification == "suspected" and case.found_by == "screening"


def test_an_invalid_result_creates_resample_tasks(kit: Any) -> None:
    crowd = people(kit.city, 3)
    _sampled_tube(kit, "T1", crowd)
    _received(kit, ["T1"])
    _report(kit, [{"tube": "T1", "result": "invalid"}])
    assert Task.objects.filter(kind="resample").count() == 3


def test_unretested_members_escalate_sms_then_grid_worker_then_cdc(kit: Any) -> None:
    from fangkong.notify.models import Message
    from fangkong.screening.services.followup import retests_escalate

    crowd = people(kit.city, 2, phone="13800138000")
    _sampled_tube(kit, "T1", crowd)
    _received(kit, ["T1"])
    _report(kit, [{"tube": "T1", "result": "positive", "ct_values": {"N": 31}}])
    now = timezone.now()
    assert retests_escalate(now=now + dt.timedelta(hours=1)) == {}
    assert retests_escalate(now=now + dt.timedelta(hours=13)) == {"sms": 2}
    assert Message.objects.filter(purpose="screening").count() == 2
    assert retests_escalate(now=now + dt.timedelta(hours=25)) == {"grid_worker": 2}
    assert retests_escalate(now=now + dt.timedelta(hours=37)) == {"cdc": 2}
    assert set(Task.objects.values_list("escalation_level", flat=True)) == {3}


def test_the_import_results_command_reads_a_csv(kit: Any, tmp_path: Any) -> None:
    _sampled_tube(kit, "T1", people(kit.city, 2))
    _sampled_tube(kit, "T2", people(kit.city, 2))
    _received(kit, ["T1", "T2"])
    path = tmp_path / "results.csv"
    path.write_text(
        "tube,result,ct_ORF1ab,ct_N\nT1,negative,,\nT2,positive,29.1,31.0\n", encoding="utf-8"
    )
    call_command("import-results", str(path), "--lab", "dian", "--as", "labtech")
    assert dict(Tube.objects.values_list("barcode", "result")) == {
        "T1": "negative",
        "T2": "positive",
    }
    report = ResultReport.objects.get(tube_barcode="T2")
    assert report.ct_values == {"ORF1ab": 29.1, "N": 31.0}


def test_csv_row_errors_carry_the_spreadsheet_row_number(kit: Any) -> None:
    rows = results.csv_parse(b"tube,result,ct_N\nT1,negative,\n\nT2,maybe,\nT3,positive,x\n")
    assert [r["row"] for r in rows] == [2, 4, 5]
    with pytest.raises(ImportRejected) as exc:
        results.results_import(actor=kit.labtech, lab_id=kit.lab.pk, rows=rows)
    assert [(e.row, e.column) for e in exc.value.errors] == [(4, "result"), (5, "ct_N")]
    assert not ResultReport.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"tube,result\n", "no data rows"),
        (b"tube,outcome\nT1,negative\n", "Missing columns: result"),
        ("tube,result\nT1,阴性\n".encode("utf-16"), "not readable text"),
    ],
)
def test_an_unreadable_results_file_is_refused_as_a_whole(data: bytes, message: str) -> None:
    with translation.override("en"), pytest.raises(FileRejected, match=message):
        results.csv_parse(data)


def test_the_import_results_command_exits_non_zero_naming_rows(kit: Any, tmp_path: Any) -> None:
    path = tmp_path / "results.csv"
    path.write_text("tube,result\nT1,maybe\n", encoding="utf-8")
    err = io.StringIO()
    with translation.override("en"), pytest.raises(CommandError, match="nothing was imported"):
        call_command("import-results", str(path), "--lab", "dian", "--as", "labtech", stderr=err)
    assert "row 2, result:" in err.getvalue()
    path.write_text("tube,result\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import-results", str(path), "--lab", "dian", "--as", "labtech")
