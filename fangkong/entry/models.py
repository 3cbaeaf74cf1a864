"""Entry control (输入关口): checkpoints, risk-area lists of other regions,
classification rules (data, versioned), arrivals with their itinerary and
classification, arrival tests, point-to-point transfers and home hand-offs.

Personal numbers are never stored here: an arrival points at the registry's
``core.Person`` (ID document encrypted there, found by keyed hash); a driver's
phone is sealed with ``core.crypto.sealed_phone``.
"""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.models import BaseModel, BilingualName


class Checkpoint(BilingualName, BaseModel):
    """A first landing point (第一落点): a road checkpoint, the airport, a station, a port."""

    class Kind(models.TextChoices):
        ROAD = "road", _("Road checkpoint")
        AIRPORT = "airport", _("Airport")
        RAIL = "rail", _("Railway station")
        BUS = "bus", _("Bus station")
        PORT = "port", _("Port")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    jurisdiction = models.ForeignKey(
        "core.Jurisdiction", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    scope_path = models.CharField(max_length=64, db_index=True, editable=False)
    lanes = models.PositiveSmallIntegerField(pgettext_lazy("checkpoint lanes", "lanes"), default=0)
    opens_at = models.TimeField(_("opens at"), null=True, blank=True)
    closes_at = models.TimeField(_("closes at"), null=True, blank=True)
    staff_on_duty = models.PositiveSmallIntegerField(_("staff on duty"), default=0)
    throughput_per_hour = models.PositiveIntegerField(_("throughput per hour"), default=0)
    active = models.BooleanField(_("open"), default=True)

    class Meta:
        ordering = ["scope_path", "name_zh", "id"]

    def __str__(self) -> str:
        return self.name


class RiskLevel(models.TextChoices):
    HIGH = "high", _("High-risk area")
    MEDIUM = "medium", _("Medium-risk area")
    LOW = "low", _("Low-risk area")


class RiskList(BaseModel):
    """One version of the risk-area list published by another region."""

    class State(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("risk list", "Draft")
        PUBLISHED = "published", pgettext_lazy("risk list", "In force")
        WITHDRAWN = "withdrawn", pgettext_lazy("risk list", "Withdrawn")

    region_code = models.CharField(_("region code"), max_length=12, db_index=True)
    region_name = models.CharField(_("region"), max_length=100)
    version = models.PositiveIntegerField(_("version"))
    source = models.CharField(_("source"), max_length=300)
    published_at = models.DateTimeField(_("published by the region at"))
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective until"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["region_code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["region_code", "version"], name="entry_list_version")
        ]

    def __str__(self) -> str:
        return f"{self.region_name} v{self.version}"


class RiskArea(BaseModel):
    """One listed area of a list: an administrative code (province … street) and
    its names; a building or block below the street is named only."""

    risk_list = models.ForeignKey(RiskList, on_delete=models.CASCADE, related_name="areas")
    admin_code = models.CharField(_("administrative code"), max_length=12, blank=True)
    province = models.CharField(_("province"), max_length=60, blank=True)
    city = models.CharField(pgettext_lazy("place", "city"), max_length=60, blank=True)
    district = models.CharField(_("district"), max_length=60, blank=True)
    street = models.CharField(_("street"), max_length=100, blank=True)
    place = models.CharField(_("building or block"), max_length=200, blank=True)
    level = models.CharField(
        pgettext_lazy("risk level", "level"), max_length=8, choices=RiskLevel.choices
    )
    # The names run together without spaces (matching by name, second to codes).
    name_key = models.CharField(max_length=400, db_index=True, editable=False)

    class Meta:
        ordering = ["risk_list", "admin_code", "id"]
        indexes = [models.Index(fields=["admin_code"], name="entry_area_code")]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return "".join(
            p for p in (self.province, self.city, self.district, self.street, self.place)
        )


