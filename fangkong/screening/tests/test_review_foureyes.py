"""The review of a held lab report is a second person's (issue 22): not the account
that reported it, nor an account linked to it (one created the other)."""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.conftest import client_for, make_staff
from fangkong.core.audit import audit_record
from fangkong.core.errors import PermissionDenied
from fangkong.screening.models import ResultReport
from fangkong.screening.services import results
from fangkong.screening.tests.kit import Kit, build


@pytest.fixture
def kit(city: Any) -> Kit:
    return build(city)


def held(kit: Kit, actor: Any) -> ResultReport:
    results.results_import(
        actor=actor, lab_id=kit.lab.pk, rows=[{"tube": "NOPE9", "result": "negative"}]
    )
    return ResultReport.objects.get(tube_barcode="NOPE9")


def test_the_reporter_does_not_review_his_own_report(kit: Kit) -> None:
    both = make_staff("lab-and-manager", kit.city.city, "lab_technician", "city_commander")
    report = held(kit, both)
    with pytest.raises(PermissionDenied) as exc:
        results.report_review(actor=both, report_id=report.pk, note="没问题")
    assert exc.value.code == "own_report"
    r = client_for(both).post(
        "/screening/reviews/", {"report_id": report.pk, f"r{report.pk}-note": "没问题"}
    )
    assert r.status_code in (400, 403)
    report.refresh_from_db()
    assert report.status == ResultReport.Status.HELD_UNKNOWN


def test_nor_does_the_account_that_created_the_reporters(kit: Kit) -> None:
    report = held(kit, kit.labtech)
    audit_record(actor=kit.manager, action="staff.create", obj=kit.labtech)
    with pytest.raises(PermissionDenied) as exc:
        results.report_review(actor=kit.manager, report_id=report.pk, note="没问题")
    assert exc.value.code == "linked_account"
    other = make_staff("commander-2", kit.city.city, "city_commander")
    report = results.report_review(actor=other, report_id=report.pk, note="核实：未知管号")
    assert report.status == ResultReport.Status.RESOLVED
