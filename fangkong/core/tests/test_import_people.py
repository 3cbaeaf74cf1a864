import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.test import override_settings

from fangkong.conftest import make_person
from fangkong.core.crypto import decrypt
from fangkong.core.errors import PermissionDenied
from fangkong.core.identity import make_prc_id
from fangkong.core.imports import people_import
from fangkong.core.models import AuditEntry, Jurisdiction, Person
from fangkong.core.selectors import person_timeline
from fangkong.core.tabular import FileRejected, FileTooLarge, ImportRejected

pytestmark = pytest.mark.django_db


HEADER = ["doc_type", "doc_number", "name", "sex", "birth_date", "phone", "building_id", "unit"]
# ../shared beside the repository (as laid out for developers and CI).
PATIENT_INFO = Path(__file__).resolve().parents[4] / "shared/datasets/ds4c/PatientInfo.csv"


def doc(n, birth=dt.date(1980, 1, 2), region="140105"):
    return make_prc_id(region, birth, n)


def bad_checksum(number):
    last = "0" if number[-1] != "0" else "1"
    return number[:-1] + last


def csv_bytes(rows, header=HEADER, encoding="utf-8"):
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue().encode(encoding)


def run(actor, data, name="people.csv", **kw):
    return people_import(actor=actor, fileobj=io.BytesIO(data), filename=name, **kw)


def row(n, building, *, name="王芳", phone="13800138000", unit="1-101", number=None):
    return ["prc_id", number or doc(n), name, "", "", phone, str(building.pk), unit]


def broken_file(city):
    b = city.xd_building
    return csv_bytes(
        [
            row(1, b),  # row 2: valid
            row(2, b, number=bad_checksum(doc(2))),  # row 3: bad check digit
            row(3, b),  # row 4: valid
            row(4, b, phone="12345"),  # row 5: malformed phone
            ["prc_id", doc(5), "赵六", "", "", "", "999999", ""],  # row 6: unknown building
            row(1, b, name="王芳重复"),  # row 7: same document as row 2
        ]
    )


def test_a_broken_file_reports_every_error_by_row_and_column_and_writes_nothing(
    city, xiaodian_officer
):
    with pytest.raises(ImportRejected) as exc:
        run(xiaodian_officer, broken_file(city))
    result = exc.value.result
    found = {(e.row, e.column) for e in result.errors}
    assert found == {(3, "doc_number"), (5, "phone"), (6, "building_id"), (7, "doc_number")}
    messages = {e.row: e.message for e in result.errors}
    assert "check digit" in messages[3]
    assert "row 2" in messages[7]
    assert result.created == 0 and result.rejected == 4 and result.rows == 6
    assert exc.value.code == "import_invalid"
    assert [r["row"] for r in exc.value.extra["rows"]] == [3, 5, 6, 7]
    assert Person.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_valid_only_mode_imports_the_good_rows_and_writes_the_rest_to_an_error_file(
    city, xiaodian_officer
):
    result = run(xiaodian_officer, broken_file(city), mode="valid_only")
    assert result.created == 2 and result.rejected == 4
    assert Person.objects.count() == 2
    rows = list(csv.reader(io.StringIO(result.error_file.decode("utf-8-sig"))))
    assert rows[0] == [*HEADER, "error"]
    assert len(rows) == 5
    assert rows[1][1] == bad_checksum(doc(2)) and "Row 3" in rows[1][-1]
    # The operator fixes the rejected rows and imports the error file again.
    fixed = []
    for r in rows[1:]:
        if r[5] == "12345":
            r[5] = "13900139000"
        if r[6] == "999999":
            r[6] = str(city.xd_building2.pk)
        if r[1] == bad_checksum(doc(2)):
            r[1] = doc(2)
        fixed.append(r)
    again = run(
        xiaodian_officer, csv_bytes(fixed[:-1], header=rows[0]), mode="all_or_nothing"
    )  # the last row is the in-file duplicate, now already registered
    assert again.created == 3 and again.rejected == 0
    assert Person.objects.count() == 5


def test_an_import_leaves_one_import_row_and_a_timeline_entry_per_person(city, xiaodian_officer):
    data = csv_bytes([row(1, city.xd_building), row(2, city.xd_building2, phone="")])
    result = run(xiaodian_officer, data, name="小店.csv")
    batch = AuditEntry.objects.get(action="person.import")
    assert batch.object_id == result.import_id
    assert batch.changes["created"] == [None, 2]
    assert batch.changes["file"] == [None, "小店.csv"]
    assert batch.changes["mode"] == [None, "all_or_nothing"]
    assert batch.actor_username == "xiaodian"
    for person in Person.objects.all():
        (entry,) = person_timeline(xiaodian_officer, person)
        assert entry.action == "person.create"
        assert entry.changes["import_id"] == [None, result.import_id]
        assert "小店.csv" in entry.reason
        assert "doc_number" in entry.changes and "*" in entry.changes["doc_number"][1]
    assert AuditEntry.objects.count() == 3