class RuleSet(BaseModel):
    """One version of the classification rules of a disease (data, shipped as a fixture)."""

    disease_code = models.CharField(_("disease"), max_length=32, default="covid19")
    version = models.PositiveIntegerField(_("version"))
    effective_from = models.DateField(_("effective from"))
    lookback_days = models.PositiveSmallIntegerField(
        _("itinerary days asked"),
        help_text=_("The itinerary must cover this many days before arrival."),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["disease_code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["disease_code", "version"], name="entry_rules_version")
        ]

    def __str__(self) -> str:
        return f"{self.disease_code} v{self.version}"


class Condition(models.TextChoices):
    """What an itinerary amounts to, most severe first."""

    HIGH = "high", _("Was in a high-risk area")
    MEDIUM = "medium", _("Was in a medium-risk area")
    AFFECTED_CITY = "affected_city", _("Was in a low-risk area of an affected city")
    UNKNOWN = "unknown", _("Itinerary unknown or incomplete")
    TRANSIT = "transit", _("Driver in transit only")
    NONE = "none", _("No listed area on the itinerary")


CONDITION_ORDER = ["high", "medium", "affected_city", "unknown", "transit", "none"]


class Category(models.TextChoices):
    CENTRALISED = "centralised_quarantine", _("Centralised quarantine")
    HOME = "home_quarantine", _("Home quarantine")
    MONITORING = "health_monitoring", _("Health monitoring with tests")
    HOLD = "hold_review", _("Held for review, arrival test")
    TRANSIT = "transit", _("In transit: arrival test, no stop")
    ARRIVAL_TEST = "arrival_test", _("Arrival test")


class Rule(BaseModel):
    """One row of a rule set: a condition → a category and its measures."""

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="rules")
    condition = models.CharField(_("condition"), max_length=16, choices=Condition.choices)
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    quarantine_days = models.PositiveSmallIntegerField(_("quarantine days"), default=0)
    tests = models.PositiveSmallIntegerField(_("tests"), default=1)
    test_days = models.PositiveSmallIntegerField(_("tests within days"), default=1)
    single_tube = models.BooleanField(_("single tube"), default=False)
    # Arrival tests taken in pools: how many people share a tube (the 2022 practice
    # at stations and airports was ten); a single-tube rule ignores it.
    pool_size = models.PositiveSmallIntegerField(
        _("people per pooled tube"), default=10, validators=[MinValueValidator(1)]
    )
    transfer = models.BooleanField(_("point-to-point transfer"), default=False)
    status_reason = models.BooleanField(_("status reason"), default=False)

    class Meta:
        ordering = ["rule_set", "condition"]
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "condition"], name="entry_rule_condition")
        ]

    def __str__(self) -> str:
        return f"{self.condition} → {self.category}"


