"""Supplies (物资保障): items and their per-capita need (data), warehouses per area,
a double-entry stock ledger, days-of-supply thresholds, markets and daily price
reports with their alert rule (data), deliveries to sealed zones.

The ledger: every movement (receipt, issue, transfer, loss, count correction)
writes two postings of one item that sum to zero, one on a warehouse and one on
the other side (another warehouse, or an outside account: suppliers, people
supplied, losses, count differences). ``Stock`` is the running balance of a
warehouse's postings per item, changed in the movement's transaction under a row
lock and never below zero (a check constraint holds it in the database too).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.models import BaseModel, BilingualName


class Item(BilingualName, BaseModel):
    """A kind of supply counted in whole units of its own (kg of rice, pieces of
    masks). What it is and how much a person needs a day are data."""

    class Category(models.TextChoices):
        FOOD = "food", _("Food")
        PROTECTIVE = "protective", _("Protective equipment")
        TESTING = "testing", _("Test kits")
        MEDICINE = "medicine", _("Medicines")

    class Unit(models.TextChoices):
        KG = "kg", pgettext_lazy("unit", "kg")
        LITRE = "l", pgettext_lazy("unit", "litre")
        PIECE = "piece", pgettext_lazy("unit", "piece")
        BOX = "box", pgettext_lazy("unit", "box")

    code = models.SlugField(max_length=40, unique=True)
    category = models.CharField(_("category"), max_length=12, choices=Category.choices)
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices)
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("supply item")
        verbose_name_plural = _("supply items")

    def __str__(self) -> str:
        return self.name


class ItemNeed(BaseModel):
    """How much of an item one person needs a day, from a date (versioned data)."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="needs")
    per_person_daily = models.DecimalField(
        _("need per person and day"), max_digits=10, decimal_places=4
    )
    effective_from = models.DateField(_("effective from"))
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        ordering = ["item", "-effective_from"]
        verbose_name = _("per-capita need")
        verbose_name_plural = _("per-capita needs")
        constraints = [
            models.UniqueConstraint(fields=["item", "effective_from"], name="supplies_need_once"),
            models.CheckConstraint(
                condition=Q(per_person_daily__gte=0), name="supplies_need_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} {self.per_person_daily} ({self.effective_from})"


class SupplyRule(BaseModel):
    """Days-of-supply thresholds and the zone levels supplied by delivery, from a
    date (versioned data; one row in force at a time)."""

    effective_from = models.DateField(_("effective from"), unique=True)
    warn_days = models.DecimalField(
        _("warn below (days of supply)"), max_digits=6, decimal_places=1
    )
    alert_days = models.DecimalField(
        _("alert below (days of supply)"), max_digits=6, decimal_places=1
    )
    delivery_zone_levels = models.JSONField(
        _("zone levels whose residents are supplied at the door"), default=list
    )
    delivery_request_kinds = models.JSONField(
        _("door-step request kinds the supplies team delivers"), default=list, blank=True
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-effective_from"]
        verbose_name = _("days-of-supply rule")
        verbose_name_plural = _("days-of-supply rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(alert_days__lte=models.F("warn_days")), name="supplies_alert_le_warn"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.warn_days}/{self.alert_days} ({self.effective_from})"


class Warehouse(BaseModel):
    """A store of supplies in an area (a district or a smaller one)."""

    name = models.CharField(_("name"), max_length=200)
    jurisdiction = models.ForeignKey(
        "core.Jurisdiction", on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    scope_path = models.CharField(max_length=64, default="", editable=False)
    address = models.CharField(_("address"), max_length=300, blank=True)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["scope_path", "name", "id"]
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        indexes = [models.Index(fields=["scope_path"], name="supplies_wh_scope")]

    def __str__(self) -> str:
        return self.name


class Stock(models.Model):
    """The balance of one item in one warehouse: the sum of its postings."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["warehouse", "item"]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "item"], name="supplies_stock_once"),
            models.CheckConstraint(
                condition=Q(quantity__gte=0), name="supplies_stock_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.warehouse_id}/{self.item_id}: {self.quantity}"


class Movement(BaseModel):
    """One stock movement of one item (its two postings sum to zero)."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Receipt")
        ISSUE = "issue", _("Issue")
        TRANSFER = "transfer", pgettext_lazy("stock transfer", "Transfer")
        LOSS = "loss", _("Loss")
        CORRECTION = "correction", _("Count correction")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField(
        _("quantity"), help_text=_("Moved out of the first warehouse (negative: into it).")
    )
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="movements", verbose_name=_("warehouse")
    )
    to_warehouse = models.ForeignKey(
        Warehouse,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("to warehouse"),
    )
    scope_path = models.CharField(max_length=64, default="", editable=False)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    counterpart = models.CharField(_("from / to"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    delivery = models.ForeignKey(
        "supplies.Delivery", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        indexes = [models.Index(fields=["scope_path", "occurred_at"], name="supplies_mv_scope")]

    def __str__(self) -> str:
        return f"{self.kind} {self.item_id} {self.quantity}"


class Posting(models.Model):
    """One side of a movement: a warehouse's stock or an outside account."""

    class Account(models.TextChoices):
        WAREHOUSE = "warehouse", _("Warehouse")
        SUPPLIERS = "suppliers", _("Suppliers and donors")
        SUPPLIED = "supplied", _("Supplied to people")
        LOSSES = "losses", _("Losses")
        COUNT = "count", _("Count differences")

    movement = models.ForeignKey(Movement, on_delete=models.PROTECT, related_name="postings")
    account = models.CharField(max_length=12, choices=Account.choices)
    warehouse = models.ForeignKey(
        Warehouse, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField(help_text="Signed: positive into the account.")

    class Meta:
        ordering = ["movement", "id"]
        indexes = [models.Index(fields=["warehouse", "item"], name="supplies_posting_wh_item")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(account="warehouse") & Q(warehouse__isnull=False))
                | (~Q(account="warehouse") & Q(warehouse__isnull=True)),
                name="supplies_posting_warehouse_iff_account",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.amount}"


class Market(BaseModel):
    """A market (farmers' market, supermarket) whose prices are reported daily."""

    name = models.CharField(_("name"), max_length=200)
    jurisdiction = models.ForeignKey(
        "core.Jurisdiction", on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    scope_path = models.CharField(max_length=64, default="", editable=False)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["scope_path", "name", "id"]
        verbose_name = _("market")
        verbose_name_plural = _("markets")
        indexes = [models.Index(fields=["scope_path"], name="supplies_market_scope")]

    def __str__(self) -> str:
        return self.name


class PriceRule(BaseModel):
    """When a price is impossible and when a rise alerts (versioned data; per item
    or, with no item, for every item)."""

    item = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.PROTECT, related_name="price_rules"
    )
    effective_from = models.DateField(_("effective from"))
    baseline_days = models.PositiveSmallIntegerField(
        _("baseline: mean of the days before"), default=7
    )
    rise_percent = models.DecimalField(
        _("alert when the price rises more than (percent) over the baseline"),
        max_digits=6,
        decimal_places=1,
    )
    impossible_factor = models.DecimalField(
        _("flag a price more than this many times the baseline or less than its inverse"),
        max_digits=6,
        decimal_places=1,
        default=Decimal("5"),
    )
    max_price = models.DecimalField(
        _("highest possible price per unit (yuan)"), max_digits=12, decimal_places=2
    )

    class Meta:
        ordering = ["item", "-effective_from"]
        verbose_name = _("price rule")
        verbose_name_plural = _("price rules")
        constraints = [
            models.UniqueConstraint(
                fields=["item", "effective_from"], name="supplies_price_rule_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item or '*'} +{self.rise_percent} ({self.effective_from})"


class PriceReport(BaseModel):
    """The price of one item at one market on one day (one report a day; a changed
    price is a correction of the report, kept in the audit trail)."""

    market = models.ForeignKey(Market, on_delete=models.PROTECT, related_name="reports")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("day"))
    price = models.DecimalField(_("price per unit (yuan)"), max_digits=12, decimal_places=2)
    scope_path = models.CharField(max_length=64, default="", editable=False)
    flagged = models.BooleanField(_("flagged as impossible"), default=False)
    flag_reason = models.CharField(_("why flagged"), max_length=300, blank=True)
    baseline = models.DecimalField(
        _("baseline price"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    alert = models.BooleanField(_("rise alert"), default=False)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-day", "market", "item"]
        verbose_name = _("price report")
        verbose_name_plural = _("price reports")
        constraints = [
            models.UniqueConstraint(fields=["market", "item", "day"], name="supplies_price_once"),
            models.CheckConstraint(condition=Q(price__gt=0), name="supplies_price_positive"),
        ]
        indexes = [
            models.Index(fields=["item", "day"], name="supplies_price_item_day"),
            models.Index(fields=["scope_path", "day"], name="supplies_price_scope"),
        ]

    def __str__(self) -> str:
        return f"{self.market_id} {self.item_id} {self.day} {self.price}"


class Delivery(BaseModel):
    """Supplies taken from a warehouse to a sealed zone: for door-step requests of
    its residents or a planned distribution, with proof of delivery."""

    class Source(models.TextChoices):
        REQUESTS = "requests", _("Door-step requests")
        PLANNED = "planned", _("Planned distribution")

    class State(models.TextChoices):
        PLANNED = "planned", pgettext_lazy("delivery", "Planned")
        DISPATCHED = "dispatched", _("On the way")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", pgettext_lazy("delivery", "Cancelled")

    # The zone (zones app) by id: no foreign key across domain apps.
    zone_id = models.BigIntegerField(_("zone"))
    zone_name = models.CharField(_("zone"), max_length=200)
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("warehouse")
    )
    days = models.PositiveSmallIntegerField(
        _("days covered"), null=True, blank=True, help_text=_("A planned distribution's days.")
    )
    scope_path = models.CharField(max_length=64, default="", editable=False)
    source = models.CharField(_("for"), max_length=10, choices=Source.choices)
    request_ids = models.JSONField(_("door-step requests"), default=list, blank=True)
    lines = models.JSONField(_("items"), default=list)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PLANNED
    )
    planned_for = models.DateField(_("planned for"))
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    received_by = models.CharField(_("received by"), max_length=100, blank=True)
    proof_note = models.TextField(_("proof of delivery"), blank=True)
    proof_photo = models.BinaryField(null=True, blank=True, editable=False)
    proof_photo_type = models.CharField(max_length=20, blank=True, editable=False)
    note = models.TextField(_("note"), blank=True)
    planned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-planned_for", "-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [
            models.Index(fields=["scope_path", "state"], name="supplies_delivery_scope"),
            models.Index(fields=["zone_id", "state"], name="supplies_delivery_zone"),
        ]

    def __str__(self) -> str:
        return f"{self.zone_name} {self.planned_for} {self.state}"

    @property
    def is_open(self) -> bool:
        return self.state in (self.State.PLANNED, self.State.DISPATCHED)


class ZoneRequest(BaseModel):
    """A door-step request of a zone's resident for goods the supplies team
    delivers (from the zones' ``service_request.filed`` fact; the request itself
    stays in zones). Who asked is not kept here: the zone's team knows the door."""

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting for a delivery")
        PLANNED = "planned", pgettext_lazy("delivery", "In a delivery")
        DELIVERED = "delivered", _("Delivered")
        CLOSED = "closed", _("Closed by the zone's team")

    request_id = models.BigIntegerField(unique=True)
    zone_id = models.BigIntegerField()
    kind = models.CharField(max_length=40)
    text = models.TextField(blank=True)
    items = models.JSONField(default=list, blank=True)
    scope_path = models.CharField(max_length=64, default="", editable=False)
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("door-step request for supplies")
        verbose_name_plural = _("door-step requests for supplies")
        indexes = [models.Index(fields=["zone_id", "state"], name="supplies_zreq_zone")]

    def __str__(self) -> str:
        return f"{self.request_id} {self.state}"

    @property
    def wanted(self) -> str:
        """What is asked for, in one line."""
        listed = "、".join(
            f"{i['name']} × {i['qty']}" for i in self.items if i.get("name") != self.text
        )
        return "; ".join(x for x in (self.text, listed) if x)
