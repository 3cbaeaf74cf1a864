"""Centralised quarantine (集中隔离): sites with their lifecycle, acceptance checklist
and tiered activation, rooms, and the rules (data) that govern them."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.models import BaseModel, BilingualName, in_language

# --- Rules as data ------------------------------------------------------------------


class AcceptanceItem(BilingualName, BaseModel):
    """One point of the acceptance checklist a site must pass before it takes
    people (三区两通道, one person per room with own bathroom, ventilation, ...).
    Data: an authority adds, words or retires points without a code change."""

    code = models.SlugField(max_length=40, unique=True)
    description_zh = models.TextField(_("what is checked (Chinese)"), blank=True)
    description_en = models.TextField(_("what is checked (English)"), blank=True)
    required = models.BooleanField(
        _("required"), default=True, help_text=_("A site fails acceptance when this point fails.")
    )
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("acceptance checklist point")
        verbose_name_plural = _("acceptance checklist points")

    def __str__(self) -> str:
        return self.name

    @property
    def description(self) -> str:
        return in_language(self.description_zh, self.description_en)


class ActivationRule(BaseModel):
    """When the active sites of an area are this full, the next site in the tier
    queue is proposed for activation (梯次启用). The rule of the nearest node
    above a site's area applies; a rule without a node applies everywhere.
    Versioned by ``effective_from``: the latest rule in force counts."""

    jurisdiction = models.ForeignKey(
        "core.Jurisdiction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("area"),
        help_text=_("Empty: every area without a rule of its own."),
    )
    occupancy_threshold_percent = models.PositiveSmallIntegerField(
        _("occupancy threshold (%)"),
        help_text=_("Share of the rooms of active sites in use that proposes the next site."),
    )
    effective_from = models.DateField(_("effective from"))
    source_document = models.CharField(_("source document"), max_length=300, blank=True)

    class Meta:
        ordering = ["-effective_from", "-id"]
        verbose_name = _("tiered activation rule")
        verbose_name_plural = _("tiered activation rules")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    occupancy_threshold_percent__gte=1, occupancy_threshold_percent__lte=100
                ),
                name="quarantine_activation_threshold_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.occupancy_threshold_percent}% ({self.effective_from})"


# --- Sites --------------------------------------------------------------------------


class Site(BaseModel):
    """A quarantine site (隔离场所): a hotel, dormitory or purpose-built facility."""

    class Kind(models.TextChoices):
        HOTEL = "hotel", _("Hotel")
        DORMITORY = "dormitory", _("Dormitory")
        TRAINING_CENTRE = "training_centre", _("Training centre")
        PURPOSE_BUILT = "purpose_built", _("Purpose-built facility")
        OTHER = "other", _("Other")

    class State(models.TextChoices):
        RESERVE = "reserve", _("In reserve")
        VACATING = "vacating", _("Being vacated")
        INSPECTION = "inspection", _("Inspection and acceptance")
        ACTIVE = "active", pgettext_lazy("site state", "Active")
        STANDBY = "standby", _("Standby")
        CLOSED = "closed", _("Closed")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.HOTEL)
    jurisdiction = models.ForeignKey(
        "core.Jurisdiction",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("area"),
        help_text=_("Where the site is (its district or a smaller area)."),
    )
    scope_path = models.CharField(max_length=64, default="", editable=False)
    address = models.CharField(_("address"), max_length=300, blank=True)
    tier = models.PositiveSmallIntegerField(
        _("activation tier"), default=1, help_text=_("1 is activated first.")
    )
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.RESERVE
    )
    state_since = models.DateTimeField(default=timezone.now)
    planned_rooms = models.PositiveIntegerField(
        _("planned rooms"), default=0, help_text=_("Rooms the survey found suitable.")
    )
    contact_name = models.CharField(_("site contact"), max_length=100, blank=True)
    contact_phone = models.CharField(_("site telephone"), max_length=32, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["tier", "name", "id"]
        verbose_name = _("quarantine site")
        verbose_name_plural = _("quarantine sites")
        indexes = [
            models.Index(fields=["scope_path", "state"], name="quarantine_site_scope"),
            models.Index(fields=["state", "tier"], name="quarantine_site_state_tier"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def takes_people(self) -> bool:
        return self.state == self.State.ACTIVE


class SiteTransition(models.Model):
    """One step of a site's lifecycle (append-only history)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=12, choices=Site.State.choices, blank=True)
    to_state = models.CharField(max_length=12, choices=Site.State.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.site_id}: {self.from_state} -> {self.to_state}"


