from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin

from fangkong.headquarters.models import (
    AssignmentRule,
    Checklist,
    ChecklistItem,
    EscalationStep,
    ReportRecipient,
    ReportSchedule,
    RotationRule,
)

if TYPE_CHECKING:
    AdminBase = admin.ModelAdmin[Any]
    InlineBase = admin.TabularInline[Any, Any]
else:
    AdminBase = admin.ModelAdmin
    InlineBase = admin.TabularInline


@admin.register(EscalationStep)
class EscalationStepAdmin(AdminBase):
    list_display = ("priority", "step", "hours_overdue", "to_level", "effective_from")
    list_filter = ("priority", "effective_from")


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(AdminBase):
    list_display = ("kind", "capability", "effective_from")


class ReportRecipientInline(InlineBase):
    model = ReportRecipient
    raw_id_fields = ("person",)
    extra = 1


@admin.register(ReportSchedule)
class ReportScheduleAdmin(AdminBase):
    """When each area's daily report is made, in whose name, and who receives it."""

    list_display = ("area", "at", "issued_by", "active")
    raw_id_fields = ("area", "issued_by")
    inlines = [ReportRecipientInline]


class ChecklistItemInline(InlineBase):
    model = ChecklistItem
    extra = 1


@admin.register(Checklist)
class ChecklistAdmin(AdminBase):
    """Inspection checklists (a new version: a new row with a later date; plans keep theirs)."""

    list_display = ("code", "name_zh", "name_en", "effective_from")
    list_filter = ("code",)
    inlines = [ChecklistItemInline]


@admin.register(RotationRule)
class RotationRuleAdmin(AdminBase):
    """The rotation rule of frontline staff (the overwork list reads the one in force)."""

    list_display = (
        "effective_from",
        "max_consecutive_days",
        "min_rest_hours",
        "max_week_hours",
        "rest_days_after",
    )
