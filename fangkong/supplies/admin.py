"""Rule tables of the supplies app, editable by system administrators."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin

from fangkong.supplies.models import Item, ItemNeed, PriceRule, SupplyRule

if TYPE_CHECKING:
    AdminBase = admin.ModelAdmin[Any]
else:
    AdminBase = admin.ModelAdmin


@admin.register(Item)
class ItemAdmin(AdminBase):
    list_display = ("code", "name_zh", "name_en", "category", "unit", "order", "active")
    list_filter = ("category", "active")


@admin.register(ItemNeed)
class ItemNeedAdmin(AdminBase):
    list_display = ("item", "per_person_daily", "effective_from", "source")
    list_filter = ("item",)


@admin.register(SupplyRule)
class SupplyRuleAdmin(AdminBase):
    list_display = ("effective_from", "warn_days", "alert_days", "delivery_zone_levels", "note")


@admin.register(PriceRule)
class PriceRuleAdmin(AdminBase):
    list_display = (
        "item",
        "effective_from",
        "baseline_days",
        "rise_percent",
        "impossible_factor",
        "max_price",
    )
