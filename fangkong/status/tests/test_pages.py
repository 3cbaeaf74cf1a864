"""Staff pages: overview, person panel (request), approvals, report; denial."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from fangkong.conftest import client_for, make_person
from fangkong.status.models import ManualRequest, Reason
from fangkong.status.services import reasons_grant


def test_person_panel_request_then_approve_on_the_queue(
    city: Any, grid_worker: Any, xiaodian_officer: Any, yingze_officer: Any, auditor: Any
) -> None:
    p = make_person(city.xd_building)
    reasons_grant(kind="controlled_zone", person_ids=[p.pk], source_type="zones.zone", source_id=4)
    c = client_for(grid_worker)
    page = c.get(f"/status/people/{p.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Controlled zone" in page.content.decode()
    assert client_for(yingze_officer).get(f"/status/people/{p.pk}/").status_code == 404
    # Missing basis and end: refused with the errors on the form, nothing stored.
    bad = c.post(f"/status/people/{p.pk}/", {"action": "grant", "level": "red", "text": "x"})
    assert bad.status_code == 422
    assert not ManualRequest.objects.exists()
    ends = (timezone.localtime() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    ok = c.post(
        f"/status/people/{p.pk}/",
        {
            "action": "grant",
            "level": "red",
            "basis": "epidemiological_investigation",
            "source_ref": "Case 2022-0117",
            "text": "Household member of a confirmed case abroad",
            "ends_at": ends,
        },
    )
    assert ok.status_code == 302
    req = ManualRequest.objects.get()
    assert not Reason.objects.filter(kind="manual").exists()
    queue = client_for(xiaodian_officer).get("/status/approvals/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Household member" in queue.content.decode()
    r = client_for(xiaodian_officer).post(
        f"/status/approvals/{req.pk}/decide/", {"decision": "approve"}
    )
    assert r.status_code == 302
    assert Reason.objects.filter(kind="manual", person=p).exists()
    report = client_for(auditor).get("/status/report/", HTTP_ACCEPT_LANGUAGE="en")
    assert report.status_code == 200
    assert "Household member" in report.content.decode()
    assert client_for(grid_worker).get("/status/report/").status_code == 403


def test_overview_counts(city: Any, commander: Any) -> None:
    p = make_person(city.xd_building)
    reasons_grant(kind="sealed_zone", person_ids=[p.pk], source_type="zones.zone", source_id=1)
    page = client_for(commander).get("/status/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Red" in page.content.decode()
