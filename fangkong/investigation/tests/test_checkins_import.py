import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from fangkong.conftest import make_person
from fangkong.core.crypto import decrypt
from fangkong.core.errors import PermissionDenied, ValidationFailed
from fangkong.core.models import AuditEntry
from fangkong.core.tabular import ImportRejected
from fangkong.investigation.models import CheckIn
from fangkong.investigation.services.checkins import (
    checkins_ingest,
    checkins_ingest_file,
    read_checkin_log,
)
from fangkong.investigation.services.venues import venue_code_issue
from fangkong.investigation.tests.checkins_support import make_checkin, make_venue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
T = NOW - dt.timedelta(days=1)


def iso(t):
    return t.isoformat()


@pytest.fixture
def venue(city):
    return make_venue(city.xd_building)


@pytest.fixture
def people(city):
    return [make_person(city.xd_building, name=f"居民{i}") for i in range(3)]


def test_it_loads_a_log_with_ids_documents_and_venue_codes(
    city, venue, people, xiaodian_officer, commander
):
    _code, token = venue_code_issue(actor=commander, venue_id=venue.pk)
    doc = decrypt(people[1].doc_number_encrypted)
    rows = [
        {"venue": str(venue.pk), "person_id": str(people[0].pk), "time": iso(T)},
        {"venue": token, "doc_type": "prc_id", "doc_number": doc, "time": iso(T)},
        {
            "venue_id": venue.pk,
            "person_id": people[2].pk,
            "time": iso(T),
            "left_at": iso(T + dt.timedelta(minutes=40)),
            "external_ref": "scanner-7/123",
        },
    ]
    report = checkins_ingest(rows, actor=xiaodian_officer, source_name="log.csv")
    assert (report.rows, report.inserted, report.duplicates) == (3, 3, 0)
    stored = {c.person_id: c for c in CheckIn.objects.all()}
    assert set(stored) == {p.pk for p in people}
    assert all(c.source == "import" and c.time == T for c in stored.values())
    assert stored[people[2].pk].left_at == T + dt.timedelta(minutes=40)
    assert stored[people[2].pk].external_ref == "scanner-7/123"
    entry = AuditEntry.objects.get(action="checkin.import")
    assert entry.changes["inserted"] == [None, 3] and entry.reason == "log.csv"


def test_every_bad_row_is_reported_and_nothing_is_written(city, venue, people, xiaodian_officer):
    rows = [
        {"venue": str(venue.pk), "person_id": str(people[0].pk), "time": iso(T)},
        {"venue": "999999", "person_id": str(people[0].pk), "time": iso(T)},
        {"venue": str(venue.pk), "person_id": "888888", "time": iso(T)},
        {"venue": str(venue.pk), "person_id": str(people[0].pk), "time": "2022-10-05 09:00"},
        {
            "venue": str(venue.pk),
            "person_id": str(people[0].pk),
            "time": iso(NOW + dt.timedelta(hours=3)),
        },
        {
            "venue": str(venue.pk),
            "person_id": str(people[0].pk),
            "time": iso(T),
            "left_at": iso(T - dt.timedelta(minutes=1)),
        },
        {"venue": str(venue.pk), "doc_type": "passport", "doc_number": "E99999999", "time": iso(T)},
        {"venue": str(venue.pk), "person_id": str(people[0].pk), "time": "yesterday"},
    ]
    with pytest.raises(ImportRejected) as exc:
        checkins_ingest(rows, actor=xiaodian_officer)
    got = [(e.row, e.column) for e in exc.value.errors]
    assert got == [
        (3, "venue"),
        (4, "person_id"),
        (5, "time"),
        (6, "time"),
        (7, "left_at"),
        (8, "doc_number"),
        (9, "time"),
    ]
    assert "time zone" in exc.value.errors[2].message
    assert "future" in exc.value.errors[3].message
    assert not CheckIn.objects.exists()
    assert not AuditEntry.objects.filter(action="checkin.import").exists()


def test_with_valid_only_the_good_rows_are_loaded(city, venue, people, xiaodian_officer):
    rows = [
        {"venue": str(venue.pk), "person_id": str(people[0].pk), "time": iso(T)},
        {"venue": "999999", "person_id": str(people[1].pk), "time": iso(T)},
    ]
    report = checkins_ingest(rows, actor=xiaodian_officer, valid_only=True)
    assert report.inserted == 1 and [e.row for e in report.errors] == [3]
    assert CheckIn.objects.get().person_id == people[0].pk