class SiteAcceptance(BaseModel):
    """One inspection of a site against the checklist in force that day."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="acceptances")
    inspected_at = models.DateTimeField(default=timezone.now)
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    passed = models.BooleanField(default=False)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["-inspected_at", "-id"]
        verbose_name = _("site acceptance")
        verbose_name_plural = _("site acceptances")

    def __str__(self) -> str:
        return f"{self.site_id} {self.inspected_at:%Y-%m-%d}"


class AcceptanceResult(models.Model):
    acceptance = models.ForeignKey(SiteAcceptance, on_delete=models.CASCADE, related_name="results")
    item = models.ForeignKey(AcceptanceItem, on_delete=models.PROTECT, related_name="+")
    passed = models.BooleanField()
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["item__order", "item__code"]
        constraints = [
            models.UniqueConstraint(fields=["acceptance", "item"], name="quarantine_result_once")
        ]

    def __str__(self) -> str:
        return f"{self.acceptance_id}:{self.item_id}={self.passed}"


class ActivationProposal(BaseModel):
    """The next site of the tier queue, proposed because the active sites of an
    area passed the occupancy threshold; the command accepts or dismisses it."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        DISMISSED = "dismissed", pgettext_lazy("proposal", "Dismissed")
        STALE = "stale", _("No longer needed")

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="proposals")
    pool = models.ForeignKey(
        "core.Jurisdiction", on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    scope_path = models.CharField(max_length=64, default="", editable=False)
    occupied_rooms = models.PositiveIntegerField(default=0)
    total_rooms = models.PositiveIntegerField(default=0)
    threshold_percent = models.PositiveSmallIntegerField(default=0)
    rule = models.ForeignKey(ActivationRule, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pool"],
                condition=models.Q(state="open"),
                name="quarantine_one_open_proposal_per_area",
            )
        ]

    def __str__(self) -> str:
        return f"{self.site_id} ({self.state})"

    @property
    def occupancy_percent(self) -> int:
        return round(100 * self.occupied_rooms / self.total_rooms) if self.total_rooms else 0


# --- Rooms ------------------------------------------------------------------------------


class Room(BaseModel):
    class Kind(models.TextChoices):
        SINGLE = "single", _("Single room")
        DOUBLE = "double", _("Double room")
        SUITE = "suite", _("Suite")
        ACCESSIBLE = "accessible", _("Accessible room")

    class Status(models.TextChoices):
        CLEAN = "clean", _("Clean")
        OCCUPIED = "occupied", _("Occupied")
        AWAITING_DISINFECTION = "awaiting_disinfection", _("Awaiting disinfection")
        MAINTENANCE = "maintenance", _("Maintenance")

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="rooms")
    number = models.CharField(_("room number"), max_length=20)
    floor = models.SmallIntegerField(_("floor"), default=1)
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices, default=Kind.SINGLE)
    own_bathroom = models.BooleanField(_("own bathroom"), default=True)
    status = models.CharField(
        _("status"), max_length=24, choices=Status.choices, default=Status.CLEAN
    )
    occupants = models.PositiveSmallIntegerField(default=0, editable=False)
    scope_path = models.CharField(max_length=64, default="", editable=False)

    class Meta:
        ordering = ["site", "floor", "number"]
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        constraints = [
            models.UniqueConstraint(fields=["site", "number"], name="quarantine_room_number"),
            models.CheckConstraint(
                condition=models.Q(occupants=0) | models.Q(status="occupied"),
                name="quarantine_room_occupied_status",
            ),
        ]
        indexes = [
            models.Index(fields=["site", "status", "floor", "number"], name="quarantine_room_free"),
        ]

    def __str__(self) -> str:
        return self.number


# --- Stays: rules as data ---------------------------------------------------------------


