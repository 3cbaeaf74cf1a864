"""Mass screening (核酸筛查): rounds, sites, teams, labs, tubes, custody, results, tasks.

Rules are data: pooling options, standing schedules, SLA rules and escalation
steps are rows seeded by a data migration and editable by authorised staff.
Every record that concerns an area carries ``scope_path`` (the tree path it lives
under), so "everything under this node" is one range scan.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.models import BaseModel, Jurisdiction, KeyGroup, Person

# --- Rules as data -------------------------------------------------------------


class PoolingOption(BaseModel):
    """A pooling ratio a round may use (1, 5, 10, 20 in the 2022 guidance)."""

    ratio = models.PositiveSmallIntegerField(_("people per tube"), unique=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["ratio"]
        verbose_name = _("pooling option")
        verbose_name_plural = _("pooling options")

    def __str__(self) -> str:
        return f"{self.ratio}:1"


class Schedule(BaseModel):
    """A standing screening schedule for a key group (cold-chain workers daily...)."""

    key_group = models.OneToOneField(
        KeyGroup, on_delete=models.PROTECT, related_name="screening_schedule"
    )
    interval_days = models.PositiveSmallIntegerField(_("every (days)"))
    remind_hours_before_overdue = models.PositiveSmallIntegerField(
        _("grace after reminder (hours)"), default=12
    )
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("standing schedule")
        verbose_name_plural = _("standing schedules")

    def __str__(self) -> str:
        return f"{self.key_group_id}/{self.interval_days}d"


class ScheduleState(BaseModel):
    """One person's position on a standing schedule."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="states")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    last_sampled_at = models.DateTimeField(null=True, blank=True)
    next_due = models.DateTimeField(_("next due"))
    reminded_at = models.DateTimeField(null=True, blank=True)
    overdue_since = models.DateTimeField(null=True, blank=True)
    scope_path = models.CharField(max_length=64, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["schedule", "person"], name="screening_sched_person")
        ]
        indexes = [models.Index(fields=["next_due"], name="screening_sched_due")]


class SlaRule(BaseModel):
    """How long a tube may take from one custody stage to the next (data)."""

    from_stage = models.CharField(max_length=16)
    to_stage = models.CharField(max_length=16)
    hours = models.DecimalField(max_digits=6, decimal_places=2)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["hours"]
        verbose_name = _("SLA rule")
        verbose_name_plural = _("SLA rules")

    def __str__(self) -> str:
        return f"{self.from_stage}→{self.to_stage} {self.hours}h"


class EscalationStep(BaseModel):
    """A retest task still open this many hours after it was created escalates."""

    class Action(models.TextChoices):
        SMS = "sms", _("SMS to the person")
        GRID_WORKER = "grid_worker", _("Hand to the grid worker")
        CDC = "cdc", _("Report to the CDC")

    order = models.PositiveSmallIntegerField(unique=True)
    after_hours = models.PositiveSmallIntegerField()
    action = models.CharField(max_length=16, choices=Action.choices)

    class Meta:
        ordering = ["order"]
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation steps")


# --- Places, teams, labs ---------------------------------------------------------


class Lab(BaseModel):
    name = models.CharField(_("name"), max_length=200)
    code = models.SlugField(max_length=40, unique=True)
    capacity_per_day = models.PositiveIntegerField(_("tubes per day"))
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    scope_path = models.CharField(max_length=64, default="")
    staff = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("lab")
        verbose_name_plural = _("labs")

    def __str__(self) -> str:
        return self.name


class Team(BaseModel):
    """A sampling team covering an area; door-to-door teams visit the limited-mobility."""

    name = models.CharField(_("name"), max_length=200)
    area = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    scope_path = models.CharField(max_length=64, default="")
    door_to_door = models.BooleanField(_("door-to-door"), default=False)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("sampling team")
        verbose_name_plural = _("sampling teams")

    def __str__(self) -> str:
        return self.name


class Site(BaseModel):
    class Queue(models.TextChoices):
        SHORT = "short", _("Short wait")
        MEDIUM = "medium", _("Some wait")
        LONG = "long", _("Long wait")
        CLOSED = "closed", _("Closed")

    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    scope_path = models.CharField(max_length=64, default="")
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))
    hours_text = models.CharField(_("opening hours"), max_length=200, blank=True)
    lanes = models.PositiveSmallIntegerField(_("lanes"), default=1)
    queue_state = models.CharField(max_length=8, choices=Queue.choices, default=Queue.SHORT)
    queue_updated_at = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("sampling site")
        verbose_name_plural = _("sampling sites")
        indexes = [models.Index(fields=["scope_path"], name="screening_site_scope")]

    def __str__(self) -> str:
        return self.name


# --- Rounds ----------------------------------------------------------------------


