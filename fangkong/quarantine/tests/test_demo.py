"""The demo gives the quarantine manager real work (and runs only once)."""

from __future__ import annotations

import pytest

from fangkong.conftest import make_person, make_staff
from fangkong.quarantine import demo
from fangkong.quarantine.models import ActivationProposal, Approval, BreachReport, Site, Stay
from fangkong.quarantine.selectors import shared

pytestmark = pytest.mark.django_db


def test_the_demo_has_every_state_work_to_do_and_a_tier_about_to_be_proposed(
    city, django_capture_on_commit_callbacks
):
    for i in range(70):
        make_person(city.xd_building if i % 2 else city.xd_building2, name=f"居民{i}")
    with django_capture_on_commit_callbacks(execute=True):
        summary = demo.seed()
    assert "quarantine sites" in summary
    assert set(Site.objects.values_list("state", flat=True)) == {s.value for s in Site.State}
    assert Stay.objects.filter(state="pending").count() == 4
    assert Stay.objects.filter(suspected_at__isnull=False).count() == 1
    assert Approval.objects.filter(state="pending").count() == 1
    assert BreachReport.objects.filter(state="open").count() == 1
    assert not ActivationProposal.objects.exists()
    manager = make_staff("qm", city.xiaodian, "quarantine_manager")
    work = {w.code: w.count for w in shared.work_items(manager)}
    assert work["waiting"] == 4
    assert work["releases"] >= 1
    assert work["rotation"] >= 1
    assert work["staff_tests"] == 1  # a rotated nurse's day-4 test is due today
    pools = shared.occupancy(manager)
    assert pools[0].percent == 75
    assert pools[0].next_site == "学府街培训中心"
    assert demo.seed().endswith("already there")