class StayCategory(BilingualName, BaseModel):
    """Why a person is quarantined (close contact, inbound traveller, ...). Data:
    the codes are those entry and investigation send with their facts."""

    code = models.SlugField(max_length=40, unique=True)
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("quarantine category")
        verbose_name_plural = _("quarantine categories")

    def __str__(self) -> str:
        return self.name


class QuarantineRule(BaseModel):
    """How long, how monitored and how released a category of people is, per
    disease (an empty disease code applies to every disease without its own
    rule). Versions are never edited once used: a change is a new version with
    a later ``effective_from``; every stay records the version it used."""

    category = models.ForeignKey(
        StayCategory, on_delete=models.PROTECT, related_name="rules", verbose_name=_("category")
    )
    disease_code = models.SlugField(
        _("disease code"), max_length=40, blank=True, help_text=_("Empty: every disease.")
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    effective_from = models.DateField(_("effective from"))
    quarantine_days = models.PositiveSmallIntegerField(_("days of quarantine"))
    test_days = models.JSONField(
        _("test days"),
        default=list,
        help_text=_("Days of the stay with a scheduled test (day 1 is the first day)."),
    )
    release_negative_tests = models.PositiveSmallIntegerField(
        _("negative tests needed for release"), default=1
    )
    release_test_window_days = models.PositiveSmallIntegerField(
        _("counted in the last days of the stay"), default=2
    )
    checks_per_day = models.PositiveSmallIntegerField(_("temperature checks per day"), default=2)
    fever_celsius = models.DecimalField(
        _("fever from (°C)"), max_digits=3, decimal_places=1, default="37.3"
    )
    home_monitoring_days = models.PositiveSmallIntegerField(
        _("days of health monitoring at home after release"), default=0
    )
    # One person a room; with an approved exception (a minor with a guardian, a
    # carer) at most this many share one.
    room_sharers = models.PositiveSmallIntegerField(
        _("people in one room at most, with an approved exception"),
        default=4,
        validators=[MinValueValidator(1)],
    )
    source_document = models.CharField(_("source document"), max_length=300, blank=True)

    class Meta:
        ordering = ["category", "disease_code", "-effective_from", "-version"]
        verbose_name = _("quarantine rule")
        verbose_name_plural = _("quarantine rules")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "disease_code", "version"], name="quarantine_rule_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.disease_code or '*'} v{self.version}"


class Symptom(BilingualName, BaseModel):
    """A symptom recorded in daily monitoring; an alarming one makes the person
    a suspected case. Data (per disease lists differ: a rash for mpox)."""

    code = models.SlugField(max_length=40, unique=True)
    alarming = models.BooleanField(_("alarming"), default=True)
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("symptom")
        verbose_name_plural = _("symptoms")

    def __str__(self) -> str:
        return self.name


