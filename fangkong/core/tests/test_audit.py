import datetime as dt
import json

import pytest
from django.db import DatabaseError, connection, transaction

from fangkong.conftest import client_for, make_person
from fangkong.core.audit import audit_record, request_context
from fangkong.core.identity import make_prc_id
from fangkong.core.models import AuditEntry
from fangkong.core.selectors import audit_list_for
from fangkong.core.services import (
    PersonData,
    api_token_create,
    jurisdiction_create,
    jurisdiction_update,
    person_create,
    person_merge,
    person_unmask,
    person_update,
)

pytestmark = pytest.mark.django_db


def test_every_core_write_leaves_an_audit_row(city, commander):
    """Each service that writes adds exactly the rows it should, no write is silent."""
    a = make_person(city.xd_building)
    b = make_person(city.xd_building)
    calls = [
        lambda: jurisdiction_create(
            actor=commander, parent_id=city.xd_grid.pk, level="building", name_zh="9号楼"
        ),
        lambda: jurisdiction_update(
            actor=commander, jurisdiction_id=city.xd_grid.pk, name_en="Grid One"
        ),
        lambda: person_create(
            actor=commander,
            data=PersonData(
                doc_type="passport",
                doc_number="E12345678",
                name="Jane Roe",
                home_id=city.xd_building.pk,
            ),
        ),
        lambda: person_update(actor=commander, person_id=a.pk, data={"name": "张三丰"}),
        lambda: person_unmask(actor=commander, person_id=a.pk, reason="verify identity"),
        lambda: person_merge(actor=commander, keep_id=a.pk, duplicate_id=b.pk, reason="dup"),
        lambda: api_token_create(actor=commander, name="script"),
    ]
    expected = [
        "jurisdiction.create",
        "jurisdiction.update",
        "person.create",
        "person.update",
        "person.unmask",
        "person.merge",
        "api_token.create",
    ]
    for call, action in zip(calls, expected, strict=True):
        before = AuditEntry.objects.count()
        call()
        new = list(AuditEntry.objects.order_by("-id")[: AuditEntry.objects.count() - before])
        assert new, f"{action} left no audit row"
        assert all(e.action == action for e in new)
        assert all(e.actor_username == "commander" for e in new)


def test_audit_rows_carry_request_id_and_client_address(city, commander):
    with request_context("req-123", "10.1.2.3"):
        person_create(
            actor=commander,
            data=PersonData(
                doc_type="prc_id",
                doc_number=make_prc_id("140105", dt.date(1980, 1, 1), 11),
                name="赵六",
                home_id=city.xd_building.pk,
            ),
        )
    e = AuditEntry.objects.get(action="person.create")
    assert (e.request_id, e.client_ip) == ("req-123", "10.1.2.3")
    assert e.actor_jurisdiction_path == city.city.path


def test_api_requests_are_traced_by_request_id(city, commander):
    r = client_for(commander).post(
        "/api/v1/people",
        json.dumps(
            {
                "doc_type": "passport",
                "doc_number": "E7654321",
                "name": "Li Lei",
                "home_id": city.xd_building.pk,
            }
        ),
        content_type="application/json",
        HTTP_X_REQUEST_ID="trace-42",
    )
    assert r.status_code == 201
    assert r["X-Request-ID"] == "trace-42"
    assert AuditEntry.objects.get(action="person.create").request_id == "trace-42"


def test_audit_rows_cannot_be_changed_deleted_or_truncated(city, commander):
    entry = audit_record(actor=commander, action="test.action", object_type="x", object_id=1)
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()
    with pytest.raises(RuntimeError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
    # And the database itself refuses, whatever code path is used.
    table = AuditEntry._meta.db_table
    emptying = f"TRUNCATE {table}" if connection.vendor == "postgresql" else f"DELETE FROM {table}"
    for sql in (f"UPDATE {table} SET action = 'forged'", f"DELETE FROM {table}", emptying):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.action"


def test_auditors_see_only_entries_of_their_subtree(city, xiaodian_officer, yingze_officer):
    xd = make_person(city.xd_building)
    yz = make_person(city.yz_building, region="140106")
    person_update(actor=xiaodian_officer, person_id=xd.pk, data={"name": "小店人"})
    person_update(actor=yingze_officer, person_id=yz.pk, data={"name": "迎泽人"})
    from fangkong.conftest import make_staff

    xd_auditor = make_staff("xd_auditor", city.xiaodian, "auditor")
    seen = {e.person_id for e in audit_list_for(xd_auditor)}
    assert seen == {xd.pk}


def test_audit_api_filters_by_person_and_denies_non_auditors(city, auditor, grid_worker):
    p = make_person(city.xd_building)
    person_update(actor=grid_worker, person_id=p.pk, data={"home_unit": "1-101"})
    r = client_for(auditor).get(f"/api/v1/audit?person_id={p.pk}")
    assert r.status_code == 200
    assert [e["action"] for e in r.json()["items"]] == ["person.update"]
    assert client_for(grid_worker).get("/api/v1/audit").status_code == 403


def test_audit_api_rejects_a_malformed_time_filter(city, auditor):
    r = client_for(auditor).get("/api/v1/audit?since=yesterday")
    assert r.status_code == 400
    assert "since" in r.json()["error"]["fields"]
