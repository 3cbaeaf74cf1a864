from django.contrib import admin

from fangkong.investigation.models import Venue


@admin.register(Venue)
class VenueAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "address", "capacity"]
    list_filter = ["category"]
    search_fields = ["name", "name_en", "address"]
    raw_id_fields = ["building"]
    readonly_fields = ["scope_path"]
