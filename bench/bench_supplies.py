"""Figures of issue 20 (supplies: the stock ledger and days of supply).

The city: the zones benchmark's city (10 districts down to 20,000 buildings and
5,000,000 residents; quick: one district, 50,000 residents), one warehouse per
district stocked with every item, a city supplies officer.

(a) ``supplies_ledger``: movements posted one by one through ``movement_record``
    (receipts, issues and transfers between the warehouses, rotating over the
    items; 5,000, quick: 500): each its permission and area checks, the locked
    stock rows, the movement, its two postings, the balances and the audit row,
    in its own transaction. Floor: the same rows (movement, two postings, the
    balance UPDATE under ``SELECT ... FOR UPDATE``) written by hand on a cursor,
    one transaction each, in the same database. Target >= 100 movements/s.
    Then the invariant: every warehouse's balance equals the sum of its postings
    (a figure of 0 mismatches is the pass).
(b) ``supplies_days_of_supply``: days of supply of every item in every district
    of the 5 M city for the city officer (``days_of_supply_for``: residents per
    district, stock per district and item, the rule's thresholds). Floor: the
    same counts and sums as two raw GROUP BY queries on a cursor. Target < 2 s.

Run: ``fangkong bench --only supplies_ledger --only supplies_days_of_supply``
(``--quick`` for reduced sizes); on PostgreSQL with ``DATABASE_URL=...``.
"""

from __future__ import annotations

import time
from typing import Any

from bench.runner import Context, Figure, benchmark


def _supplies_city(ctx: Context) -> dict[str, Any]:
    if "supplies_city" in ctx.state:
        return dict(ctx.state["supplies_city"])
    from django.contrib.auth import get_user_model

    from bench.bench_zones import ensure_zone_city
    from fangkong.core.models import Role, StaffProfile
    from fangkong.supplies import services
    from fangkong.supplies.models import Item

    city = ensure_zone_city(ctx)
    user = get_user_model().objects.create_user(username="sb-supplies", password="bench-password-1")  # noqa: S106
    profile = StaffProfile.objects.create(
        user=user, jurisdiction=city["city"], display_name="sb-supplies"
    )
    profile.roles.set(Role.objects.filter(code="supplies_officer"))
    items = list(Item.objects.filter(active=True))
    warehouses = []
    for d in city["districts"]:
        wh = services.warehouse_create(actor=user, name=f"{d.name_zh}储备库", jurisdiction_id=d.pk)
        warehouses.append(wh)
        for it in items:
            services.movement_record(
                actor=user,
                data=services.MovementData(
                    kind="receipt", warehouse_id=wh.pk, item_id=it.pk, quantity=10_000_000
                ),
            )
    state = {"officer": user, "items": items, "warehouses": warehouses, "city": city}
    ctx.state["supplies_city"] = state
    return state


def _floor_ledger(plan: list[tuple[str, Any, Any, Any, int]]) -> float:
    """The same rows as ``movement_record`` writes, by hand: per movement one
    transaction locking the stock rows, inserting the movement and two postings,
    updating the balances."""
    from django.db import connection, transaction
    from django.utils import timezone

    from fangkong.supplies.models import Movement, Posting, Stock

    mv, po, st = Movement._meta.db_table, Posting._meta.db_table, Stock._meta.db_table
    outside = {"receipt": "suppliers", "issue": "supplied"}
    t0 = time.perf_counter()
    for kind, wh, item, target, qty in plan:
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        delta = qty if kind == "receipt" else -qty
        with transaction.atomic(), connection.cursor() as cur:
            ids = [wh.pk] + ([target.pk] if target else [])
            marks = ", ".join(["%s"] * len(ids))
            cur.execute(
                f"SELECT id, quantity FROM {st} WHERE item_id = %s AND warehouse_id IN ({marks}) "  # noqa: S608
                "ORDER BY id" + (" FOR UPDATE" if connection.vendor == "postgresql" else ""),
                [item.pk, *ids],
            )
            cur.fetchall()
            cur.execute(
                f"INSERT INTO {mv} (created_at, updated_at, kind, item_id, quantity, warehouse_id, "  # noqa: S608
                "to_warehouse_id, scope_path, occurred_at, counterpart, note) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, '', '')"
                + (" RETURNING id" if connection.vendor == "postgresql" else ""),
                [now, now, kind, item.pk, -delta, wh.pk, target.pk if target else None,
                 wh.scope_path, now],
            )  # fmt: skip
            movement_id = cur.fetchone()[0] if connection.vendor == "postgresql" else cur.lastrowid
            other = ("warehouse", target.pk) if target else (outside[kind], None)
            cur.executemany(
                f"INSERT INTO {po} (movement_id, account, warehouse_id, item_id, amount) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s)",
                [
                    (movement_id, "warehouse", wh.pk, item.pk, delta),
                    (movement_id, other[0], other[1], item.pk, -delta),
                ],
            )
            cur.execute(
                f"UPDATE {st} SET quantity = quantity + %s, updated_at = %s "  # noqa: S608
                "WHERE warehouse_id = %s AND item_id = %s",
                [delta, now, wh.pk, item.pk],
            )
            if target:
                cur.execute(
                    f"UPDATE {st} SET quantity = quantity - %s, updated_at = %s "  # noqa: S608
                    "WHERE warehouse_id = %s AND item_id = %s",
                    [delta, now, target.pk, item.pk],
                )
    return time.perf_counter() - t0


