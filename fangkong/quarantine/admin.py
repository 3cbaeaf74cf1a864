"""Rules of the quarantine app, editable by system administrators (the pages
hold the day-to-day work)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin

from fangkong.quarantine.models import AcceptanceItem, ActivationRule

if TYPE_CHECKING:
    ItemAdminBase = admin.ModelAdmin[AcceptanceItem]
    RuleAdminBase = admin.ModelAdmin[ActivationRule]
else:
    ItemAdminBase = RuleAdminBase = admin.ModelAdmin


@admin.register(AcceptanceItem)
class AcceptanceItemAdmin(ItemAdminBase):
    list_display = ["code", "name_zh", "name_en", "required", "order", "active"]
    list_editable = ["required", "order", "active"]
    search_fields = ["code", "name_zh", "name_en"]


@admin.register(ActivationRule)
class ActivationRuleAdmin(RuleAdminBase):
    list_display = ["jurisdiction", "occupancy_threshold_percent", "effective_from"]
    raw_id_fields = ["jurisdiction"]
