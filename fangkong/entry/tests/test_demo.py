"""The demo gives the checkpoint officer and the grid worker real work (once)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from fangkong.core.demo import demo_login
from fangkong.entry import demo, selectors
from fangkong.entry.models import ArrivalTest, Category, Transfer
from fangkong.quarantine import demo as quarantine_demo
from fangkong.screening.models import Tube

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
    # Arrival tests taken at the checkpoints are screening tubes of the district's
    # arrival-test round; the last arrival still waits for the officer's scan.
    sampled = ArrivalTest.objects.filter(state="sampled")
    assert sampled.exists() and ArrivalTest.objects.filter(number=1, state="due").exists()
    tubes = Tube.objects.filter(barcode__in=sampled.values("tube_barcode"))
    assert tubes.count() == sampled.values("tube_barcode").distinct().count()
    assert set(tubes.values_list("round__target", flat=True)) == {"arrivals"}
    assert demo.seed().endswith("already there")