@benchmark("supplies_ledger")
def bench_ledger(ctx: Context) -> list[Figure]:
    from django.db.models import Sum

    from fangkong.supplies import services
    from fangkong.supplies.models import Posting, Stock

    state = _supplies_city(ctx)
    officer, items, whs = state["officer"], state["items"], state["warehouses"]
    n = ctx.size(5_000, 500)
    kinds = ["receipt", "issue", "transfer"]
    plan = []
    for i in range(n):
        kind = kinds[i % 3]
        wh = whs[i % len(whs)]
        target = whs[(i + 1) % len(whs)] if kind == "transfer" and len(whs) > 1 else None
        if kind == "transfer" and target is None:
            kind = "issue"
        plan.append((kind, wh, items[i % len(items)], target, 1 + i % 7))
    ctx.say(f"  {n:,} movements through movement_record")
    t0 = time.perf_counter()
    for kind, wh, item, target, qty in plan:
        services.movement_record(
            actor=officer,
            data=services.MovementData(
                kind=kind,
                warehouse_id=wh.pk,
                item_id=item.pk,
                quantity=qty,
                to_warehouse_id=target.pk if target else None,
            ),
        )
    service = time.perf_counter() - t0
    floor = _floor_ledger(plan)
    sums = {
        (r["warehouse_id"], r["item_id"]): r["total"]
        for r in Posting.objects.filter(account="warehouse")
        .values("warehouse_id", "item_id")
        .annotate(total=Sum("amount"))
    }
    mismatches = sum(
        1 for s in Stock.objects.all() if sums.get((s.warehouse_id, s.item_id), 0) != s.quantity
    )
    return [
        Figure(
            f"supplies ledger: {n:,} movements (movement_record)",
            n / service,
            "movements/s",
            floor=n / floor,
            target=100,
            higher_is_better=True,
            note="floor: the same rows by hand on a cursor, one transaction each",
        ),
        Figure(
            "supplies ledger: balances differing from the sum of their postings",
            float(mismatches),
            "warehouse-items",
            target=1,
            note="pass: 0",
        ),
    ]


def _floor_days(prefix: str, district_paths: list[str]) -> float:
    """Residents per district and stock per district and item, as raw GROUP BYs."""
    from django.db import connection

    from fangkong.core.models import Person
    from fangkong.supplies.models import Stock, Warehouse

    width = len(district_paths[0])
    people, stock, wh = Person._meta.db_table, Stock._meta.db_table, Warehouse._meta.db_table
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT substr(scope_path, 1, %s), count(*) FROM {people} "  # noqa: S608
            "WHERE scope_path >= %s AND scope_path < %s "
            "AND merged_into_id IS NULL GROUP BY 1",
            [width, prefix, prefix + "~"],
        )
        cur.fetchall()
        cur.execute(
            f"SELECT substr(w.scope_path, 1, %s), s.item_id, sum(s.quantity) FROM {stock} s "  # noqa: S608
            f"JOIN {wh} w ON w.id = s.warehouse_id WHERE w.active "
            "AND w.scope_path >= %s AND w.scope_path < %s GROUP BY 1, 2",
            [width, prefix, prefix + "~"],
        )
        cur.fetchall()
    return time.perf_counter() - t0


@benchmark("supplies_days_of_supply")
def bench_days_of_supply(ctx: Context) -> list[Figure]:
    from fangkong.supplies import selectors

    state = _supplies_city(ctx)
    city = state["city"]
    residents = city["people"]
    selectors.days_of_supply_for(state["officer"])  # warm: rules, items
    t0 = time.perf_counter()
    rows = selectors.days_of_supply_for(state["officer"])
    took = time.perf_counter() - t0
    counted = sum(r.population for r in rows)
    floor = _floor_days(city["city"].path, [d.path for d in city["districts"]])
    return [
        Figure(
            f"supplies days of supply: {len(rows)} districts, {residents:,} residents",
            took,
            "s",
            floor=floor,
            target=2.0,
            note=f"residents counted {counted:,}; floor: two raw GROUP BY queries",
        )
    ]
