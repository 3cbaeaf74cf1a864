"""Case and contact line lists as CSV and XLSX, streamed in keyset pages: the case
list's filters, places never names (names and full numbers only for a user who
may unmask, with a reason), every export audited, another district's filter a 404."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from fangkong.conftest import client_for, make_person
from fangkong.core.models import AuditEntry
from fangkong.investigation import exports
from fangkong.investigation.tests.casekit import new_case, new_contact

pytestmark = pytest.mark.django_db


def _csv(response):
    assert response.status_code == 200
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def _cases(city, commander):
    a = new_case(commander, make_person(city.xd_building, name="李秘密", phone="13800138000"))
    b = new_case(commander, make_person(city.xd_building2, name="赵秘密"))
    c = new_case(commander, make_person(city.yz_building, name="钱秘密"))
    return a, b, c


def test_the_case_line_list_holds_the_filtered_cases_by_place_without_names(city, commander):
    a, b, _c = _cases(city, commander)
    rows = _csv(
        client_for(commander).get(
            f"/investigation/cases/line-list/?district={city.xiaodian.pk}",
            HTTP_ACCEPT_LANGUAGE="en",
        )
    )
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Case number", "Disease", "Classification"]
    assert {"District", "Community", "Grid", "Sex", "Age", "Phone"} <= set(header)
    assert "Name" not in header
    assert sorted(r[0] for r in body) == sorted([a.number, b.number])
    text = str(rows)
    assert "秘密" not in text and "13800138000" not in text
    district = header.index("District")
    assert {r[district] for r in body} == {city.xiaodian.name_en}
    entry = AuditEntry.objects.get(action="case.linelist.export")
    assert entry.changes["unmasked"] == [None, False]


def test_names_and_full_numbers_need_the_right_and_a_reason_and_are_audited(
    city, commander, xiaodian_officer
):
    _cases(city, commander)
    c = client_for(commander)
    assert c.get("/investigation/cases/line-list/?unmask=on").status_code == 400
    rows = _csv(c.get("/investigation/cases/line-list/?unmask=on&reason=流调溯源需要"))
    assert "李秘密" in str(rows) and "13800138000" in str(rows)
    entry = AuditEntry.objects.filter(action="case.linelist.export").latest("id")
    assert (entry.changes["unmasked"], entry.reason) == ([None, True], "流调溯源需要")
    refused = client_for(xiaodian_officer).get(
        "/investigation/cases/line-list/?unmask=on&reason=想看看名字"
    )
    assert refused.status_code == 403


def test_pages_follow_each_other_without_a_row_lost_or_repeated(city, commander, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 2)
    made = [new_case(commander, make_person(city.xd_building)).number for _i in range(5)]
    rows = _csv(client_for(commander).get("/investigation/cases/line-list/"))
    assert sorted(r[0] for r in rows[1:]) == sorted(made)


def test_the_xlsx_line_list_and_the_contact_line_list(city, commander):
    a, _b, _c = _cases(city, commander)
    new_contact(commander, make_person(city.xd_building, name="孙秘密"), case=a)
    response: Any = client_for(commander).get(
        "/investigation/cases/line-list/?format=xlsx", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    assert sheet.max_row == 4
    assert [c.value for c in sheet[1]][2] == "病例分类"
    rows = _csv(client_for(commander).get("/investigation/contacts/line-list/"))
    assert len(rows) == 2 and a.number in rows[1]
    assert "孙秘密" not in str(rows)


def test_another_districts_filter_is_a_404(city, commander, xiaodian_officer):
    _cases(city, commander)
    c = client_for(xiaodian_officer)
    assert c.get(f"/investigation/cases/line-list/?district={city.yingze.pk}").status_code in (
        400,
        404,
    )
    rows = _csv(c.get("/investigation/cases/line-list/"))
    assert len(rows) == 3  # header and Xiaodian's two cases
    assert c.get("/investigation/cases/line-list/?format=pdf").status_code == 400