def test_it_stores_identifiers_encrypted_and_derives_birth_date_and_sex(city, xiaodian_officer):
    number = make_prc_id("140105", dt.date(1990, 3, 7), 123)
    run(xiaodian_officer, csv_bytes([row(0, city.xd_building, number=number)]))
    p = Person.objects.get()
    assert decrypt(p.doc_number_encrypted) == number and number not in p.doc_masked
    assert p.birth_date == dt.date(1990, 3, 7) and p.sex == "M"
    assert decrypt(p.phone_encrypted) == "+8613800138000"
    assert p.home == city.xd_building and p.home_unit == "1-101"
    assert p.scope_path == city.xd_building.path


def test_a_building_of_another_district_is_an_error(city, xiaodian_officer):
    data = csv_bytes([row(1, city.yz_building)])
    with pytest.raises(ImportRejected) as exc:
        run(xiaodian_officer, data)
    (err,) = exc.value.result.errors
    assert (err.row, err.column) == (2, "building_id")
    assert "jurisdiction" in err.message
    assert Person.objects.count() == 0


def test_a_building_can_be_named_by_its_official_code(city, xiaodian_officer):
    Jurisdiction.objects.filter(pk=city.xd_building.pk).update(code="140105-B1")
    Jurisdiction.objects.filter(pk=city.yz_building.pk).update(code="140106-B1")
    header = ["doc_number", "name", "building_code"]
    ok = csv_bytes([[doc(1), "甲", "140105-B1"]], header=header)
    assert run(xiaodian_officer, ok).created == 1
    assert Person.objects.get().home_id == city.xd_building.pk
    other = csv_bytes([[doc(2), "乙", "140106-B1"], [doc(3), "丙", "140105"]], header=header)
    with pytest.raises(ImportRejected) as exc:
        run(xiaodian_officer, other)
    # Another district's building and a district (not a building) are both unknown here.
    assert [(e.row, e.column) for e in exc.value.result.errors] == [
        (2, "building_code"),
        (3, "building_code"),
    ]


def test_someone_already_registered_is_rejected(city, xiaodian_officer):
    existing = make_person(city.yz_building, region="140106")
    number = decrypt(existing.doc_number_encrypted)
    with pytest.raises(ImportRejected) as exc:
        run(xiaodian_officer, csv_bytes([row(0, city.xd_building, number=number)]))
    (err,) = exc.value.result.errors
    assert err.column == "doc_number" and "already registered" in err.message
    assert Person.objects.count() == 1


def test_it_reads_an_xlsx_workbook_with_chinese_headers(city, xiaodian_officer):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["证件类型", "证件号码", "姓名", "性别", "出生日期", "手机号", "楼栋ID", "单元"])
    ws.append(["居民身份证", doc(11), "李雷", "", dt.datetime(1980, 1, 2), 13800138000, "", ""])
    ws.append([])  # blank rows are skipped but still counted
    ws.append(["护照", "E12345678", "Jane Doe", "女", "1975-05-06", "", city.xd_building.pk, "3"])
    ws["I1"] = "重点人群"
    ws["J1"] = "行动不便"
    ws["K1"] = "语言"
    ws["I2"], ws["J2"] = "医务人员|teachers", "是"
    ws["I4"], ws["J4"], ws["K4"] = "delivery", "否", "English"
    buf = io.BytesIO()
    wb.save(buf)
    result = run(xiaodian_officer, buf.getvalue(), name="people.xlsx")
    assert result.created == 2 and result.rows == 2
    lee = Person.objects.get(name="李雷")
    assert lee.sex == "M" and lee.limited_mobility and lee.home_id is None
    assert sorted(g.code for g in lee.key_groups.all()) == ["medical_staff", "teachers"]
    assert lee.scope_path == city.xiaodian.path  # no home: the importer's area
    jane = Person.objects.get(name="Jane Doe")
    assert jane.doc_type == "passport" and jane.sex == "F" and jane.language == "en"
    assert jane.birth_date == dt.date(1975, 5, 6) and jane.home == city.xd_building


def test_xlsx_errors_give_spreadsheet_row_numbers(city, xiaodian_officer):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["证件号码", "姓名", "楼栋ID"])
    ws.append([doc(1), "甲", city.xd_building.pk])
    ws.append([140105198001020012.0, "乙", city.xd_building.pk])  # typed as a number
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(ImportRejected) as exc:
        run(xiaodian_officer, buf.getvalue(), name="people.xlsx")
    (err,) = exc.value.result.errors
    assert (err.row, err.column) == (3, "证件号码")
    assert "Text" in err.message


