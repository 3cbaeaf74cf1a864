from typing import TYPE_CHECKING

from django.contrib import admin

from fangkong.investigation.models import Venue

if TYPE_CHECKING:
    VenueAdminBase = admin.ModelAdmin[Venue]
else:
    VenueAdminBase = admin.ModelAdmin


@admin.register(Venue)
class VenueAdmin(VenueAdminBase):
    list_display = ["name", "category", "address", "capacity"]
    list_filter = ["category"]
    search_fields = ["name", "name_en", "address"]
    raw_id_fields = ["building"]
    readonly_fields = ["scope_path"]
