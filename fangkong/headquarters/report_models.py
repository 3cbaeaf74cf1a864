"""The daily report (日报): when it is made for an area and by whose authority
(data), who receives it, and the archive of every report made.

A report is stored as its content in both languages (``content``: sections of
figures, a chart, tables), written once when it is made: its HTML, PDF and XLSX
are rendered from that snapshot, so an archived report reads the same later.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import BaseModel, Jurisdiction


class ReportSchedule(BaseModel):
    """The daily report of an area: made every morning at ``at`` (local time), in
    the name and within the area of ``issued_by`` (a command-centre officer)."""

    area = models.OneToOneField(
        Jurisdiction, verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.TimeField(_("made every day at"), default=dt.time(7, 0))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued in the name of"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["area__path"]
        verbose_name = _("daily report schedule")
        verbose_name_plural = _("daily report schedules")

    def __str__(self) -> str:
        return f"{self.area} {self.at:%H:%M}"


class ReportRecipient(BaseModel):
    """One person of a report's distribution list (sent through notify, in the
    person's language)."""

    schedule = models.ForeignKey(
        ReportSchedule, on_delete=models.CASCADE, related_name="recipients"
    )
    person = models.ForeignKey("core.Person", on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("daily report recipient")
        verbose_name_plural = _("daily report distribution list")
        constraints = [
            models.UniqueConstraint(fields=["schedule", "person"], name="hq_report_recipient_once")
        ]

    def __str__(self) -> str:
        return f"{self.schedule_id}:{self.person_id}"


class DailyReport(BaseModel):
    """One report made (by the morning job or on demand), archived."""

    area = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    scope_path = models.CharField(max_length=64, db_index=True, editable=False)
    day = models.DateField(_("report date"))
    scheduled = models.BooleanField(_("made by the morning job"), default=False)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    content = models.JSONField(default=dict)  # {"zh-hans": {...}, "en": {...}}
    sent_to = models.PositiveIntegerField(_("sent to"), default=0)

    class Meta:
        ordering = ["-day", "-created_at", "-id"]
        verbose_name = _("daily report")
        verbose_name_plural = _("daily reports")
        constraints = [
            models.UniqueConstraint(
                fields=["area", "day"],
                condition=models.Q(scheduled=True),
                name="hq_report_one_scheduled_a_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.area_id} {self.day}"