class DocumentTemplate(BaseModel):
    """The wording of a quarantine order (隔离通知书) or release certificate in one
    language. Placeholders: {name} {document} {site} {address} {room} {start}
    {end} {category} {number} {authority} {date}. Versioned by ``effective_from``."""

    class Kind(models.TextChoices):
        ORDER = "order", _("Quarantine order")
        CERTIFICATE = "certificate", _("Release certificate")

    kind = models.CharField(_("document"), max_length=12, choices=Kind.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    effective_from = models.DateField(_("effective from"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), help_text=_("Paragraphs separated by empty lines."))
    legal_basis = models.TextField(_("legal basis"), blank=True)
    authority = models.CharField(_("issuing authority"), max_length=200)

    class Meta:
        ordering = ["kind", "language", "-effective_from", "-id"]
        verbose_name = _("document template")
        verbose_name_plural = _("document templates")

    def __str__(self) -> str:
        return f"{self.kind} {self.language} {self.effective_from}"


class NumberSequence(models.Model):
    """Running numbers of orders and certificates, per kind and year."""

    key = models.CharField(max_length=40, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}={self.last}"


# --- Stays ----------------------------------------------------------------------------


class Stay(BaseModel):
    """One person's centralised quarantine at one site."""

    class State(models.TextChoices):
        PENDING = "pending", _("Awaiting a room")
        IN_ROOM = "in_room", _("In quarantine")
        RELEASED = "released", pgettext_lazy("stay", "Released")
        TRANSFERRED = "transferred", _("Transferred out")
        CANCELLED = "cancelled", _("Cancelled")

    class Source(models.TextChoices):
        TRANSFER = "transfer", _("Transfer hand-over")
        ORDER = "order", _("Direct order")
        MOVE = "move", _("Moved from another site")

    OPEN_STATES = (State.PENDING, State.IN_ROOM)

    person = models.ForeignKey("core.Person", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="stays")
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.PROTECT, related_name="stays"
    )
    scope_path = models.CharField(max_length=64, default="", editable=False)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    category = models.ForeignKey(StayCategory, on_delete=models.PROTECT, related_name="+")
    disease_code = models.SlugField(max_length=40, blank=True)
    rule = models.ForeignKey(QuarantineRule, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=10, choices=Source.choices)
    source_key = models.CharField(max_length=80, blank=True, editable=False)
    transfer_id = models.BigIntegerField(null=True, blank=True)
    arrival_id = models.BigIntegerField(null=True, blank=True)
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_on = models.DateField(_("quarantine from"))
    planned_end = models.DateField(_("planned end"))
    requested_end = models.DateField(
        _("end requested by the sender"),
        null=True,
        blank=True,
        help_text=_("Kept when it differs from the rule's end (the later one applies)."),
    )
    admitted_at = models.DateTimeField(default=timezone.now)
    roomed_at = models.DateTimeField(null=True, blank=True)
    share = models.ForeignKey(
        "Approval", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    suspected_at = models.DateTimeField(_("suspected"), null=True, blank=True)
    suspected_reason = models.CharField(max_length=200, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    end_note = models.TextField(blank=True)
    early_release = models.ForeignKey(
        "Approval", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    certificate_number = models.CharField(max_length=40, blank=True)
    transferred_to = models.CharField(max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["-admitted_at", "-id"]
        verbose_name = _("stay")
        verbose_name_plural = _("stays")
        constraints = [
            # One person per room: a second person needs an approved exception.
            models.UniqueConstraint(
                fields=["room"],
                condition=models.Q(state="in_room", share__isnull=True),
                name="quarantine_one_person_per_room",
            ),
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(state__in=["pending", "in_room"]),
                name="quarantine_one_open_stay_per_person",
            ),
            models.UniqueConstraint(
                fields=["source_key"],
                condition=~models.Q(source_key=""),
                name="quarantine_stay_source_once",
            ),
        ]
        indexes = [
            models.Index(fields=["site", "state"], name="quarantine_stay_site_state"),
            models.Index(fields=["scope_path", "state"], name="quarantine_stay_scope"),
            models.Index(fields=["state", "planned_end"], name="quarantine_stay_end"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}@{self.site_id} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def last_day(self) -> dt.date:
        """The last day of quarantine (the stay may end the day after)."""
        return self.planned_end - dt.timedelta(days=1)

    def day_number(self, on: dt.date) -> int:
        """Day of the stay (the first day is day 1)."""
        return (on - self.started_on).days + 1


class Approval(BaseModel):
    """An exception that needs a second person's approval: a person sharing a
    room (a minor with a guardian, a carer) or a release before the criteria."""

    class Kind(models.TextChoices):
        ROOM_SHARE = "room_share", _("Room sharing")
        EARLY_RELEASE = "early_release", _("Release before the criteria")

    class Reason(models.TextChoices):
        MINOR_GUARDIAN = "minor_guardian", _("A minor with a guardian")
        CARER = "carer", _("A carer of a person who needs care")
        MEDICAL = "medical", _("Medical grounds")
        OTHER = "other", _("Other")

    class State(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")
        USED = "used", _("Carried out")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    stay = models.ForeignKey(Stay, on_delete=models.CASCADE, related_name="approvals")
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason_kind = models.CharField(_("ground"), max_length=16, choices=Reason.choices)
    reason = models.TextField(_("reason"))
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    scope_path = models.CharField(max_length=64, default="", editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["scope_path", "state"], name="quarantine_approval_scope")]

    def __str__(self) -> str:
        return f"{self.kind} {self.stay_id} ({self.state})"


class StayExtension(models.Model):
    stay = models.ForeignKey(Stay, on_delete=models.CASCADE, related_name="extensions")
    days = models.PositiveSmallIntegerField()
    reason = models.TextField()
    previous_end = models.DateField()
    new_end = models.DateField()
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.stay_id} +{self.days}"


class HealthCheck(models.Model):
    """One temperature and symptom check of a person in quarantine, or of a site
    worker during their monitoring after rotation."""

    class Slot(models.TextChoices):
        MORNING = "am", _("Morning")
        AFTERNOON = "pm", _("Afternoon")

    stay = models.ForeignKey(
        Stay, null=True, blank=True, on_delete=models.CASCADE, related_name="checks"
    )
    period = models.ForeignKey(
        "StaffPeriod", null=True, blank=True, on_delete=models.CASCADE, related_name="checks"
    )
    taken_on = models.DateField()
    slot = models.CharField(max_length=2, choices=Slot.choices)
    temperature = models.DecimalField(max_digits=3, decimal_places=1)
    symptoms = models.JSONField(default=list, blank=True)
    alarming = models.BooleanField(default=False)
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["taken_on", "slot", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["stay", "taken_on", "slot"], name="quarantine_check_once"
            ),
            models.UniqueConstraint(
                fields=["period", "taken_on", "slot"], name="quarantine_staff_check_once"
            ),
            models.CheckConstraint(
                condition=models.Q(stay__isnull=False, period__isnull=True)
                | models.Q(stay__isnull=True, period__isnull=False),
                name="quarantine_check_of_one",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stay_id or self.period_id} {self.taken_on} {self.slot}"


class StayTest(models.Model):
    """A test scheduled during a stay (from the rule's test days) or added."""

    class Result(models.TextChoices):
        DUE = "due", _("To be tested")
        SAMPLED = "sampled", _("Sampled, awaiting result")
        NEGATIVE = "negative", _("Negative")
        POSITIVE = "positive", _("Positive")
        MISSED = "missed", _("Missed")

    stay = models.ForeignKey(Stay, on_delete=models.CASCADE, related_name="tests")
    due_on = models.DateField()
    day_number = models.PositiveSmallIntegerField()
    extra = models.BooleanField(default=False)
    result = models.CharField(max_length=10, choices=Result.choices, default=Result.DUE)
    sampled_at = models.DateTimeField(null=True, blank=True)
    result_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["stay", "due_on"],
                condition=models.Q(extra=False),
                name="quarantine_test_once_a_day",
            )
        ]
        indexes = [models.Index(fields=["result", "due_on"], name="quarantine_test_due")]

    def __str__(self) -> str:
        return f"{self.stay_id} day {self.day_number}"


class QuarantineOrder(BaseModel):
    """A quarantine order (隔离通知书) issued for a stay; printed from its template."""

    stay = models.ForeignKey(Stay, on_delete=models.PROTECT, related_name="orders")
    number = models.CharField(max_length=40, unique=True)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES)
    template = models.ForeignKey(DocumentTemplate, on_delete=models.PROTECT, related_name="+")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    scope_path = models.CharField(max_length=64, default="", editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number


# --- Staff closed loop (闭环管理) ---------------------------------------------------------


class ClosedLoopRule(BaseModel):
    """How long site staff work in the closed loop before rotation, and how long
    they are monitored after it. Versioned by ``effective_from``."""

    effective_from = models.DateField(_("effective from"))
    rotation_days = models.PositiveSmallIntegerField(_("days on site before rotation"))
    monitoring_days = models.PositiveSmallIntegerField(_("days of health monitoring after"))
    monitoring_test_days = models.JSONField(
        _("test days after rotation"),
        default=list,
        help_text=_("Days of the monitoring with a test (day 1 is the first day off site)."),
    )
    fever_celsius = models.DecimalField(
        _("fever from (°C)"), max_digits=3, decimal_places=1, default="37.3"
    )
    source_document = models.CharField(_("source document"), max_length=300, blank=True)

    class Meta:
        ordering = ["-effective_from", "-id"]
        verbose_name = _("closed-loop rule")
        verbose_name_plural = _("closed-loop rules")

    def __str__(self) -> str:
        return f"{self.rotation_days}+{self.monitoring_days} ({self.effective_from})"


class SiteStaff(BaseModel):
    """A member of a site's closed-loop staff. The phone number is personal data:
    encrypted, found by keyed hash, shown masked."""

    class Role(models.TextChoices):
        MANAGER = "manager", _("Site manager")
        MEDICAL = "medical", _("Doctor or nurse")
        SECURITY = "security", _("Security")
        CLEANING = "cleaning", _("Cleaning and disinfection")
        CATERING = "catering", _("Catering")
        LIAISON = "liaison", _("Liaison and logistics")
        OTHER = "other", _("Other")

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="staff")
    name = models.CharField(_("name"), max_length=100)
    role = models.CharField(
        pgettext_lazy("post on a team", "role"), max_length=10, choices=Role.choices
    )
    employer = models.CharField(_("employer"), max_length=200, blank=True)
    phone_encrypted = models.TextField(blank=True, editable=False)
    phone_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    phone_masked = models.CharField(_("phone"), max_length=32, blank=True, editable=False)
    scope_path = models.CharField(max_length=64, default="", editable=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["site", "role", "name"]
        verbose_name = _("site staff member")
        verbose_name_plural = _("site staff")

    def __str__(self) -> str:
        return self.name


class StaffPeriod(BaseModel):
    """One spell of a staff member in the closed loop, then their monitoring."""

    class State(models.TextChoices):
        ON_SITE = "on_site", _("On site")
        MONITORING = "monitoring", _("Health monitoring after rotation")
        DONE = "done", _("Done")

    staff = models.ForeignKey(SiteStaff, on_delete=models.PROTECT, related_name="periods")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    scope_path = models.CharField(max_length=64, default="", editable=False)
    rule = models.ForeignKey(ClosedLoopRule, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.ON_SITE)
    started_on = models.DateField(_("on site from"))
    rotation_due = models.DateField(_("rotation due"))
    left_on = models.DateField(_("left the site"), null=True, blank=True)
    monitoring_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["rotation_due", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["staff"],
                condition=models.Q(state__in=["on_site", "monitoring"]),
                name="quarantine_one_open_period",
            )
        ]
        indexes = [models.Index(fields=["scope_path", "state"], name="quarantine_period_scope")]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.started_on}"