class Round(BaseModel):
    class Target(models.TextChoices):
        ALL = "all", _("All residents")
        KEY_GROUPS = "key_groups", _("Key groups")
        # A standing round per district for the arrival tests (落地检) taken at entry
        # checkpoints: its target is the people sampled into it (entry's arrivals),
        # so it has no untested residents and no coverage to chase.
        ARRIVALS = "arrivals", _("Arrivals (arrival tests at checkpoints)")

    class State(models.TextChoices):
        PLANNED = "planned", _("Planned")
        OPEN = "open", pgettext_lazy("screening round", "Open")
        CLOSED = "closed", _("Closed")

    name = models.CharField(_("name"), max_length=200)
    areas = models.ManyToManyField(Jurisdiction, related_name="+", verbose_name=_("area"))
    scope_path = models.CharField(max_length=64, default="")
    target = models.CharField(max_length=16, choices=Target.choices, default=Target.ALL)
    key_groups = models.ManyToManyField(KeyGroup, blank=True, related_name="+")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    pooling_ratio = models.PositiveSmallIntegerField(_("maximum people per tube"))
    labs = models.ManyToManyField(Lab, blank=True, related_name="rounds")
    disease_code = models.CharField(max_length=40, default="covid19")
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("screening round")
        verbose_name_plural = _("screening rounds")

    def __str__(self) -> str:
        return self.name


class Exclusion(BaseModel):
    """A person of the round's target who is not expected to be sampled, with why."""

    class Reason(models.TextChoices):
        AWAY = "away", _("Away")
        HOSPITAL = "hospital", _("In hospital")
        QUARANTINE = "quarantine", _("Already in quarantine")
        EXEMPT = "exempt", _("Exempt")

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="exclusions")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    note = models.CharField(max_length=300, blank=True)
    person_scope_path = models.CharField(max_length=64, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "person"], name="screening_excl_once")
        ]
        indexes = [models.Index(fields=["round", "person_scope_path"], name="screening_excl_scope")]


# --- Tubes, boxes, custody -------------------------------------------------------


class Box(BaseModel):
    barcode = models.CharField(max_length=64, unique=True)
    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="boxes")
    lab = models.ForeignKey(Lab, null=True, blank=True, on_delete=models.PROTECT)
    scope_path = models.CharField(max_length=64, default="")
    sealed_at = models.DateTimeField(null=True, blank=True)
    handed_over_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sample box")
        verbose_name_plural = _("sample boxes")

    def __str__(self) -> str:
        return self.barcode


