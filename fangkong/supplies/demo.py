"""Demo data of the supplies app, as the ``supplies_officer`` login (city level):
a warehouse in every district stocked for about three weeks of what its
residents need, except the demo district (小店区), whose grain and vegetables
last under the alert line; two markets in the demo district with a week of
prices and one rise over the alert line today (vegetables at the farmers'
market). In the sealed zone, a distribution for three days delivered with the
zone team's proof, the residents' grocery requests on their way, and a week's
distribution planned for tomorrow. Idempotent: a second run adds nothing. Dates
are relative to today."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from fangkong.core.demo import demo_district, demo_login
from fangkong.supplies import rules, selectors, services
from fangkong.supplies.models import Delivery, Item, Warehouse

DEPENDS_ON = ("zones",)  # the sealed zone and its residents' requests
STOCK_DAYS = 21
LOW_DAYS = {"grain": 5, "vegetables": 4}
PRICES = {"grain": "5.20", "oil": "16.80", "eggs": "11.50", "vegetables": "4.60", "meat": "32.00"}
# Day-to-day wobble of the week before today (cents), the same every run.
WOBBLE = [0, 5, -4, 3, -2, 4]
RISE = Decimal("1.32")  # vegetables today at the farmers' market: +32 percent


def seed() -> str:
    if Warehouse.objects.exists():
        return f"{Warehouse.objects.count()} warehouses already there; {deliveries()}"
    home = demo_district()
    if home is None:
        return "no city to put warehouses in"
    officer = demo_login("supplies_officer")
    needs = rules.needs()
    items = list(Item.objects.filter(active=True))
    for row in selectors.days_of_supply_for(officer):
        district = row.district
        wh = services.warehouse_create(
            actor=officer,
            name=f"{district.name_zh}应急物资储备库",
            jurisdiction_id=district.pk,
            address=f"{district.name_zh}物流园区",
        )
        for it in items:
            days = LOW_DAYS.get(it.code, STOCK_DAYS) if district.pk == home.pk else STOCK_DAYS
            qty = int(Decimal(max(row.population, 1)) * needs.get(it.pk, Decimal(0)) * days) + 1
            services.movement_record(
                actor=officer,
                data=services.MovementData(
                    kind="receipt",
                    warehouse_id=wh.pk,
                    item_id=it.pk,
                    quantity=qty,
                    counterpart="市粮食和物资储备局",
                ),
            )
    today = timezone.localdate()
    markets = [
        services.market_create(actor=officer, name=name, jurisdiction_id=home.pk)
        for name in ("小店区坞城农贸市场", "小店区长风街超市")
    ]
    by_code = {it.code: it for it in items}
    for m, market in enumerate(markets):
        for code, base in PRICES.items():
            price = Decimal(base) + Decimal(m) * Decimal("0.30")
            for back in range(6, 0, -1):
                day = today - dt.timedelta(days=back)
                wobble = Decimal(WOBBLE[(back + m) % len(WOBBLE)]) / 100
                services.price_report(
                    actor=officer,
                    market_id=market.pk,
                    item_id=by_code[code].pk,
                    day=day,
                    price=price + wobble,
                )
            now = (
                (price * RISE).quantize(Decimal("0.01"))
                if (m, code) == (0, "vegetables")
                else price
            )
            services.price_report(
                actor=officer, market_id=market.pk, item_id=by_code[code].pk, day=today, price=now
            )
    low = len(selectors.supply_alerts_for(officer))
    alerts = selectors.price_alerts_for(officer).count()
    return (
        f"{Warehouse.objects.count()} warehouses ({low} items below the alert line), "
        f"{len(markets)} markets with a week of prices ({alerts} rise alert); {deliveries()}"
    )


def deliveries() -> str:
    """Deliveries to the demo's sealed zone: one delivered with proof, one on its
    way with the residents' grocery requests, one planned for tomorrow."""
    if Delivery.objects.exists():
        return f"{Delivery.objects.count()} deliveries already there"
    officer = demo_login("supplies_officer")
    zones = selectors.supplied_zones_for(officer)
    if not zones:
        return "no sealed zone to deliver to"
    zone = zones[0]
    home = demo_district()
    wh = Warehouse.objects.filter(jurisdiction=home).first() if home else None
    if wh is None:
        return "no warehouse in the demo district"
    done = services.delivery_plan(
        actor=officer, zone_id=zone.id, warehouse_id=wh.pk, days=3, note="首批保供物资"
    )
    services.delivery_dispatch(actor=officer, delivery_id=done.pk)
    services.delivery_record_proof(
        actor=demo_login("zone_team_member"),
        delivery_id=done.pk,
        received_by="王建国",
        proof_note="封控区卡口交接，四个一工作组组长王建国签字，物资已分送各户",
    )
    waiting = [r.request_id for r in selectors.zone_request_list_for(officer, zone_id=zone.id)]
    grain = Item.objects.get(code="grain")
    vegetables = Item.objects.get(code="vegetables")
    on_way = services.delivery_plan(
        actor=officer,
        zone_id=zone.id,
        warehouse_id=wh.pk,
        request_ids=waiting,
        lines=[(grain.pk, 5 * max(len(waiting), 1)), (vegetables.pk, 3 * max(len(waiting), 1))],
        note="居民线上申请的生活物资",
    )
    services.delivery_dispatch(actor=officer, delivery_id=on_way.pk)
    services.delivery_plan(
        actor=officer,
        zone_id=zone.id,
        warehouse_id=wh.pk,
        days=7,
        planned_for=timezone.localdate() + dt.timedelta(days=1),
        note="第二批保供物资（7天）",
    )
    return f"3 deliveries to {zone.name} ({len(waiting)} requests on their way)"