class StaffTest(models.Model):
    """A test of a site worker during the monitoring after rotation, on the
    closed-loop rule's test days (day 1 is the first day off site)."""

    class Result(models.TextChoices):
        DUE = "due", _("To be tested")
        NEGATIVE = "negative", _("Negative")
        POSITIVE = "positive", _("Positive")

    period = models.ForeignKey(StaffPeriod, on_delete=models.CASCADE, related_name="tests")
    day_number = models.PositiveSmallIntegerField()
    due_on = models.DateField()
    result = models.CharField(max_length=10, choices=Result.choices, default=Result.DUE)
    result_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "day_number"], name="quarantine_staff_test_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.period_id} day {self.day_number}"


class BreachReport(BaseModel):
    """A breach of the closed loop (破环) at a site, and its investigation."""

    class Kind(models.TextChoices):
        LEFT_LOOP = "left_loop", _("Left the closed loop")
        ZONE_CROSSING = "zone_crossing", _("Crossed from the contaminated to the clean zone")
        PPE_FAILURE = "ppe_failure", _("Protective equipment failed or was not worn")
        UNPROTECTED_CONTACT = (
            "unprotected_contact",
            _("Unprotected contact with a quarantined person"),
        )
        OUTSIDE_CONTACT = "outside_contact", _("Contact with people outside the loop")
        OTHER = "other", _("Other")

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("breach", "Reported")
        INVESTIGATING = "investigating", _("Under investigation")
        CLOSED = "closed", _("Closed")

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="breaches")
    scope_path = models.CharField(max_length=64, default="", editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("when"))
    description = models.TextField(_("what happened"))
    staff = models.ManyToManyField(SiteStaff, blank=True, related_name="breaches")
    state = models.CharField(max_length=14, choices=State.choices, default=State.OPEN)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    investigator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    findings = models.TextField(_("findings"), blank=True)
    measures = models.TextField(_("measures taken"), blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["scope_path", "state"], name="quarantine_breach_scope")]

    def __str__(self) -> str:
        return f"{self.site_id} {self.kind}"


