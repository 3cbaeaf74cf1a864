"""The shared pieces of every import: decoding, row numbers, row errors."""

import pytest
from django.utils import translation

from fangkong.core.tabular import (
    FIRST_DATA_ROW,
    FileRejected,
    ImportRejected,
    RowError,
    csv_records,
    decode_text,
    json_lines,
    read_table,
)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


TEXT = "tube,result\nT1,阴性\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_utf8_with_or_without_bom_and_gb18030_decode_alike(encoding):
    assert decode_text(TEXT.encode(encoding)) == TEXT


@pytest.mark.parametrize(
    "data", [TEXT.encode("utf-16"), b"\xff\xfe\x00garbage\x81", b"a,b\n\x00\x00,1\n"]
)
def test_utf16_undecodable_bytes_and_nul_characters_get_the_one_message(data):
    with pytest.raises(FileRejected) as exc:
        decode_text(data)
    assert exc.value.code == "invalid_file"
    assert exc.value.fields["file"] == (
        "The file is not readable text: save it as CSV in UTF-8 (or GB18030/GBK)."
    )


def test_the_message_is_translated():
    with translation.override("zh-hans"), pytest.raises(FileRejected) as exc:
        decode_text(b"\xff\xfe\x00")
    assert "UTF-8" in exc.value.fields["file"] and "文件" in exc.value.fields["file"]


def test_rows_are_numbered_as_in_the_spreadsheet_header_being_row_one():
    text = 'a,b\n1,2\n\n"multi\nline",3\n4,5\n'
    table = read_table(text)
    assert table.header == ["a", "b"]
    rows = list(table.rows)
    # The blank row 3 is skipped but still counted; a quoted cell over two lines is one row.
    assert [n for n, _cells in rows] == [FIRST_DATA_ROW, 4, 5]
    assert rows[1][1] == ["multi\nline", "3"]


def test_the_delimiter_is_guessed_from_the_header():
    assert list(csv_records("a;b\n1;2\n")) == [(1, ["a", "b"]), (2, ["1", "2"])]
    assert list(csv_records("a\tb\n1\t2\n")) == [(1, ["a", "b"]), (2, ["1", "2"])]


def test_a_table_needs_a_header_and_a_data_row():
    with pytest.raises(FileRejected, match="empty"):
        read_table("\n\n")
    with pytest.raises(FileRejected, match="no data rows"):
        read_table("tube,result\n")


def test_cells_are_read_by_column_name_in_any_case():
    table = read_table("\ufeffTube , Result\nT1\n")
    _n, cells = next(table.rows)
    assert table.cell(cells, "tube") == "T1" and table.cell(cells, "result") == ""


def test_json_lines_are_numbered_from_one_and_must_be_objects():
    assert list(json_lines('{"a": 1}\n\n{"a": 2}\n')) == [(1, {"a": 1}), (3, {"a": 2})]
    with pytest.raises(FileRejected, match="Line 2 is not valid JSON"):
        list(json_lines('{"a": 1}\n{oops\n'))
    with pytest.raises(FileRejected, match="Line 1 is not a JSON object"):
        list(json_lines("[1]\n"))


def test_a_rejected_import_reports_every_row_error_in_one_shape():
    errors = [
        RowError(3, "result", "A result is negative, positive or invalid."),
        RowError(2, "tube", "A tube barcode is required."),
        RowError(3, "ct_N", "A Ct value is a number."),
    ]
    exc = ImportRejected(errors)
    body = exc.as_dict()["error"]
    assert body["code"] == "import_invalid" and exc.status == 400
    assert body["message"].startswith("2 rows of the file are not valid; nothing was imported")
    assert [(r["row"], r["column"]) for r in body["rows"]] == [
        (2, "tube"),
        (3, "result"),
        (3, "ct_N"),
    ]
    assert body["error_count"] == 3 and body["rows_truncated"] is False
    assert str(errors[1]) == "row 2, tube: A tube barcode is required."
