"""The stock ledger: each movement is two postings summing to zero, the stock is
the sum of a warehouse's postings, and it never goes below zero."""

from __future__ import annotations

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from fangkong.core.models import AuditEntry
from fangkong.supplies.models import Movement, Posting
from fangkong.supplies.tests.kit import balance, move, postings_sum

pytestmark = pytest.mark.django_db


def test_a_receipt_then_an_issue_leave_the_difference_in_stock(officer, store, grain):
    move(officer, "receipt", store, grain, 1000, counterpart="市粮食局")
    move(officer, "issue", store, grain, 300)
    assert balance(store, grain) == 700
    assert postings_sum(store, grain) == 700
    accounts = dict(
        Posting.objects.exclude(account="warehouse").values_list("account").annotate(Sum("amount"))
    )
    assert accounts == {"suppliers": -1000, "supplied": 300}
    assert AuditEntry.objects.filter(action="supplies.movement").count() == 2


def test_an_issue_beyond_the_stock_is_refused_and_nothing_is_written(officer, store, grain):
    move(officer, "receipt", store, grain, 10)
    with pytest.raises(Conflict) as exc:
        move(officer, "issue", store, grain, 11)
    assert exc.value.code == "insufficient_stock"
    assert "10" in str(exc.value.message)
    assert balance(store, grain) == 10
    assert Movement.objects.count() == 1
    assert Posting.objects.count() == 2


def test_a_transfer_moves_stock_between_warehouses(officer, store, store2, grain):
    move(officer, "receipt", store, grain, 50)
    m = move(officer, "transfer", store, grain, 20, to_warehouse_id=store2.pk)
    assert (balance(store, grain), balance(store2, grain)) == (30, 20)
    assert sorted(m.postings.values_list("amount", flat=True)) == [-20, 20]
    with pytest.raises(ValidationFailed) as exc:
        move(officer, "transfer", store, grain, 1, to_warehouse_id=store.pk)
    assert "to_warehouse_id" in exc.value.fields


def test_a_count_correction_sets_the_stock_to_what_was_counted(officer, store, grain):
    move(officer, "receipt", store, grain, 100)
    move(officer, "loss", store, grain, 5, note="受潮")
    m = move(officer, "correction", store, grain, 90)
    assert balance(store, grain) == 90
    assert m.quantity == 5  # five went out of the warehouse
    assert Posting.objects.get(movement=m, account="count").amount == 5
    move(officer, "correction", store, grain, 0)
    assert balance(store, grain) == 0


def test_bad_movements_name_their_fields(officer, store, store2, grain):
    with pytest.raises(ValidationFailed) as exc:
        move(officer, "gift", store, grain, 0)
    assert set(exc.value.fields) == {"kind", "quantity"}
    with pytest.raises(ValidationFailed) as exc:
        move(officer, "issue", store, grain, -5)
    assert set(exc.value.fields) == {"quantity"}
    with pytest.raises(ValidationFailed) as exc:
        move(officer, "receipt", store, grain, 5, to_warehouse_id=store2.pk)
    assert set(exc.value.fields) == {"to_warehouse_id"}
    assert Movement.objects.count() == 0


def test_warehouses_of_another_district_do_not_exist_for_the_officer(
    city, yz_officer, officer, store, grain, commander
):
    with pytest.raises(NotFound):
        move(yz_officer, "receipt", store, grain, 5)
    with pytest.raises(PermissionDenied):
        move(commander, "receipt", store, grain, 5)
    from fangkong.supplies import services

    theirs = services.warehouse_create(
        actor=yz_officer, name="迎泽仓", jurisdiction_id=city.yingze.pk
    )
    move(officer, "receipt", store, grain, 5)
    with pytest.raises(ValidationFailed) as exc:
        move(officer, "transfer", store, grain, 1, to_warehouse_id=theirs.pk)
    assert "to_warehouse_id" in exc.value.fields


OPS = st.lists(
    st.tuples(
        st.sampled_from(["receipt", "issue", "transfer", "loss", "correction"]),
        st.integers(min_value=0, max_value=1),
        st.integers(min_value=0, max_value=60),
    ),
    max_size=25,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS)
def test_stock_is_always_the_sum_of_postings_and_never_negative(officer, store, store2, grain, ops):
    from django.db import transaction

    houses = [store, store2]
    model = {store.pk: 0, store2.pk: 0}
    sid = transaction.savepoint()
    try:
        for kind, which, qty in ops:
            here, there = houses[which], houses[1 - which]
            kw = {"to_warehouse_id": there.pk} if kind == "transfer" else {}
            low = 0 if kind == "correction" else 1
            if qty < low:
                with pytest.raises(ValidationFailed):
                    move(officer, kind, here, grain, qty, **kw)
                continue
            expected = {
                "receipt": model[here.pk] + qty,
                "correction": qty,
            }.get(kind, model[here.pk] - qty)
            if expected < 0:
                with pytest.raises(Conflict):
                    move(officer, kind, here, grain, qty, **kw)
                continue
            move(officer, kind, here, grain, qty, **kw)
            if kind == "transfer":
                model[there.pk] += qty
            model[here.pk] = expected
            for wh in houses:
                assert balance(wh, grain) == postings_sum(wh, grain) == model[wh.pk] >= 0
        # Double entry: every movement's postings sum to zero.
        per_movement = Posting.objects.values("movement").annotate(t=Sum("amount"))
        assert all(row["t"] == 0 for row in per_movement)
    finally:
        transaction.savepoint_rollback(sid)
