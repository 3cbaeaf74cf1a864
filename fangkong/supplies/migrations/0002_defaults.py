"""Load the shipped supply items with their per-capita need, the days-of-supply
rule and the price rule (fixtures/defaults.json). Only what is missing is
created: an authority's edited rows are never touched."""

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from django.db import migrations

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "defaults.json"


def load_defaults(apps, schema_editor):
    Item = apps.get_model("supplies", "Item")
    ItemNeed = apps.get_model("supplies", "ItemNeed")
    SupplyRule = apps.get_model("supplies", "SupplyRule")
    PriceRule = apps.get_model("supplies", "PriceRule")
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    since = dt.date.fromisoformat(data["need_effective_from"])
    for row in data["items"]:
        row = dict(row)
        need = Decimal(row.pop("need"))
        item, created = Item.objects.get_or_create(code=row.pop("code"), defaults=row)
        if created:
            ItemNeed.objects.create(
                item=item, per_person_daily=need, effective_from=since, source=data["need_source"]
            )
    if not SupplyRule.objects.exists():
        for row in data["supply_rules"]:
            SupplyRule.objects.create(
                effective_from=dt.date.fromisoformat(row["effective_from"]),
                warn_days=Decimal(row["warn_days"]),
                alert_days=Decimal(row["alert_days"]),
                delivery_zone_levels=row["delivery_zone_levels"],
                note=row["note"],
            )
    if not PriceRule.objects.exists():
        for row in data["price_rules"]:
            PriceRule.objects.create(
                item=Item.objects.get(code=row["item"]) if row["item"] else None,
                effective_from=dt.date.fromisoformat(row["effective_from"]),
                baseline_days=row["baseline_days"],
                rise_percent=Decimal(row["rise_percent"]),
                impossible_factor=Decimal(row["impossible_factor"]),
                max_price=Decimal(row["max_price"]),
            )


class Migration(migrations.Migration):
    dependencies = [("supplies", "0001_ledger_prices_deliveries")]

    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