# --- Medical treatment (医疗救治) -------------------------------------------------------


class Hospital(BaseModel):
    class Kind(models.TextChoices):
        DESIGNATED = "designated", _("Designated hospital")
        SHELTER = "shelter", _("Shelter hospital")

    class State(models.TextChoices):
        ACTIVE = "active", _("Receiving patients")
        STANDBY = "standby", _("Standby")
        CLOSED = "closed", _("Closed")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    jurisdiction = models.ForeignKey(
        "core.Jurisdiction", on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    scope_path = models.CharField(max_length=64, default="", editable=False)
    address = models.CharField(_("address"), max_length=300, blank=True)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.ACTIVE)

    class Meta:
        ordering = ["kind", "name", "id"]
        verbose_name = _("hospital")
        verbose_name_plural = _("hospitals")
        indexes = [models.Index(fields=["scope_path"], name="quarantine_hospital_scope")]

    def __str__(self) -> str:
        return self.name


class BedType(models.TextChoices):
    GENERAL = "general", _("General bed")
    ICU = "icu", _("ICU bed")


class HospitalBeds(models.Model):
    hospital = models.ForeignKey(Hospital, on_delete=models.CASCADE, related_name="beds")
    bed_type = models.CharField(max_length=8, choices=BedType.choices)
    total = models.PositiveIntegerField(_("beds"))

    class Meta:
        ordering = ["hospital", "bed_type"]
        constraints = [
            models.UniqueConstraint(fields=["hospital", "bed_type"], name="quarantine_beds_once")
        ]

    def __str__(self) -> str:
        return f"{self.hospital_id} {self.bed_type}={self.total}"


