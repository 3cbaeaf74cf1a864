"""Places where people meet (venues with a venue code, 场所码)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import BaseModel


class Venue(BaseModel):
    """A shop, restaurant, school, hospital, transport hub ... located at a building."""

    class Category(models.TextChoices):
        SHOP = "shop", _("Shop")
        RESTAURANT = "restaurant", _("Restaurant")
        SUPERMARKET = "supermarket", _("Supermarket")
        MARKET = "market", _("Market")
        OFFICE = "office", _("Office")
        SCHOOL = "school", _("School")
        KINDERGARTEN = "kindergarten", _("Kindergarten")
        HOSPITAL = "hospital", _("Hospital")
        CLINIC = "clinic", _("Clinic")
        PHARMACY = "pharmacy", _("Pharmacy")
        TRANSPORT_HUB = "transport_hub", _("Transport hub")
        HOTEL = "hotel", _("Hotel")
        ENTERTAINMENT = "entertainment", _("Entertainment venue")
        GYM = "gym", _("Gym")

    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    address = models.CharField(_("address"), max_length=300, blank=True)
    building = models.ForeignKey(
        "core.Jurisdiction",
        verbose_name=_("building"),
        on_delete=models.PROTECT,
        related_name="venues",
    )
    # The building's tree path: "every venue under this node" is one range scan.
    scope_path = models.CharField(max_length=64, default="", editable=False)
    capacity = models.PositiveIntegerField(_("capacity"), default=0)

    class Meta:
        verbose_name = _("venue")
        verbose_name_plural = _("venues")
        indexes = [
            models.Index(fields=["scope_path", "id"], name="investigation_venue_scope"),
            models.Index(fields=["category", "scope_path"], name="investigation_venue_cat"),
        ]

    def __str__(self) -> str:
        return self.name