class Tube(BaseModel):
    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("in progress", "Open")
        CLOSED = "closed", _("Closed")
        HANDED_OVER = "handed_over", _("Handed over")
        RECEIVED = "received", _("Received at lab")
        TESTING = "testing", _("Testing")
        REPORTED = "reported", pgettext_lazy("state of a tube", "Reported")

    class Result(models.TextChoices):
        NEGATIVE = "negative", _("Negative")
        POSITIVE = "positive", _("Positive")
        INVALID = "invalid", _("Invalid (resample)")

    barcode = models.CharField(max_length=64)
    # round and lab: found through the (round, state) and (lab, reported_at) indexes.
    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="tubes", db_index=False)
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT)
    box = models.ForeignKey(
        Box, null=True, blank=True, on_delete=models.PROTECT, related_name="tubes"
    )
    lab = models.ForeignKey(
        Lab, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    capacity = models.PositiveSmallIntegerField()
    member_count = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    scope_path = models.CharField(max_length=64, default="")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=8, choices=Result.choices, blank=True, default="")
    reported_at = models.DateTimeField(null=True, blank=True)
    retest = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("tube")
        verbose_name_plural = _("tubes")
        # Barcodes are looked up whole, never by prefix: the unique index alone (a
        # unique=True field would add a varchar_pattern_ops copy on PostgreSQL, one
        # more index written by every tube insert and result update).
        constraints = [
            models.UniqueConstraint(fields=["barcode"], name="screening_tube_barcode_key")
        ]
        indexes = [
            models.Index(fields=["round", "state"], name="screening_tube_state"),
            models.Index(fields=["lab", "reported_at"], name="screening_tube_lab"),
            # The results of a small area's tubes (coverage): most tubes are negative
            # once reported, so the few others are kept here with their result and the
            # rest are negative. Read from the index alone, 20 MB for 500,000 tubes at
            # most, without the tube rows (5,000 heap pages for one community cold);
            # a negative result leaves the index (nothing written for it).
            models.Index(
                fields=["id"],
                include=["result"],
                condition=~Q(result="negative"),
                name="screening_tube_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.barcode


class TubeMember(models.Model):
    """One person sampled into one tube (the person-to-tube link)."""

    # Each key is the first column of a composite index below (one index less to
    # keep up per link: 5,000,000 links a round).
    tube = models.ForeignKey(Tube, on_delete=models.PROTECT, related_name="members", db_index=False)
    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="+", db_index=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+", db_index=False)
    # The person's tree path when sampled: coverage groups on it without a join.
    person_scope_path = models.CharField(max_length=64, default="")
    sampled_at = models.DateTimeField()
    sampled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    # The person had already been sampled in this round when this link was made:
    # coverage counts people once without COUNT(DISTINCT) over the whole round.
    repeat = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tube", "person"], name="screening_member_once"),
            # One first link per person and round, whatever scans race: coverage
            # counts the first links, so a person scanned into two tubes at the same
            # instant is counted once (the later scan waits, then is a repeat).
            models.UniqueConstraint(
                fields=["round", "person"],
                condition=Q(repeat=False),
                name="screening_member_first",
            ),
        ]
        indexes = [
            # Coverage's ranges; repeat and tube in it too, so counting the first
            # links per tube reads the index alone (SQLite: no row per link).
            models.Index(
                fields=["round", "person_scope_path", "repeat", "tube"],
                name="screening_member_cover",
            ),
            models.Index(fields=["person", "sampled_at"], name="screening_member_person"),
            # The few links of people sampled again, for the coverage's correction.
            models.Index(
                fields=["round", "person_scope_path"],
                condition=Q(repeat=True),
                name="screening_member_repeat",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tube_id}/{self.person_id}"


class CustodyQuerySet(models.QuerySet["CustodyEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise RuntimeError("Custody events are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise RuntimeError("Custody events are append-only.")


class CustodyEvent(models.Model):
    """One link of the chain of custody (采 → 送 → 检 → 报). Append-only."""

    class Stage(models.TextChoices):
        COLLECTED = "collected", _("Collected")
        HANDED_OVER = "handed_over", _("Handed over to transport")
        RECEIVED = "received", _("Received at lab")
        TEST_STARTED = "test_started", _("Test started")
        REPORTED = "reported", _("Result reported")

    tube = models.ForeignKey(  # found through the (tube, stage) index
        Tube,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="custody",
        db_index=False,
    )
    box = models.ForeignKey(
        Box, null=True, blank=True, on_delete=models.PROTECT, related_name="custody"
    )
    stage = models.CharField(max_length=16, choices=Stage.choices)
    time = models.DateTimeField(default=timezone.now)
    place = models.CharField(max_length=200, blank=True)
    lab = models.ForeignKey(Lab, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = CustodyQuerySet.as_manager()

    class Meta:
        ordering = ["time", "id"]
        indexes = [models.Index(fields=["tube", "stage"], name="screening_custody_tube")]

    def __str__(self) -> str:
        return f"{self.stage} {self.time:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("Custody events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("Custody events are append-only.")


class ResultReport(BaseModel):
    """A result as a lab reported it. Applied to the tube, or held for review."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        DUPLICATE = "duplicate", _("Same as the applied result")
        CONFLICT = "conflict", _("Conflicts with the applied result")
        HELD_UNKNOWN = "held_unknown", _("Held: unknown tube")
        HELD_NOT_RECEIVED = "held_not_received", _("Held: tube not received by this lab")
        RESOLVED = "resolved", _("Reviewed")

    tube_barcode = models.CharField(max_length=64)
    tube = models.ForeignKey(
        Tube, null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )
    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="reports")
    result = models.CharField(max_length=8, choices=Tube.Result.choices)
    ct_values = models.JSONField(default=dict, blank=True)
    reported_at = models.DateTimeField()
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices)
    scope_path = models.CharField(max_length=64, default="")

    class Meta:
        verbose_name = _("result report")
        verbose_name_plural = _("result reports")
        indexes = [
            models.Index(fields=["status", "lab"], name="screening_report_status"),
            # Whole barcodes only (no pattern index, as for the tube's).
            models.Index(fields=["tube_barcode"], name="screening_report_barcode"),
        ]


class Task(BaseModel):
    """Retest (单采单检), resample or door-to-door sampling for one person."""

    class Kind(models.TextChoices):
        RETEST = "retest", _("Single-tube retest")
        RESAMPLE = "resample", _("Resample (invalid result)")
        DOOR_TO_DOOR = "door_to_door", _("Door-to-door sampling")

    class Priority(models.IntegerChoices):
        NORMAL = 1, _("Normal")
        HIGH = 2, _("High")

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("in progress", "Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="tasks")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    source_tube = models.ForeignKey(
        Tube, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    due_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    scope_path = models.CharField(max_length=64, default="")

    class Meta:
        ordering = ["-priority", "created_at", "id"]
        verbose_name = _("screening task")
        verbose_name_plural = _("screening tasks")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "person", "source_tube"],
                condition=models.Q(state="open"),
                name="screening_task_open_once",
            )
        ]
        indexes = [models.Index(fields=["state", "scope_path"], name="screening_task_scope")]


class BuildingFlag(BaseModel):
    """A building with a member of a positive pool (shown on the command dashboard)."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="+")
    building = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    tube = models.ForeignKey(Tube, on_delete=models.PROTECT, related_name="+")
    scope_path = models.CharField(max_length=64, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["round", "building", "tube"], name="screening_flag_once"
            )
        ]