def test_venues_of_another_district_are_refused(city, people, yingze_officer, venue):
    with pytest.raises(ImportRejected) as exc:
        checkins_ingest(
            [{"venue": str(venue.pk), "person_id": str(people[0].pk), "time": iso(T)}],
            actor=yingze_officer,
        )
    assert exc.value.errors[0].column == "venue"


def test_staff_without_checkin_import_cannot_load_logs(investigator):
    with pytest.raises(PermissionDenied):
        checkins_ingest([], actor=investigator)


def test_repeated_scans_in_the_file_and_in_the_database_are_one_visit(
    city, venue, people, xiaodian_officer
):
    p, q = people[0], people[1]
    make_checkin(venue, q, T)
    rows = [
        {"venue": str(venue.pk), "person_id": str(p.pk), "time": iso(T)},
        {"venue": str(venue.pk), "person_id": str(p.pk), "time": iso(T + dt.timedelta(minutes=8))},
        {"venue": str(venue.pk), "person_id": str(p.pk), "time": iso(T + dt.timedelta(minutes=16))},
        {"venue": str(venue.pk), "person_id": str(p.pk), "time": iso(T + dt.timedelta(minutes=40))},
        {"venue": str(venue.pk), "person_id": str(q.pk), "time": iso(T + dt.timedelta(minutes=6))},
    ]
    report = checkins_ingest(rows, actor=xiaodian_officer)
    assert (report.inserted, report.duplicates, report.extended) == (2, 3, 1)
    visits = list(CheckIn.objects.filter(person=p).order_by("time"))
    assert [(v.time, v.last_scan_at) for v in visits] == [
        (T, T + dt.timedelta(minutes=16)),
        (T + dt.timedelta(minutes=40), T + dt.timedelta(minutes=40)),
    ]
    assert CheckIn.objects.get(person=q).last_scan_at == T + dt.timedelta(minutes=6)
    # Importing the same log again adds nothing.
    again = checkins_ingest(rows, actor=xiaodian_officer)
    assert again.inserted == 0 and CheckIn.objects.count() == 3


def test_gbk_and_utf8_files_are_read_and_unknown_columns_refused(venue, people):
    text = f"venue,person_id,time,external_ref\n{venue.pk},{people[0].pk},{iso(T)},太原扫码\n"
    for encoding in ("utf-8", "utf-8-sig", "gbk"):
        rows = read_checkin_log(text.encode(encoding), fmt="csv")
        assert rows[0][0] == 2 and rows[0][1]["external_ref"] == "太原扫码"
    with pytest.raises(ValidationFailed) as exc:
        read_checkin_log(b"venue,person,when\n1,2,3\n", fmt="csv")
    assert "person, when" in exc.value.fields["file"]
    with pytest.raises(ValidationFailed):
        read_checkin_log(b"\xff\xfe\x00garbage\x81", fmt="csv")


def test_the_command_imports_json_lines_and_prints_a_report(
    tmp_path, venue, people, xiaodian_officer
):
    path = tmp_path / "log.jsonl"
    lines = [
        {"venue": venue.pk, "person_id": people[0].pk, "time": iso(T)},
        {"venue": venue.pk, "person_id": people[1].pk, "time": iso(T)},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    out = io.StringIO()
    call_command("import_checkins", str(path), "--as", "xiaodian", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["rows"] == 2 and report["inserted"] == 2 and report["errors"] == []


def test_the_command_fails_and_lists_the_errors_of_a_bad_csv(
    tmp_path, venue, people, xiaodian_officer
):
    path = tmp_path / "log.csv"
    path.write_text(f"venue,person_id,time\n{venue.pk},{people[0].pk},not-a-time\n")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_checkins", str(path), "--as", "xiaodian", stderr=err)
    assert err.getvalue().startswith("2\ttime\t")
    assert not CheckIn.objects.exists()


def test_a_files_problems_carry_its_own_row_numbers(venue, people, xiaodian_officer):
    """A blank line and a quoted cell over two lines: the rows are numbered as the
    spreadsheet shows them."""
    good = f"{venue.pk},{people[0].pk},{iso(T)}"
    text = (
        "venue,person_id,time,external_ref\n"
        f'{good},"two\nlines"\n'
        "\n"
        f"{venue.pk},{people[1].pk},yesterday,\n"
    )
    with pytest.raises(ImportRejected) as exc:
        checkins_ingest_file(text.encode(), fmt="csv", actor=xiaodian_officer)
    assert [(e.row, e.column) for e in exc.value.errors] == [(4, "time")]
    assert exc.value.result.rows == 2
    assert not CheckIn.objects.exists()
