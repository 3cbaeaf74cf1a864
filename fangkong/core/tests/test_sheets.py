"""The one export writer: formulas neutralised in CSV, text typed as text in XLSX."""

import csv
import io
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from fangkong.conftest import client_for
from fangkong.core.services import jurisdiction_update
from fangkong.core.sheets import csv_stream, xlsx_stream
from fangkong.core.tabular import read_table

pytestmark = pytest.mark.django_db

DANGEROUS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def test_csv_cells_that_would_run_as_formulas_are_text_and_read_back_as_written():
    data = b"".join(csv_stream(["name", "n"], ([v, 1] for v in DANGEROUS)))
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8-sig")
    written = list(csv.reader(io.StringIO(text, newline="")))[1:]
    assert [row[0] for row in written] == ["'" + v for v in DANGEROUS]
    assert {row[1] for row in written} == {"1"}  # numbers are not touched
    table = read_table(text)
    assert [cells[0] for _row, cells in table.rows][:-1] == DANGEROUS[:-1]


def test_xlsx_text_cells_are_never_formulas():
    data = b"".join(xlsx_stream("T", ["name", "n"], ([v, 2] for v in DANGEROUS)))
    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(min_row=2))
    assert [r[0].value for r in rows][:-1] == DANGEROUS[:-1]  # (a lone CR is kept as LF)
    assert {r[0].data_type for r in rows} == {"s"} and rows[0][1].value == 2


def test_coverage_xlsx_writes_an_area_named_like_a_formula_as_text():
    from fangkong.screening.exports import coverage_xlsx

    row = SimpleNamespace(
        name="=1+1",
        target=10,
        excluded=0,
        sampled=5,
        with_result=5,
        negative=5,
        positive=0,
        coverage=50.0,
    )
    sheet = load_workbook(io.BytesIO(b"".join(coverage_xlsx([row])))).active
    cell = sheet.cell(row=2, column=1)
    assert cell.value == "=1+1" and cell.data_type == "s"


def test_the_jurisdiction_csv_export_neutralises_names_and_reimports_them_unchanged(
    city, commander
):
    jurisdiction_update(
        actor=commander, jurisdiction_id=city.xd_grid.pk, name_en="=cmd|'/c calc'!A1"
    )
    r = client_for(commander).get("/api/v1/jurisdictions/export", {"format": "csv"})
    text = r.getvalue().decode("utf-8-sig")
    assert "'=cmd|" in text and ",=cmd|" not in text
    table = read_table(text)
    names = [table.cell(cells, "name_en") for _row, cells in table.rows]
    assert "=cmd|'/c calc'!A1" in names


def test_the_audit_export_goes_through_the_writer(city, auditor, commander):
    jurisdiction_update(
        actor=commander, jurisdiction_id=city.xd_grid.pk, name_en="x", reason="=2+2"
    )
    r = client_for(auditor).get("/audit/export.csv")
    text = r.getvalue().decode("utf-8-sig")
    assert "'=2+2" in text


def test_xlsx_starts_leaving_before_a_row_is_read_and_reads_back_whole():
    import datetime as dt

    read: list[int] = []

    def rows():
        for i in range(3000):
            read.append(i)
            yield [f"第{i}行", i, dt.date(2026, 12, 5), i % 2 == 0]

    chunks = xlsx_stream("T", ["名称", "n", "日期", "是否"], rows())
    first = next(chunks)
    assert first and read == []
    data = first + b"".join(chunks)
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.max_row == 3001
    last = [c.value for c in sheet[3001]]
    assert last[:2] == ["第2999行", 2999] and last[2].date() == dt.date(2026, 12, 5)
    assert last[3] is False
