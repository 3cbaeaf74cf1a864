"""System administrators keep the portal's reference data here: channels (with
their copyright notice and comment settings), the sensitive-word list, banned
addresses. Articles, comments and the directory have their own staff pages."""

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

from fangkong.portal.models import BannedAddress, Channel, SensitiveWord

if TYPE_CHECKING:
    ChannelAdminBase = admin.ModelAdmin[Channel]
    SensitiveWordAdminBase = admin.ModelAdmin[SensitiveWord]
    BannedAddressAdminBase = admin.ModelAdmin[BannedAddress]
else:
    ChannelAdminBase = SensitiveWordAdminBase = BannedAddressAdminBase = admin.ModelAdmin
from fangkong.portal.pagecache import bump
from fangkong.portal.services.comments import words_changed


@admin.register(Channel)
class ChannelAdmin(ChannelAdminBase):
    list_display = [
        "name_zh",
        "name_en",
        "slug",
        "parent",
        "pinned",
        "comments_enabled",
        "position",
    ]
    list_filter = ["pinned", "comments_enabled"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        bump()


@admin.register(SensitiveWord)
class SensitiveWordAdmin(SensitiveWordAdminBase):
    list_display = ["word", "active"]
    list_filter = ["active"]
    search_fields = ["word"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        words_changed()


@admin.register(BannedAddress)
class BannedAddressAdmin(BannedAddressAdminBase):
    list_display = ["address", "reason", "banned_by", "created_at"]
    search_fields = ["address"]
    readonly_fields = ["banned_by", "created_at"]
