"""Zoned control (分区管控): risk levels as data, zones over the jurisdiction tree,
proposals approved by the command, lifting recommendations, four-ones teams and
door-step service requests."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.models import BaseModel, BilingualName, Jurisdiction, in_language


class ZoneLevel(BilingualName, BaseModel):
    """A risk level (high / medium / low by default) with its rules and lifting
    criteria. Data: the late-2022 "high / low per building" scheme is a change of
    rows, not of code."""

    code = models.SlugField(max_length=40, unique=True)
    colour = models.CharField(_("colour"), max_length=9, default="#b4232a")
    severity = models.PositiveSmallIntegerField(
        pgettext_lazy("rank", "severity"),
        help_text=_("Higher is stricter; a building in two zones takes the higher."),
    )
    status_reason_kind = models.CharField(
        _("status reason kind"),
        max_length=40,
        blank=True,
        help_text=_("Reason given to residents through the status services (blank: none)."),
    )
    rules_zh = models.TextField(_("rules (Chinese)"), blank=True)
    rules_en = models.TextField(_("rules (English)"), blank=True)
    lift_days_without_case = models.PositiveSmallIntegerField(
        _("days without a new case before the next step"), default=7
    )
    lift_requires_all_negative = models.BooleanField(
        _("every resident's latest test must be negative"), default=False
    )
    lift_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("next level"),
        help_text=_("Empty: the zone is lifted."),
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-severity", "code"]
        verbose_name = _("zone level")
        verbose_name_plural = _("zone levels")

    def __str__(self) -> str:
        return self.name

    @property
    def rules(self) -> str:
        return in_language(self.rules_zh, self.rules_en)


class Zone(BaseModel):
    class State(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        ACTIVE = "active", _("In force")
        REFUSED = "refused", _("Refused")
        LIFTED = "lifted", _("Lifted")

    name = models.CharField(_("name"), max_length=200)
    level = models.ForeignKey(ZoneLevel, on_delete=models.PROTECT, related_name="zones")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PROPOSED)
    # The smallest node holding every unit (for scoping and the public district).
    scope_path = models.CharField(max_length=64, default="", editable=False)
    district = models.ForeignKey(
        Jurisdiction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    polygon = models.JSONField(_("drawn polygon (GeoJSON)"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    # The ids of the cases the zone was declared for (investigation's; no key into
    # its table: their numbers are read through investigation.selectors.shared).
    case_ids = models.JSONField(_("linked cases"), default=list, blank=True)
    decision_number = models.CharField(_("decision document number"), max_length=80, blank=True)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    declared_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    in_force_since = models.DateTimeField(null=True, blank=True)
    level_since = models.DateTimeField(null=True, blank=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    resident_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-declared_at", "-id"]
        verbose_name = _("risk zone")
        verbose_name_plural = _("risk zones")
        indexes = [
            models.Index(fields=["state", "scope_path"], name="zones_zone_state_scope"),
        ]

    def __str__(self) -> str:
        return self.name


class ZoneUnit(models.Model):
    """A jurisdiction node (building, grid unit or community) inside a zone."""

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="units")
    node = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    path = models.CharField(max_length=64)
    active = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["zone", "node"], name="zones_unit_once"),
        ]
        indexes = [models.Index(fields=["path", "active"], name="zones_unit_path")]

    def __str__(self) -> str:
        return f"{self.zone_id}:{self.path}"


class ZoneProposal(BaseModel):
    """A change to a zone proposed by a district officer (or the daily evaluation)
    that takes effect only when a commander approves it."""

    class Kind(models.TextChoices):
        DECLARE = "declare", _("Declare")
        CHANGE_LEVEL = "change_level", _("Change level")
        ADD_UNITS = "add_units", _("Add units")
        REMOVE_UNITS = "remove_units", _("Remove units")
        LIFT = "lift", _("Lift")

    class State(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="proposals")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    level = models.ForeignKey(
        ZoneLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    node_ids = models.JSONField(default=list, blank=True)
    reason = models.TextField(blank=True)
    decision_number = models.CharField(max_length=80, blank=True)
    scope_path = models.CharField(max_length=64, default="", editable=False)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("zone proposal")
        verbose_name_plural = _("zone proposals")
        indexes = [models.Index(fields=["state", "scope_path"], name="zones_prop_state_scope")]

    def __str__(self) -> str:
        return f"{self.kind} {self.zone_id}"


class LiftRecommendation(BaseModel):
    """What the daily evaluation found for a zone, for the commander to act on."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        DISMISSED = "dismissed", pgettext_lazy("recommendation", "Dismissed")
        STALE = "stale", _("Superseded")

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="recommendations")
    evaluated_on = models.DateField()
    from_level = models.ForeignKey(ZoneLevel, on_delete=models.PROTECT, related_name="+")
    to_level = models.ForeignKey(
        ZoneLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    met = models.BooleanField(default=False)
    evidence = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    proposal = models.ForeignKey(
        ZoneProposal, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scope_path = models.CharField(max_length=64, default="")

    class Meta:
        ordering = ["-evaluated_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["zone", "evaluated_on"], name="zones_rec_daily"),
        ]

    def __str__(self) -> str:
        return f"{self.zone_id} {self.evaluated_on}"


# --- Teams and door-step services --------------------------------------------


class TeamMember(BaseModel):
    """One member of a zone's four-ones team (四个一)."""

    class Role(models.TextChoices):
        LEADER = "leader", _("Team leader")
        MEDICAL = "medical", _("Medical worker")
        POLICE = "police", _("Police officer")
        COMMUNITY = "community", _("Community worker")

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="team")
    role = models.CharField(
        pgettext_lazy("post on a team", "role"), max_length=12, choices=Role.choices
    )
    name = models.CharField(_("name"), max_length=100)
    # A personal number: encrypted, found by keyed hash, shown masked (as people's).
    phone_encrypted = models.TextField(blank=True, editable=False)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=32, blank=True, editable=False)
    shift = models.CharField(_("shift"), max_length=60, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["zone", "role", "name"]

    def __str__(self) -> str:
        return self.name


class ServiceKind(BilingualName, BaseModel):
    """A kind of door-step service and its SLA (data)."""

    code = models.SlugField(max_length=40, unique=True)
    group = models.CharField(max_length=20, default="other")
    medical = models.BooleanField(
        default=False, help_text=_("Medical requests are never refused because of the zone.")
    )
    zone_only = models.BooleanField(
        default=True, help_text=_("Only for residents of a zone (e.g. groceries).")
    )
    sla_minutes = models.PositiveIntegerField(_("SLA (minutes)"))
    priority = models.PositiveSmallIntegerField(default=2, help_text=_("1 highest."))
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class ServiceRequest(BaseModel):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ASSIGNED = "assigned", _("Assigned")
        DONE = "done", _("Done")
        CONFIRMED = "confirmed", _("Confirmed by the resident")
        CANCELLED = "cancelled", _("Cancelled")

    class Via(models.TextChoices):
        PORTAL = "portal", _("Portal (the resident)")
        STAFF = "staff", _("Staff on the resident's behalf")

    person = models.ForeignKey("core.Person", on_delete=models.PROTECT, related_name="+")
    zone = models.ForeignKey(
        Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    kind = models.ForeignKey(ServiceKind, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("what is needed"), blank=True)
    items = models.JSONField(_("items"), default=list, blank=True)
    priority = models.PositiveSmallIntegerField(default=2)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    via = models.CharField(max_length=8, choices=Via.choices, default=Via.STAFF)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_at = models.DateTimeField()
    escalated_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    scope_path = models.CharField(max_length=64, default="", editable=False)

    class Meta:
        ordering = ["priority", "due_at", "id"]
        indexes = [
            models.Index(fields=["scope_path", "status"], name="zones_req_scope"),
            models.Index(fields=["person", "created_at"], name="zones_req_person"),
        ]

    def __str__(self) -> str:
        return f"{self.kind_id} {self.person_id}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.ASSIGNED)

    @property
    def overdue(self) -> bool:
        return self.is_open and self.due_at < timezone.now()


class ServiceRequestEvent(models.Model):
    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="events")
    time = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["time", "id"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.status}"
