"""Risk status: levels, rules, reasons, cached effective status, manual changes, appeals.

A person's effective status is the most severe of their active reasons. Levels,
reason kinds, rules, manual-change bases and the policy numbers are data (shipped
defaults loaded by a data migration, editable by the authority).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.models import BaseModel, BilingualName, in_language


class StatusLevel(BilingualName, BaseModel):
    """green < yellow < red (a jurisdiction may add levels between them)."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    colour = models.CharField(_("colour"), max_length=7, default="#16a34a")
    severity = models.PositiveSmallIntegerField(pgettext_lazy("rank", "severity"), unique=True)
    meaning_zh = models.CharField(_("meaning (Chinese)"), max_length=300, blank=True)
    meaning_en = models.CharField(_("meaning (English)"), max_length=300, blank=True)

    class Meta:
        ordering = ["severity"]

    def __str__(self) -> str:
        return self.code

    @property
    def meaning(self) -> str:
        return in_language(self.meaning_zh, self.meaning_en)


class ReasonKind(BilingualName, BaseModel):
    """Why a person has a status (confirmed case, close contact, sealed zone, ...)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    # What the person reads: plain language, never another person or a case's details.
    plain_zh = models.CharField(_("plain text (Chinese)"), max_length=300)
    plain_en = models.CharField(_("plain text (English)"), max_length=300, blank=True)
    health_basis = models.BooleanField(_("health fact"), default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    @property
    def plain(self) -> str:
        return in_language(self.plain_zh, self.plain_en)


class StatusRule(BaseModel):
    """Which fact gives which level for how long, and what clears it early.

    Versioned per (kind, disease): the version with the latest ``effective_from``
    on or before the reason's start is used. ``disease`` empty = any disease (zones,
    screening, arrivals)."""

    kind = models.SlugField(_("reason kind"), max_length=40)
    # The disease's id in investigation (a plain column: no key into another app's
    # table; its name is read through investigation.selectors.shared).
    disease_id = models.IntegerField(_("disease"), null=True, blank=True, db_index=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    effective_from = models.DateField(_("effective from"))
    level = models.SlugField(pgettext_lazy("status level", "level"), max_length=20)
    duration_days = models.PositiveIntegerField(
        _("duration (days)"), null=True, blank=True, help_text=_("Empty: until the fact ends.")
    )
    clear_negative_tests = models.PositiveSmallIntegerField(
        _("negative tests that end it early"), default=0
    )
    clear_interval_hours = models.PositiveSmallIntegerField(
        _("hours between those tests"), default=0
    )
    clear_how = models.SlugField(_("end code of an early clear"), default="negative_tests")
    source_document = models.CharField(_("source document"), max_length=300, blank=True)

    class Meta:
        ordering = ["kind", "disease_id", "-effective_from", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "disease_id", "version"], name="status_rule_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} v{self.version}"


class Reason(models.Model):
    """One reason for one person's status, derived from one source fact."""

    class How(models.TextChoices):
        EXPIRY = "expiry", _("Expired")
        NEGATIVE_TESTS = "negative_tests", _("Negative tests")
        ZONE_LIFTED = "zone_lifted", _("Zone lifted")
        CASE_RELEASED = "case_released", _("Case released")
        REVOKED = "revoked", _("Revoked")
        SUPERSEDED = "superseded", _("Superseded")
        RETESTED = "retested", _("Negative retest")

    person = models.ForeignKey("core.Person", on_delete=models.CASCADE, related_name="+")
    level = models.SlugField(max_length=20)
    kind = models.SlugField(max_length=40)
    source_type = models.CharField(max_length=40)
    source_id = models.BigIntegerField()
    disease_id = models.IntegerField(null=True, blank=True)
    rule = models.ForeignKey(StatusRule, on_delete=models.PROTECT, null=True, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    negatives = models.JSONField(default=list, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_how = models.CharField(max_length=20, blank=True, default="", choices=How.choices)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["person", "ended_at"], name="status_reason_person"),
            models.Index(
                fields=["source_type", "source_id", "ended_at"], name="status_reason_source"
            ),
            models.Index(fields=["ended_at", "ends_at"], name="status_reason_open_end"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}:{self.kind}:{self.level}"


class PersonStatus(models.Model):
    """The cached effective status of a person (no row = green)."""

    person = models.OneToOneField(
        "core.Person", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    level = models.SlugField(max_length=20)
    severity = models.PositiveSmallIntegerField(default=0)
    valid_until = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.person_id}:{self.level}"


class StatusPolicy(BaseModel):
    """The numbers of the status policy (one row, data)."""

    manual_max_days = models.PositiveSmallIntegerField(
        _("longest manual change (days)"), default=14
    )
    bulk_threshold = models.PositiveIntegerField(
        _("people in one manual request above which it is bulk"), default=20
    )
    appeal_sla_hours = models.PositiveSmallIntegerField(_("appeal deadline (hours)"), default=24)
    alert_manual_reds = models.PositiveSmallIntegerField(
        _("manual reds by one user that raise an alert"), default=10
    )
    alert_window_hours = models.PositiveSmallIntegerField(_("alert window (hours)"), default=24)
    otp_max_attempts = models.PositiveSmallIntegerField(_("wrong codes before lock-out"), default=5)
    otp_lock_minutes = models.PositiveSmallIntegerField(_("lock-out (minutes)"), default=30)
    check_rate_per_minute = models.PositiveIntegerField(
        _("status checks per minute per address"), default=600
    )
    device_check_rate_per_minute = models.PositiveIntegerField(
        _("status checks per minute per scanning device"),
        default=300,
        help_text=_(
            "A registered scanning device (an API token allowed to scan status codes) is "
            "counted on its own, not with the other devices sharing its address."
        ),
    )

    def __str__(self) -> str:
        return "status policy"


class ManualBasis(BilingualName, BaseModel):
    """The legal or health basis a manual change must cite (list is data).

    Only a health basis (a case, a contact, a test, an arrival from a listed area, a
    clinical decision) may raise a person's level, and only with its source named;
    any other basis (an appeal upheld, a data correction) may only lower or end a
    status. ``source_zh``/``source_en`` say which source the request must name."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    health = models.BooleanField(
        _("health basis"),
        default=False,
        help_text=_(
            "A health fact (a case, a contact, a test, an arrival from a listed area, a "
            "clinical decision): only such a basis may raise a level. Any other basis may "
            "only lower or end a status."
        ),
    )
    source_zh = models.CharField(
        _("source to name (Chinese)"),
        max_length=100,
        blank=True,
        help_text=_("What the request must name as its source; empty: no source needed."),
    )
    source_en = models.CharField(_("source to name (English)"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def source_label(self) -> str:
        return in_language(self.source_zh, self.source_en)

    @property
    def needs_source(self) -> bool:
        """A health basis always names its source; another one when it says which."""
        return self.health or bool(self.source_zh or self.source_en)


class ManualRequest(BaseModel):
    """A manual reason, or an early end of reasons, waiting for a second person."""

    class Action(models.TextChoices):
        GRANT = "grant", _("Manual status")
        END = "end", _("Early end of a reason")

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    action = models.CharField(max_length=10, choices=Action.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    person_ids = models.JSONField(default=list)
    people_count = models.PositiveIntegerField(default=0)
    level = models.SlugField(max_length=20, blank=True)
    reason_ids = models.JSONField(default=list, blank=True)
    basis = models.ForeignKey(ManualBasis, on_delete=models.PROTECT)
    source_ref = models.CharField(_("source"), max_length=120, blank=True)
    text = models.TextField()
    ends_at = models.DateTimeField(null=True, blank=True)
    bulk = models.BooleanField(default=False)
    scope_path = models.CharField(max_length=64, default="")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "scope_path"], name="status_manual_state")]

    def __str__(self) -> str:
        return f"manual #{self.pk}"


class Appeal(BaseModel):
    """A person's appeal against their status."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        UPHELD = "upheld", _("Upheld")
        REJECTED = "rejected", _("Rejected")

    person = models.ForeignKey("core.Person", on_delete=models.CASCADE, related_name="+")
    scope_path = models.CharField(max_length=64, default="")
    text = models.TextField()
    level_at_appeal = models.SlugField(max_length=20, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    due_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_text = models.TextField(blank=True)

    class Meta:
        ordering = ["due_at"]
        indexes = [models.Index(fields=["state", "scope_path"], name="status_appeal_state")]

    def __str__(self) -> str:
        return f"appeal #{self.pk}"


class ResidentChallenge(BaseModel):
    """A one-time code sent to a resident's phone, and the lock-out counter."""

    doc_hash = models.CharField(max_length=64, db_index=True)
    # Empty for a document nobody registered: the challenge is still recorded (and
    # can never be answered) so the limits treat every document alike and do not
    # reveal who is registered.
    person = models.ForeignKey(
        "core.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    used = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"challenge #{self.pk}"
