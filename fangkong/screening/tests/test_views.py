import io
from typing import Any

import pytest
from openpyxl import load_workbook

from fangkong.conftest import client_for, make_person, make_staff
from fangkong.screening.tests.kit import build


@pytest.fixture
def kit(city: Any) -> Any:
    return build(city)


def test_the_pages_render_for_their_roles(kit: Any) -> None:
    assert client_for(kit.manager).get("/screening/").status_code == 200
    assert client_for(kit.manager).get(f"/screening/rounds/{kit.round.pk}/").status_code == 200
    assert client_for(kit.sampler).get("/screening/sample/").status_code == 200
    assert client_for(kit.labtech).get("/screening/lab/").status_code == 200


def test_a_sampler_without_view_rights_lands_on_the_sampler_page(kit: Any) -> None:
    r = client_for(kit.sampler).get("/screening/")
    assert r.status_code == 302 and r["Location"].endswith("/screening/sample/")


def test_a_malformed_csv_shows_row_and_column_and_imports_nothing(kit: Any) -> None:
    data = io.BytesIO(b"tube,result\nT1,negative\nT2,maybe\n")
    data.name = "results.csv"
    r = client_for(kit.labtech).post(
        "/screening/lab/",
        {"action": "import", "lab_id": kit.lab.pk, "file": data},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert r.status_code == 400
    # T2 is the spreadsheet's row 3 (the header is row 1).
    assert b"<td>3</td><td>result</td>" in r.content


def test_the_untested_list_exports_as_xlsx_and_other_districts_get_404(kit: Any) -> None:
    make_person(kit.city.xd_building, name="赵六", phone="13800138000")
    url = f"/screening/rounds/{kit.round.pk}/untested/{kit.city.xd_grid.pk}.xlsx"
    gw = make_staff("gw", kit.city.xd_grid, "grid_worker")
    r = client_for(gw).get(url)
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.getvalue()))
    rows = list(book.active.values)
    assert rows[1][0] == "赵六" and "*" in rows[1][2]
    # Who may unmask sees the full number (and the showing is audited).
    r = client_for(kit.manager).get(url)
    rows = list(load_workbook(io.BytesIO(r.getvalue())).active.values)
    assert rows[1][2] == "+8613800138000"
    yz = make_staff("yz", kit.city.yingze, "district_officer")
    assert client_for(yz).get(url).status_code == 404
    assert (
        client_for(yz)
        .get(f"/screening/rounds/{kit.round.pk}/untested/{kit.city.xd_grid.pk}/")
        .status_code
        == 404
    )


def test_coverage_exports_as_xlsx(kit: Any) -> None:
    make_person(kit.city.xd_building)
    r = client_for(kit.manager).get(
        f"/screening/rounds/{kit.round.pk}/coverage.xlsx?level=district"
    )
    book = load_workbook(io.BytesIO(r.getvalue()))
    rows = list(book.active.values)
    assert len(rows) == 3  # header + two districts


def test_reminders_are_queued_in_one_action_and_their_progress_shown(kit: Any) -> None:
    for i in range(3):
        make_person(kit.city.xd_building, name=f"R{i}", phone=f"1380013800{i}")
    c = client_for(kit.manager)
    base = f"/screening/rounds/{kit.round.pk}/untested/{kit.city.xd_grid.pk}/"
    r = c.post(base + "action/", {"action": "remind"})
    assert r.status_code == 302
    page = c.get(base, HTTP_ACCEPT_LANGUAGE="en")
    assert b'data-testid="reminders"' in page.content


def test_a_large_reminder_batch_is_accepted_at_once_and_the_page_follows_its_preparation(
    kit: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.FANGKONG_SMS_INLINE_BATCH = 2
    settings.FANGKONG_SMS_QUIET_HOURS = "00:00-00:00"  # none: sent at any hour of the run
    for i in range(3):
        make_person(kit.city.xd_building, name=f"R{i}", phone=f"1380013801{i}")
    c = client_for(kit.manager)
    base = f"/screening/rounds/{kit.round.pk}/untested/{kit.city.xd_grid.pk}/"
    with django_capture_on_commit_callbacks(execute=False) as handed:
        r = c.post(base + "action/", {"action": "remind"}, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert b"the worker prepares and sends them" in r.content
    page = c.get(base, HTTP_ACCEPT_LANGUAGE="en")
    assert b"Preparing: 0 of 3" in page.content
    assert b'hx-trigger="every 5s"' in page.content  # the section polls its progress
    with django_capture_on_commit_callbacks(execute=True):
        handed[0]()  # the worker's turn
    part = c.get(base + "reminders/", HTTP_ACCEPT_LANGUAGE="en")
    assert part.status_code == 200 and b"Preparing" not in part.content
    assert b"Sent: 3" in part.content and b"hx-trigger" not in part.content
    yz = make_staff("yz2", kit.city.yingze, "district_officer")
    assert client_for(yz).get(base + "reminders/").status_code == 404


def test_the_untested_page_counts_everyone_when_it_lists_only_the_first(
    kit: Any, monkeypatch: Any
) -> None:
    from fangkong.screening.selectors import coverage

    monkeypatch.setattr(coverage, "UNTESTED_ROWS", 2)
    for i in range(3):
        make_person(kit.city.xd_building, name=f"U{i}")
    page = client_for(kit.manager).get(
        f"/screening/rounds/{kit.round.pk}/untested/{kit.city.xd_grid.pk}/",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert b"3 people" in page.content
    assert b"the first 2 are listed" in page.content


def test_a_sampler_sees_their_own_open_round_however_many_are_open_elsewhere(kit: Any) -> None:
    """The sampler page took the 50 latest open rounds and then kept the sampler's:
    with more than 50 open elsewhere, their own round was not offered."""
    import datetime as dt

    from django.utils import timezone

    from fangkong.screening.models import Round

    later = timezone.now() + dt.timedelta(hours=1)
    Round.objects.bulk_create(
        Round(
            name=f"迎泽区专项{i}",
            scope_path=kit.city.yingze.path,
            starts_at=later,
            ends_at=later + dt.timedelta(hours=12),
            pooling_ratio=10,
        )
        for i in range(60)
    )
    page = client_for(kit.sampler).get("/screening/sample/").content.decode()
    assert f'<option value="{kit.round.pk}">{kit.round.name} (' in page
    assert "迎泽区专项" not in page  # nor anyone else's
