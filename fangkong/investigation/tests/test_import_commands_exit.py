"""The import commands exit non-zero when nothing was imported (a script or a
scheduled job must see the failure)."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from fangkong.conftest import make_person
from fangkong.investigation.models import Case, CheckIn
from fangkong.investigation.tests.checkins_support import make_venue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def test_import_checkins_of_an_empty_file_fails(tmp_path, city, xiaodian_officer):
    for name, text in (("log.csv", ""), ("log2.csv", "venue,person_id,time\n"), ("l.jsonl", "")):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(CommandError):
            call_command("import_checkins", str(path), "--as", "xiaodian", stdout=io.StringIO())
    assert not CheckIn.objects.exists()


def test_import_checkins_with_every_row_rejected_fails_even_with_valid_only(
    tmp_path, city, xiaodian_officer
):
    venue = make_venue(city.xd_building)
    person = make_person(city.xd_building)
    path = tmp_path / "log.csv"
    path.write_text(f"venue,person_id,time\n{venue.pk},{person.pk},not-a-time\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_checkins", str(path), "--as", "xiaodian", "--valid-only", stderr=err)
    assert "2\ttime\t" in err.getvalue()
    assert not CheckIn.objects.exists()


def test_import_linelist_with_every_row_rejected_fails(tmp_path, city, commander):
    path = tmp_path / "list.csv"
    path.write_text("id,confirmed_date\nA1,2022-10-01\nA002,2022-13-01\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_linelist", str(path), "--as", "commander", stderr=err)
    assert "bad_id" in err.getvalue() and "bad_date" in err.getvalue()
    assert not Case.objects.exists()


def test_import_linelist_of_a_header_only_file_fails(tmp_path, city, commander):
    path = tmp_path / "list.csv"
    path.write_text("id,confirmed_date\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_linelist", str(path), "--as", "commander", stdout=io.StringIO())


def test_import_linelist_again_is_a_quiet_no_op(tmp_path, city, commander):
    path = tmp_path / "list.csv"
    path.write_text("id,confirmed_date\nA001,2022-10-01\n", encoding="utf-8")
    call_command("import_linelist", str(path), "--as", "commander", stdout=io.StringIO())
    out = io.StringIO()
    call_command(
        "import_linelist", str(path), "--as", "commander", stdout=out, stderr=io.StringIO()
    )
    assert "0 cases" in out.getvalue()
    assert Case.objects.count() == 1
