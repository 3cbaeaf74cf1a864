"""Audit search and CSV export in the staff pages."""

import csv
import io

import pytest

from fangkong.conftest import client_for, make_person
from fangkong.core import labels, services
from fangkong.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(city, commander, yingze_officer):
    xd = make_person(city.xd_building, name="钱一", phone="13812345678")
    yz = make_person(city.yz_building, name="钱二", region="140106")
    services.person_unmask(actor=commander, person_id=xd.pk, reason="tracing a contact")
    services.person_update(actor=yingze_officer, person_id=yz.pk, data={"name": "钱二二"})
    return xd, yz


def test_the_auditor_searches_the_trail(history, auditor):
    xd, yz = history
    c = client_for(auditor)
    r = c.get("/audit/")
    assert r.status_code == 200
    assert len(r.context["entries"].items) == 2
    r = c.get("/audit/", {"person_id": xd.pk})
    assert [e.person_id for e in r.context["entries"].items] == [xd.pk]
    assert "tracing a contact" in r.content.decode()
    r = c.get("/audit/", {"actor": "yingze", "action": "person.update"})
    assert [e.person_id for e in r.context["entries"].items] == [yz.pk]
    r = c.get("/audit/", {"since": "2000-01-01T00:00", "until": "2000-01-02T00:00"})
    assert r.context["entries"].items == []


def test_audit_search_is_scoped_to_the_users_area(history, city):
    from fangkong.conftest import make_staff

    inspector = make_staff("inspector", city.xiaodian, "inspector")
    r = client_for(inspector).get("/audit/")
    assert [e.action for e in r.context["entries"].items] == ["person.unmask"]


def test_bad_audit_filters_name_the_field(history, auditor):
    r = client_for(auditor).get("/audit/", {"person_id": "abc"})
    assert r.status_code == 422
    assert "person_id" in r.context["form"].errors
    r = client_for(auditor).get(
        "/audit/", {"since": "2025-01-02T00:00", "until": "2025-01-01T00:00"}
    )
    assert "until" in r.context["form"].errors


def test_the_audit_page_needs_the_capability(history, xiaodian_officer):
    assert client_for(xiaodian_officer).get("/audit/").status_code == 403


def test_the_export_streams_csv_and_is_itself_audited(history, auditor):
    xd, _yz = history
    r = client_for(auditor).get("/audit/export.csv", {"person_id": xd.pk})
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/csv")
    assert r.streaming
    text = r.getvalue().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["action"] for row in rows] == ["person.unmask"]
    assert rows[0]["reason"] == "tracing a contact"
    assert "13812345678" not in text
    export = AuditEntry.objects.get(action="audit.export")
    assert export.actor == auditor
    assert export.changes == {"person_id": [None, xd.pk]}


def test_the_export_needs_its_own_capability(history, city):
    from fangkong.conftest import make_staff

    inspector = make_staff("inspector", city.city, "inspector")  # audit.view, not export
    assert client_for(inspector).get("/audit/export.csv").status_code == 403
    assert not AuditEntry.objects.filter(action="audit.export").exists()


def test_export_cells_that_look_like_formulas_are_neutralised(city, commander, auditor):
    p = make_person(city.xd_building)
    services.person_unmask(actor=commander, person_id=p.pk, reason="=HYPERLINK(evil)")
    r = client_for(auditor).get("/audit/export.csv")
    text = r.getvalue().decode("utf-8-sig")
    assert "'=HYPERLINK(evil)" in text


def test_the_auditor_reads_what_each_row_is_about(history, auditor, city, investigator):
    """A row names its object in words (a person by name, a case by its number and
    person), not only its kind; the names are read in one query per kind."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fangkong.investigation.tests.casekit import days_ago, new_case

    case = new_case(
        investigator,
        make_person(city.xd_building, name="孙三"),
        onset=days_ago(3),
        reported=days_ago(1),
    )
    c = client_for(auditor)
    r = c.get("/audit/")
    rows = {(e.object_type, e.object_name) for e in r.context["entries"].items}
    assert ("core.person", "钱二二") in rows
    assert ("investigation.case", f"{case.number} · 孙三") in rows
    page = r.content.decode()
    assert f"{case.number} · 孙三" in page and "钱二二" in page
    # The names of a page's rows are read in one query per kind of object.
    pairs = [(e.object_type, e.object_id) for e in r.context["entries"].items]
    with CaptureQueriesContext(connection) as read:
        labels.object_names(pairs + pairs)
    named = {kind for kind, object_id in pairs if kind in labels.NAMES and object_id.isdigit()}
    assert {"core.person", "investigation.case"} <= named and len(read) == len(named)


def test_the_audit_page_reads_its_rows_staff_and_roles_at_once(city, auditor, investigator):
    """More rows by the same staff cost no more queries (who made each entry and
    their roles are read with the page, not once a row)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    person = make_person(city.xd_building, name="周一")
    c = client_for(auditor)
    services.person_update(actor=investigator, person_id=person.pk, data={"name": "周二"})
    with CaptureQueriesContext(connection) as few:
        assert c.get("/audit/").status_code == 200
    for i in range(5):
        services.person_update(actor=investigator, person_id=person.pk, data={"name": f"周{i}"})
    with CaptureQueriesContext(connection) as many:
        r = c.get("/audit/")
    assert len(r.context["entries"].items) == 6
    assert len(many) == len(few), [q["sql"][:90] for q in many.captured_queries]
    from fangkong.core.models import Role

    assert str(Role.objects.get(code="investigator").name) in r.content.decode()
