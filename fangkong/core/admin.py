from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from fangkong.core.models import AuditEntry, Jurisdiction, KeyGroup, Role, StaffProfile


@admin.register(Jurisdiction)
class JurisdictionAdmin(admin.ModelAdmin):
    list_display = ["name_zh", "name_en", "level", "code", "path", "resident_count"]
    list_filter = ["level"]
    search_fields = ["name_zh", "name_en", "code"]
    readonly_fields = ["path", "depth", "resident_count"]
    raw_id_fields = ["parent"]


@admin.register(KeyGroup)
class KeyGroupAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "active"]


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en"]


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "display_name", "jurisdiction"]
    raw_id_fields = ["jurisdiction"]
    filter_horizontal = ["roles"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["time", "actor_username", "action", "object_type", "object_id"]
    list_filter = ["action"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