class CapacityRule(BaseModel):
    """When hospital beds count as short (data, versioned by ``effective_from``)."""

    effective_from = models.DateField(_("effective from"))
    warn_percent = models.PositiveSmallIntegerField(_("warning from (percent of beds in use)"))
    critical_percent = models.PositiveSmallIntegerField(_("critical from (percent of beds in use)"))

    class Meta:
        ordering = ["-effective_from", "-id"]
        verbose_name = _("bed capacity rule")
        verbose_name_plural = _("bed capacity rules")

    def __str__(self) -> str:
        return f"{self.warn_percent}/{self.critical_percent} ({self.effective_from})"


class Admission(BaseModel):
    """A case treated in a hospital bed; a transfer ends one admission and opens
    the next (``previous``)."""

    class Severity(models.TextChoices):
        MILD = "mild", _("Mild")
        MODERATE = "moderate", _("Moderate")
        SEVERE = "severe", _("Severe")
        CRITICAL = "critical", _("Critical")

    class State(models.TextChoices):
        ADMITTED = "admitted", _("In hospital")
        TRANSFERRED = "transferred", pgettext_lazy("admission", "Transferred")
        DISCHARGED = "discharged", _("Discharged")
        DIED = "died", _("Died")

    person = models.ForeignKey("core.Person", on_delete=models.PROTECT, related_name="+")
    case_id = models.BigIntegerField(null=True, blank=True)
    hospital = models.ForeignKey(Hospital, on_delete=models.PROTECT, related_name="admissions")
    scope_path = models.CharField(max_length=64, default="", editable=False)
    bed_type = models.CharField(max_length=8, choices=BedType.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    state = models.CharField(max_length=12, choices=State.choices, default=State.ADMITTED)
    admitted_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_stay = models.ForeignKey(
        Stay, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-admitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(state="admitted"),
                name="quarantine_one_bed_per_person",
            )
        ]
        indexes = [
            models.Index(fields=["hospital", "state", "bed_type"], name="quarantine_adm_beds"),
            models.Index(fields=["scope_path", "state"], name="quarantine_adm_scope"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}@{self.hospital_id} ({self.state})"


class AdmissionEvent(models.Model):
    """What happened to an admission (admitted, severity, transfer, discharge)."""

    admission = models.ForeignKey(Admission, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    before = models.CharField(max_length=40, blank=True)
    after = models.CharField(max_length=40, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.admission_id} {self.kind}"
