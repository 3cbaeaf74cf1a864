"""Notifications: message templates, batches, messages, opt-outs, quiet hours.

A ``Message`` never stores the phone number: the worker decrypts it from the
person record at send time, so a number corrected in the registry is used and
no second copy of personal identifiers exists.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import BaseModel

ALL_PURPOSES = "*"


def _reference() -> str:
    return uuid.uuid4().hex


class MessageTemplate(BaseModel):
    """The text of one kind of message in one language. Data, edited by staff.

    Placeholders are written ``{name}`` (letters, digits, underscore); ``{{`` and
    ``}}`` stand for literal braces. ``{person_name}`` is always available.
    Every save through ``template_save`` bumps ``version``; messages keep the
    version they were rendered from, and the audit trail keeps the old text.
    """

    code = models.SlugField(_("code"), max_length=60)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    description = models.CharField(_("description"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    placeholders = models.JSONField(_("placeholders"), default=list, editable=False)
    transactional = models.BooleanField(
        _("requested by the person"),
        default=False,
        help_text=_(
            "Sent at the person's own request (e.g. one-time codes): never deferred by "
            "quiet hours nor blocked by an opt-out."
        ),
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code", "language"]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = [
            models.UniqueConstraint(fields=["code", "language"], name="notify_template_code_lang")
        ]

    def __str__(self) -> str:
        return f"{self.code} [{self.language}] v{self.version}"


class QuietHours(BaseModel):
    """Hours in which non-urgent messages wait. The row of the deepest jurisdiction
    containing a person applies; without one, ``FANGKONG_SMS_QUIET_HOURS``."""

    jurisdiction = models.OneToOneField(
        "core.Jurisdiction",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("jurisdiction"),
    )
    start = models.TimeField(_("from"), default=dt.time(22, 0))
    end = models.TimeField(_("until"), default=dt.time(7, 0))
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")

    class Meta:
        verbose_name = _("quiet hours")
        verbose_name_plural = _("quiet hours")

    def __str__(self) -> str:
        return f"{self.jurisdiction_id}: {self.start:%H:%M}–{self.end:%H:%M}"


class Batch(BaseModel):
    class Status(models.TextChoices):
        PREPARING = "preparing", _("Preparing")
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        COMPLETED = "completed", _("Completed")

    purpose = models.SlugField(_("purpose"), max_length=60)
    template_code = models.SlugField(_("template"), max_length=60)
    context = models.JSONField(_("context"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    # The deepest node containing every recipient: who may see the batch.
    scope_path = models.CharField(max_length=64, default="", editable=False)
    legally_required = models.BooleanField(_("legally required"), default=False)
    dedup_key = models.CharField(_("deduplication key"), max_length=80, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    rate_per_minute = models.PositiveIntegerField(_("messages per minute"))
    total = models.PositiveIntegerField(_("requested"), default=0)
    # Recipients whose message is prepared (a large batch is prepared by the worker).
    # A database default too, so the previous release can still insert batches
    # while this one's migration has run.
    prepared = models.PositiveIntegerField(_("prepared"), default=0, db_default=0)
    # While the worker prepares: the recipients' ids, packed (services.pack_ids).
    recipients = models.BinaryField(null=True, editable=False)
    deduplicated = models.PositiveIntegerField(_("duplicates dropped"), default=0)
    skipped_opt_out = models.PositiveIntegerField(_("skipped (opted out)"), default=0)
    skipped_no_phone = models.PositiveIntegerField(_("skipped (no phone)"), default=0)
    queued = models.PositiveIntegerField(_("queued"), default=0)
    deferred = models.PositiveIntegerField(_("deferred by quiet hours"), default=0)
    quiet_hours_applied = models.BooleanField(_("quiet hours applied"), default=False)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("message batch")
        verbose_name_plural = _("message batches")
        indexes = [models.Index(fields=["scope_path", "created_at"], name="notify_batch_scope")]

    def __str__(self) -> str:
        return f"{self.purpose} #{self.pk}"


class Message(BaseModel):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        DEFERRED = "deferred", _("Deferred (quiet hours)")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")
        # Handed to a gateway by a worker that died before recording the answer, and
        # the gateway can neither be asked about it nor drops repeats: not re-sent
        # blindly; a delivery report settles it, or a person decides.
        UNCONFIRMED = "unconfirmed", _("Handed over, unconfirmed")

    class SkipReason(models.TextChoices):
        OPT_OUT = "opt_out", _("Opted out")
        NO_PHONE = "no_phone", _("No phone number")

    PENDING = (Status.QUEUED, Status.DEFERRED, Status.SENDING)

    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    person = models.ForeignKey("core.Person", on_delete=models.CASCADE, related_name="+")
    purpose = models.SlugField(_("purpose"), max_length=60)
    dedup_key = models.CharField(max_length=80)
    # Our reference, given to the gateway and echoed in delivery callbacks.
    reference = models.CharField(max_length=32, default=_reference, unique=True, editable=False)
    template = models.ForeignKey(
        MessageTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    template_version = models.PositiveIntegerField(default=0)
    language = models.CharField(_("language"), max_length=8)
    body = models.TextField(_("text"), blank=True)
    legally_required = models.BooleanField(_("legally required"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    skip_reason = models.CharField(max_length=16, choices=SkipReason.choices, blank=True)
    not_before = models.DateTimeField(_("not before"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    provider_message_id = models.CharField(max_length=128, blank=True, db_index=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    # While "sending": the worker's claim (a ``SendLease``), and when the message
    # was handed to the gateway, written before the hand-over. A "sending" message
    # whose lease has lapsed was either never handed over (queued again) or handed
    # over with its answer unrecorded (reconciled with the gateway by ``reference``).
    lease_id = models.BigIntegerField(null=True, blank=True, editable=False)
    handed_over_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "purpose", "dedup_key"], name="notify_message_dedup"
            )
        ]
        indexes = [
            models.Index(fields=["status", "not_before"], name="notify_message_due"),
            models.Index(fields=["batch", "status"], name="notify_message_batch_status"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} → {self.person_id} ({self.status})"


class SendLease(models.Model):
    """A worker's claim on the messages it is sending, kept alive by a heartbeat.

    ``expires_at`` moves forward every third of ``FANGKONG_SMS_LEASE_SECONDS`` while
    the worker lives; a lapsed lease, or one of a process that no longer runs on
    this host, frees its messages at once (``jobs.recover_stranded``).
    """

    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("sending lease")
        verbose_name_plural = _("sending leases")

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}"


class OptOut(BaseModel):
    """A person declined messages for one purpose, or all (``*``).

    Legally required notices and messages the person asked for are still sent.
    """

    person = models.ForeignKey("core.Person", on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(
        _("purpose"), max_length=60, help_text=_("A purpose, or * for every purpose.")
    )
    since = models.DateTimeField(_("since"))

    class Meta:
        verbose_name = _("opt-out")
        verbose_name_plural = _("opt-outs")
        constraints = [
            models.UniqueConstraint(fields=["person", "purpose"], name="notify_optout_unique")
        ]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.purpose}"