class Arrival(BaseModel):
    """A person arriving in the city: reported before, registered on site, or both
    (one row: a second registration of the same trip is merged into it)."""

    class Source(models.TextChoices):
        SELF_REPORT = "self_report", _("Reported before travelling")
        ON_SITE = "on_site", _("Registered at the checkpoint")

    class State(models.TextChoices):
        REPORTED = "reported", _("Reported, not arrived yet")
        ARRIVED = "arrived", _("Arrived")
        TRANSFERRING = "transferring", _("Being transferred")
        HANDED_OVER = "handed_over", _("Handed over")
        CLOSED = "closed", pgettext_lazy("arrival", "Closed")

    class TravellerClass(models.TextChoices):
        TRAVELLER = "traveller", _("Traveller")
        DRIVER = "truck_driver", _("Truck driver")
        TRANSIT = "transit_driver", _("Truck driver in transit only")

    class Transport(models.TextChoices):
        FLIGHT = "flight", _("Flight")
        TRAIN = "train", _("Train")
        BUS = "bus", _("Bus")
        CAR = "car", _("Car")
        TRUCK = "truck", _("Truck")
        SHIP = "ship", _("Ship")
        OTHER = "other", _("Other")

    person = models.ForeignKey(
        "core.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    checkpoint = models.ForeignKey(
        Checkpoint, null=True, blank=True, on_delete=models.PROTECT, related_name="arrivals"
    )
    scope_path = models.CharField(max_length=64, db_index=True, editable=False)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.REPORTED
    )
    traveller_class = models.CharField(
        _("traveller"), max_length=16, choices=TravellerClass.choices, default="traveller"
    )
    expected_on = models.DateField(_("arrival date"))
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    origin = models.CharField(_("coming from"), max_length=200)
    origin_code = models.CharField(_("origin code"), max_length=12, blank=True)
    # [{"place": str, "code": str, "from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}, ...]
    itinerary = models.JSONField(_("itinerary"), default=list)
    transport = models.CharField(
        _("transport"), max_length=8, choices=Transport.choices, blank=True
    )
    transport_number = models.CharField(_("flight, train or bus number"), max_length=20, blank=True)
    seat = models.CharField(_("seat"), max_length=12, blank=True)
    plate = models.CharField(_("plate"), max_length=12, blank=True)
    transport_text = models.CharField(_("transport (as reported)"), max_length=60, blank=True)
    cargo = models.CharField(_("cargo"), max_length=100, blank=True)
    truck_destination = models.CharField(_("truck destination"), max_length=200, blank=True)
    stay_hours = models.PositiveIntegerField(_("expected stay (hours)"), null=True, blank=True)
    destination = models.CharField(_("address in the city"), max_length=200, blank=True)
    home = models.ForeignKey(
        "core.Jurisdiction",
        verbose_name=_("home building"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Classification (filled by the engine; the rule and list versions it used)
    condition = models.CharField(
        _("condition"), max_length=16, choices=Condition.choices, blank=True
    )
    category = models.CharField(_("category"), max_length=32, choices=Category.choices, blank=True)
    rule_set = models.ForeignKey(
        RuleSet, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    list_versions = models.JSONField(default=dict)  # {region_code: version}
    # [{"stop": i, "place": str, "level": str, "list": id, "version": n, "region": str,
    #   "area": str, "how": "code"|"name"|"region"|"unmatched"|"gap"|"future"}]
    findings = models.JSONField(default=list)
    measures = models.JSONField(default=dict)  # {"quarantine_days", "tests": [dates], ...}
    measures_end = models.DateField(_("measures end"), null=True, blank=True)
    classified_at = models.DateTimeField(_("classified at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    registered_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-expected_on", "-id"]
        indexes = [
            models.Index(fields=["scope_path", "expected_on"], name="entry_arrival_scope_day"),
            models.Index(fields=["person", "expected_on"], name="entry_arrival_person_day"),
            models.Index(fields=["checkpoint", "expected_on"], name="entry_arrival_cp_day"),
        ]

    def __str__(self) -> str:
        return f"{self.origin} {self.expected_on}"


class PlaceReview(BaseModel):
    """A place of an itinerary that matched no code or name: a person decides."""

    class State(models.TextChoices):
        OPEN = "open", _("Waiting for review")
        RESOLVED = "resolved", _("Resolved")

    arrival = models.ForeignKey(Arrival, on_delete=models.CASCADE, related_name="place_reviews")
    scope_path = models.CharField(max_length=64, db_index=True, editable=False)
    place = models.CharField(_("place as written"), max_length=200)
    stop = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default="open")
    resolved_code = models.CharField(_("administrative code"), max_length=12, blank=True)
    resolved_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["state", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["arrival", "stop"], name="entry_review_stop")
        ]

    def __str__(self) -> str:
        return self.place


class ArrivalTest(BaseModel):
    """One test of an arrival's series: the arrival test (day 0) and the later ones."""

    class State(models.TextChoices):
        DUE = "due", pgettext_lazy("test due", "Due")
        SAMPLED = "sampled", _("Sampled")

    arrival = models.ForeignKey(Arrival, on_delete=models.CASCADE, related_name="tests")
    due_on = models.DateField(_("due on"))
    number = models.PositiveSmallIntegerField(_("test number"))
    single_tube = models.BooleanField(_("single tube"), default=False)
    pool_size = models.PositiveSmallIntegerField(_("people per pooled tube"), default=10)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default="due")
    tube_barcode = models.CharField(_("tube"), max_length=64, blank=True)
    sampled_at = models.DateTimeField(_("sampled at"), null=True, blank=True)

    class Meta:
        ordering = ["arrival", "number"]
        constraints = [
            models.UniqueConstraint(fields=["arrival", "number"], name="entry_test_number")
        ]

    def __str__(self) -> str:
        return f"{self.arrival_id} #{self.number}"


class Transfer(BaseModel):
    """A point-to-point transfer (点对点转运) from a checkpoint to a destination."""

    class DestinationKind(models.TextChoices):
        QUARANTINE_SITE = "quarantine_site", _("Quarantine site")
        HOME = "home", _("Home")
        HOSPITAL = "hospital", _("Hospital")

    class State(models.TextChoices):
        PLANNED = "planned", _("Planned")
        DEPARTED = "departed", _("On the way")
        HANDED_OVER = "handed_over", _("Handed over")
        CANCELLED = "cancelled", _("Cancelled")

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="transfers")
    scope_path = models.CharField(max_length=64, db_index=True, editable=False)
    vehicle_plate = models.CharField(_("vehicle"), max_length=12)
    driver_name = models.CharField(_("driver"), max_length=100)
    escort_name = models.CharField(_("escort"), max_length=100, blank=True)
    destination_kind = models.CharField(
        _("destination"), max_length=16, choices=DestinationKind.choices
    )
    destination_id = models.BigIntegerField(null=True, blank=True)
    destination_name = models.CharField(_("destination name"), max_length=200)
    window_minutes = models.PositiveIntegerField(_("allowed time (minutes)"), default=120)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default="planned")
    departed_at = models.DateTimeField(_("departed at"), null=True, blank=True)
    departed_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField(_("due at the destination"), null=True, blank=True)
    handed_over_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    handed_over_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    deviations = models.JSONField(default=list)  # [{"at": iso, "note": str}]
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "due_at"], name="entry_transfer_due")]

    def __str__(self) -> str:
        return f"{self.vehicle_plate} → {self.destination_name}"


class TransferPassenger(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="passengers")
    arrival = models.ForeignKey(Arrival, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("core.Person", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["transfer", "arrival"], name="entry_passenger_once")
        ]

    def __str__(self) -> str:
        return f"{self.transfer_id}/{self.arrival_id}"


class HomeHandoff(BaseModel):
    """Home quarantine or health monitoring handed to the community of the home
    address: a task on the grid worker's list."""

    class State(models.TextChoices):
        OPEN = "open", _("To take over")
        ACCEPTED = "accepted", _("Taken over")

    arrival = models.OneToOneField(Arrival, on_delete=models.CASCADE, related_name="handoff")
    person = models.ForeignKey("core.Person", on_delete=models.PROTECT, related_name="+")
    scope_path = models.CharField(max_length=64, db_index=True, editable=False)
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    until = models.DateField(_("until"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default="open")
    accepted_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(_("taken over at"), null=True, blank=True)

    class Meta:
        ordering = ["state", "-created_at"]

    def __str__(self) -> str:
        return f"{self.person_id} {self.category}"