def test_it_reads_gb18030_csv_as_chinese_offices_produce_it(city, xiaodian_officer):
    header = ["证件号码", "姓名", "性别", "手机号", "楼栋ID", "重点人群", "行动不便"]
    rows = [
        [
            doc(22),
            "欧阳娜娜",
            "男",
            "139 0013 9000",
            str(city.xd_building.pk),
            "冷链从业人员",
            "否",
        ],
        [doc(21), "令狐冲", "", "", str(city.xd_building.pk), "", "1"],
    ]
    data = csv_bytes(rows, header=header, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    with pytest.raises(ImportRejected) as exc:
        run(xiaodian_officer, data)
    (err,) = exc.value.result.errors  # 男 contradicts the ID (even sequence: female)
    assert (err.row, err.column) == (2, "性别")
    rows[0][2] = "女"
    result = run(xiaodian_officer, csv_bytes(rows, header=header, encoding="gb18030"))
    assert result.created == 2
    names = set(Person.objects.values_list("name", flat=True))
    assert names == {"欧阳娜娜", "令狐冲"}
    assert Person.objects.get(name="欧阳娜娜").key_groups.get().code == "cold_chain"


def test_it_reads_utf8_with_a_byte_order_mark(city, xiaodian_officer):
    data = b"\xef\xbb\xbf" + csv_bytes([row(1, city.xd_building)])
    assert run(xiaodian_officer, data).created == 1


@pytest.mark.parametrize(
    ("content", "name", "words"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "photo.csv", "not a spread"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls", ".xls"),
        (b"doc_number,name\n", "people.xlsx", "not an Excel"),
        (None, "archive.xlsx", "not an Excel workbook"),
        (b"", "people.csv", "empty"),
        (b"\n\n  \n", "people.csv", "empty"),
    ],
)
def test_it_refuses_files_that_are_not_spreadsheets(city, xiaodian_officer, content, name, words):
    if content is None:  # a zip file that is not a workbook
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("readme.txt", "hello")
        content = buf.getvalue()
    with pytest.raises(FileRejected) as exc:
        run(xiaodian_officer, content, name=name)
    assert words in str(exc.value.message)
    assert "file" in exc.value.fields
    assert Person.objects.count() == 0


def test_it_refuses_a_file_with_a_header_but_no_rows(city, xiaodian_officer):
    with pytest.raises(FileRejected) as exc:
        run(xiaodian_officer, csv_bytes([]))
    assert "no data rows" in str(exc.value.message)


@override_settings(FANGKONG_MAX_IMPORT_BYTES=200)
def test_it_refuses_a_file_that_is_too_large(city, xiaodian_officer):
    data = csv_bytes([row(i, city.xd_building) for i in range(1, 10)])
    assert len(data) > 200
    with pytest.raises(FileTooLarge) as exc:
        run(xiaodian_officer, data)
    assert exc.value.status == 413
    assert Person.objects.count() == 0


def test_a_real_line_list_is_not_a_registry_file_and_the_missing_columns_are_named(
    city, xiaodian_officer
):
    if not PATIENT_INFO.exists():
        pytest.skip("the DS4C data set is not on this machine")
    with PATIENT_INFO.open("rb") as f, pytest.raises(FileRejected) as exc:
        people_import(actor=xiaodian_officer, fileobj=f, filename=PATIENT_INFO.name)
    assert exc.value.extra["missing_columns"] == [
        "doc_number",
        "name",
        "building_code / building_id",
    ]
    assert "doc_number" in str(exc.value.message)
    assert Person.objects.count() == 0


def test_a_column_given_twice_is_refused(city, xiaodian_officer):
    data = csv_bytes([[doc(1), "甲", "乙", ""]], header=["证件号码", "name", "姓名", "楼栋ID"])
    with pytest.raises(FileRejected) as exc:
        run(xiaodian_officer, data)
    assert "姓名" in str(exc.value.message)


def test_cell_values_are_checked_one_by_one(city, xiaodian_officer):
    header = [*HEADER, "key_groups", "limited_mobility", "language"]
    b = str(city.xd_building.pk)
    data = csv_bytes(
        [
            ["prc_id", doc(1), "甲", "X", "1980-13-40", "", b, "", "", "", ""],
            ["visa", "AB123", "乙", "", "", "", b, "", "astronauts", "maybe", "fr"],
        ],
        header=header,
    )
    with pytest.raises(ImportRejected) as exc:
        run(xiaodian_officer, data)
    found = {(e.row, e.column) for e in exc.value.result.errors}
    assert found == {
        (2, "sex"),
        (2, "birth_date"),
        (3, "doc_type"),
        (3, "key_groups"),
        (3, "limited_mobility"),
        (3, "language"),
    }


def test_only_staff_who_may_import_can(city, grid_worker):
    with pytest.raises(PermissionDenied):
        run(grid_worker, csv_bytes([row(1, city.xd_building)]))
    assert Person.objects.count() == 0


def test_a_damaged_workbook_is_refused_with_a_clear_message(city, xiaodian_officer):
    wb = openpyxl.Workbook()
    wb.active.append(["doc_number", "name", "building_id"])
    buf = io.BytesIO()
    wb.save(buf)
    damaged = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]  # truncated XML
            dst.writestr(item, data)
    with pytest.raises(FileRejected) as exc:
        run(xiaodian_officer, damaged.getvalue(), name="people.xlsx")
    assert "workbook" in str(exc.value.message)
