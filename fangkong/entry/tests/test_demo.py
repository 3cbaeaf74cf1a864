"""The demo gives the checkpoint officer and the grid worker real work (once)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from fangkong.core.demo import demo_login
from fangkong.entry import demo, selectors
from fangkong.entry.models import Category, Transfer
from fangkong.quarantine import demo as quarantine_demo

pytestmark = pytest.mark.django_db


def test_the_demo_has_arrivals_in_every_category_and_transfers_on_the_way(
    city, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        quarantine_demo.seed()
        summary = demo.seed()
    assert "checkpoints" in summary
    officer = demo_login("checkpoint_officer")
    today = selectors.arrival_list_for(officer, day=timezone.localdate())
    assert set(today.values_list("category", flat=True)) == set(Category.values)
    assert Transfer.objects.filter(state="departed", escalated_at__isnull=True).count() == 1
    late = Transfer.objects.get(state="departed", escalated_at__isnull=False)
    assert len(late.deviations) == 1  # a detour reported on the way
    assert selectors.handoff_list_for(demo_login("grid_worker")).exists()
    assert demo.seed().endswith("already there")
