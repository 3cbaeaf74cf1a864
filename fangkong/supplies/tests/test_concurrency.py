"""Issues racing on the last stock never take more than there is (PostgreSQL:
row locks; SQLite serialises writers, nothing to race)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.db.models import Sum

from fangkong.conftest import City, city_build, make_staff
from fangkong.core.errors import Conflict
from fangkong.supplies import services
from fangkong.supplies.models import Item, Posting, Stock


@pytest.mark.django_db(transaction=True)
def test_parallel_issues_and_transfers_on_the_last_stock_never_go_negative():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need a server database (SQLite serialises writers)")
    from fangkong.conftest import load_shipped_defaults

    load_shipped_defaults()
    city: City = city_build()
    officer = make_staff("xdsupplies", city.xiaodian, "supplies_officer")
    grain = Item.objects.get(code="grain")
    a = services.warehouse_create(actor=officer, name="甲仓", jurisdiction_id=city.xiaodian.pk)
    b = services.warehouse_create(actor=officer, name="乙仓", jurisdiction_id=city.xd_grid.pk)
    for wh in (a, b):
        services.movement_record(
            actor=officer,
            data=services.MovementData(
                kind="receipt", warehouse_id=wh.pk, item_id=grain.pk, quantity=10
            ),
        )
    outcomes: list[str] = []
    lock = threading.Lock()
    workers = 12
    start = threading.Barrier(workers)

    def run(n: int) -> None:
        here, there = (a, b) if n % 2 else (b, a)
        kind = "transfer" if n % 3 == 0 else "issue"
        data = services.MovementData(
            kind=kind,
            warehouse_id=here.pk,
            item_id=grain.pk,
            quantity=3,
            to_warehouse_id=there.pk if kind == "transfer" else None,
        )
        try:
            start.wait()
            services.movement_record(actor=officer, data=data)
            result = "ok"
        except Conflict as exc:
            result = exc.code
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(outcomes) <= {"ok", "insufficient_stock"}
    assert "insufficient_stock" in outcomes
    issued = Posting.objects.filter(account="supplied").aggregate(t=Sum("amount"))["t"] or 0
    for wh in (a, b):
        stock = Stock.objects.get(warehouse=wh, item=grain).quantity
        posted = Posting.objects.filter(warehouse=wh, item=grain).aggregate(t=Sum("amount"))["t"]
        assert stock == posted >= 0
    total = Stock.objects.filter(item=grain).aggregate(t=Sum("quantity"))["t"]
    assert total == 20 - issued
    assert issued <= 20
