"""Headquarters (防控指挥部): tasks with deadlines, their escalation chain and
assignment rules (data), the units' responsible officers.

Tasks go to a unit (a jurisdiction node) and, when the assignment rules find one,
to a person of it. A task still open after its deadline climbs the escalation
chain of its priority (``EscalationStep`` rows, versioned by ``effective_from``):
each step names the level of the jurisdiction tree above the unit that now sees
it as escalated to them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.models import BaseModel, Jurisdiction, in_language


class Priority(models.TextChoices):
    LOW = "low", pgettext_lazy("priority", "Low")
    NORMAL = "normal", pgettext_lazy("priority", "Normal")
    HIGH = "high", pgettext_lazy("priority", "High")
    URGENT = "urgent", pgettext_lazy("priority", "Urgent")


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class TaskKind(models.TextChoices):
    GENERAL = "general", _("Task")
    RECTIFICATION = "rectification", _("Rectification")
    INSPECTION = "inspection", _("Supervision inspection")


class EscalationStep(BaseModel):
    """One step of the escalation chain of a priority (data): a task still open
    ``hours_overdue`` hours after its deadline is escalated to the unit's ancestor
    at ``to_level``. Tasks follow the version in force when they were created."""

    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices)
    step = models.PositiveSmallIntegerField(_("step"))
    hours_overdue = models.PositiveIntegerField(_("hours after the deadline"))
    to_level = models.CharField(
        _("escalated to the level"), max_length=16, choices=Jurisdiction.Level.choices
    )
    effective_from = models.DateField(_("effective from"))

    class Meta:
        ordering = ["priority", "effective_from", "step"]
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation chain")
        constraints = [
            models.UniqueConstraint(
                fields=["priority", "step", "effective_from"], name="hq_escalation_step_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_priority_display()} {self.step}"


class AssignmentRule(BaseModel):
    """Who may be given a task of a kind (data): the capability the assignee needs.
    Automatic assignment takes the unit's responsible officer when they hold it,
    then the officer of the unit's district holding it with the fewest open tasks."""

    kind = models.CharField(_("kind of task"), max_length=20, choices=TaskKind.choices)
    capability = models.CharField(_("capability needed"), max_length=60)
    effective_from = models.DateField(_("effective from"))

    class Meta:
        ordering = ["kind", "-effective_from"]
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        constraints = [
            models.UniqueConstraint(fields=["kind", "effective_from"], name="hq_assign_rule_unique")
        ]

    def __str__(self) -> str:
        return str(self.get_kind_display())


class Responsible(BaseModel):
    """The responsible officer of a unit (责任人): first in line for its tasks."""

    unit = models.OneToOneField(
        Jurisdiction, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("officer"),
    )
    scope_path = models.CharField(max_length=64, db_index=True)

    class Meta:
        verbose_name = _("responsible officer")
        verbose_name_plural = _("responsible officers")


class Task(BaseModel):
    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("task", "Open")
        DONE = "done", pgettext_lazy("task", "Done")
        CANCELLED = "cancelled", pgettext_lazy("task", "Cancelled")

    class Assigned(models.TextChoices):
        MANUAL = "manual", _("Chosen by the person who gave the task")
        RESPONSIBLE = "responsible", _("The unit's responsible officer")
        DISTRICT = "district", _("An officer of the district with the right")
        NONE = "none", _("Nobody yet: waiting in the unit's queue")

    kind = models.CharField(
        _("kind"), max_length=20, choices=TaskKind.choices, default=TaskKind.GENERAL
    )
    title = models.CharField(_("title"), max_length=200)
    details = models.TextField(_("details"), blank=True)
    unit = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit")
    )
    scope_path = models.CharField(max_length=64)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    assigned_how = models.CharField(
        _("how it was assigned"), max_length=12, choices=Assigned.choices, default=Assigned.NONE
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    deadline = models.DateTimeField(_("deadline"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    rules_date = models.DateField(_("rules in force on"))
    escalation_step = models.PositiveSmallIntegerField(_("escalation step"), default=0)
    escalated_to = models.ForeignKey(
        Jurisdiction,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("escalated to"),
    )
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("given by"),
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_note = models.TextField(_("note on completion"), blank=True)
    # What the task comes from (an inspection finding ...), for idempotent creation.
    source_key = models.CharField(max_length=80, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["deadline", "pk"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["state", "deadline"], name="hq_task_state_deadline"),
            models.Index(fields=["scope_path", "state"], name="hq_task_scope_state"),
            models.Index(fields=["assignee", "state"], name="hq_task_assignee_state"),
            models.Index(fields=["unit", "state"], name="hq_task_unit_state"),
            models.Index(fields=["escalated_to", "state"], name="hq_task_escalated_state"),
        ]

    def __str__(self) -> str:
        return self.title


class CaseDayFigure(models.Model):
    """Cached dashboard cell: confirmed or asymptomatic cases reported on ``day`` in
    one district (``area_path``: the district's path; a shorter path holds the cases
    registered above the districts). Refreshed cell by cell from investigation's
    facts (idempotent: a cell is recounted, never incremented), rebuilt nightly."""

    day = models.DateField()
    area_path = models.CharField(max_length=64)
    classification = models.CharField(max_length=16)
    n = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["area_path", "day", "classification"], name="hq_case_day_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.area_path} {self.day} {self.classification}: {self.n}"


# The daily report's models live in their own module (registered here).
from fangkong.headquarters.report_models import (  # noqa: E402
    DailyReport as DailyReport,
)
from fangkong.headquarters.report_models import (  # noqa: E402
    ReportRecipient as ReportRecipient,
)
from fangkong.headquarters.report_models import (  # noqa: E402
    ReportSchedule as ReportSchedule,
)

# --- Supervision inspections (督导检查) and accountability (追责问责) ---------------


class Checklist(BaseModel):
    """A checklist of a kind of inspection (data, versioned: a new version is a new
    row with a later ``effective_from``; a plan keeps the version it was made with)."""

    code = models.CharField(_("code"), max_length=40)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    effective_from = models.DateField(_("effective from"))

    class Meta:
        ordering = ["code", "-effective_from"]
        verbose_name = _("inspection checklist")
        verbose_name_plural = _("inspection checklists")
        constraints = [
            models.UniqueConstraint(
                fields=["code", "effective_from"], name="hq_checklist_version_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return in_language(self.name_zh, self.name_en)


class ChecklistItem(BaseModel):
    checklist = models.ForeignKey(
        Checklist, on_delete=models.CASCADE, related_name="items", verbose_name=_("checklist")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    text_zh = models.CharField(_("item (Chinese)"), max_length=300)
    text_en = models.CharField(_("item (English)"), max_length=300)

    class Meta:
        ordering = ["checklist", "position"]
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        constraints = [
            models.UniqueConstraint(
                fields=["checklist", "position"], name="hq_checklist_item_unique"
            )
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        return in_language(self.text_zh, self.text_en)


class InspectionPlan(BaseModel):
    class State(models.TextChoices):
        PLANNED = "planned", pgettext_lazy("inspection", "Planned")
        UNDERWAY = "underway", pgettext_lazy("inspection", "Under way")
        CLOSED = "closed", pgettext_lazy("inspection", "Closed")

    title = models.CharField(_("title"), max_length=200)
    area = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    scope_path = models.CharField(max_length=64)
    checklist = models.ForeignKey(
        Checklist, on_delete=models.PROTECT, related_name="+", verbose_name=_("checklist")
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("inspector"),
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PLANNED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("planned by"),
    )
    # The task that told the inspector to go (shows in their "my work").
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-starts_on", "-pk"]
        verbose_name = _("inspection plan")
        verbose_name_plural = _("inspection plans")
        indexes = [models.Index(fields=["scope_path", "state"], name="hq_inspplan_scope")]

    def __str__(self) -> str:
        return self.title


class InspectionVisit(BaseModel):
    plan = models.ForeignKey(
        InspectionPlan, on_delete=models.PROTECT, related_name="visits", verbose_name=_("plan")
    )
    unit = models.ForeignKey(
        Jurisdiction,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("unit inspected"),
    )
    scope_path = models.CharField(max_length=64)
    place = models.CharField(_("place"), max_length=200)
    visited_at = models.DateTimeField(_("visited at"))
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("inspector"),
    )
    summary = models.TextField(_("summary"), blank=True)

    class Meta:
        ordering = ["-visited_at", "-pk"]
        verbose_name = _("inspection visit")
        verbose_name_plural = _("inspection visits")
        indexes = [models.Index(fields=["scope_path", "visited_at"], name="hq_inspvisit_scope")]

    def __str__(self) -> str:
        return self.place


class Finding(BaseModel):
    class Result(models.TextChoices):
        PASSED = "passed", _("Meets the requirement")
        FAILED = "failed", _("Does not meet the requirement")
        NOT_APPLICABLE = "na", _("Does not apply here")

    class State(models.TextChoices):
        NONE = "none", _("Nothing to rectify")
        OPEN = "open", _("Being rectified")
        RECTIFIED = "rectified", _("Rectified (re-inspected)")

    visit = models.ForeignKey(
        InspectionVisit, on_delete=models.CASCADE, related_name="findings", verbose_name=_("visit")
    )
    item = models.ForeignKey(
        ChecklistItem, on_delete=models.PROTECT, related_name="+", verbose_name=_("item")
    )
    scope_path = models.CharField(max_length=64)
    result = models.CharField(_("result"), max_length=8, choices=Result.choices)
    note = models.TextField(_("what was found"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.NONE)
    rectification = models.ForeignKey(
        Task,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("rectification task"),
    )
    reinspected_at = models.DateTimeField(_("re-inspected at"), null=True, blank=True)
    reinspected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("re-inspected by"),
    )
    reinspection_note = models.TextField(_("re-inspection note"), blank=True)

    class Meta:
        ordering = ["visit", "item__position", "pk"]
        verbose_name = _("finding")
        verbose_name_plural = pgettext_lazy("inspection", "findings")
        constraints = [
            models.UniqueConstraint(fields=["visit", "item"], name="hq_finding_item_unique")
        ]
        indexes = [models.Index(fields=["scope_path", "state"], name="hq_finding_scope_state")]

    def __str__(self) -> str:
        return f"{self.visit_id} {self.item_id}"


class FindingPhoto(BaseModel):
    """A photo of a finding, re-encoded as JPEG on upload (which also drops the
    camera's location and other metadata)."""

    finding = models.ForeignKey(
        Finding, on_delete=models.CASCADE, related_name="photos", verbose_name=_("finding")
    )
    data = models.BinaryField(editable=False)
    content_type = models.CharField(max_length=40, default="image/jpeg")
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["finding", "pk"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self) -> str:
        return f"{self.finding_id} #{self.pk}"


class Accountability(BaseModel):
    """An accountability record (追责问责): a failure, the party responsible for it
    (属地/部门/单位/个人), the measure proposed and — decided by a second person —
    the decision and its document number."""

    class Failure(models.TextChoices):
        OVERDUE_RETEST = "overdue_retest", _("Overdue single-tube retest")
        BREACH = "breach", _("Breach of the closed loop")
        LOST_CONTACT = "lost_contact", _("Contact lost to follow-up")
        OVERDUE_TASK = "overdue_task", _("Task past its deadline")
        FINDING = "finding", _("Inspection finding")

    class Party(models.TextChoices):
        TERRITORIAL = "territorial", _("Territorial authority")
        DEPARTMENT = "department", _("Department")
        UNIT = "unit", pgettext_lazy("accountable party", "Unit")
        INDIVIDUAL = "individual", _("Individual")

    class Measure(models.TextChoices):
        REMINDER = "reminder", _("Reminder and education")
        TALK = "talk", _("Admonition talk")
        CRITICISM = "criticism", _("Circulated criticism")
        WARNING = "warning", _("Disciplinary warning")
        DEMERIT = "demerit", _("Demerit")
        REMOVAL = "removal", _("Removal from post")

    class State(models.TextChoices):
        PROPOSED = "proposed", pgettext_lazy("accountability", "Proposed")
        DECIDED = "decided", pgettext_lazy("accountability", "Decided")
        REJECTED = "rejected", pgettext_lazy("accountability", "Not pursued")

    failure_kind = models.CharField(_("failure"), max_length=20, choices=Failure.choices)
    failure_id = models.BigIntegerField(_("failure record"))
    failure_text = models.CharField(_("what failed"), max_length=400)
    failure_at = models.DateTimeField(_("failed since"), null=True, blank=True)
    unit = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    scope_path = models.CharField(max_length=64)
    party_kind = models.CharField(_("responsible party"), max_length=12, choices=Party.choices)
    party_name = models.CharField(_("who is responsible"), max_length=200)
    measure = models.CharField(_("measure"), max_length=12, choices=Measure.choices)
    grounds = models.TextField(_("grounds"))
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PROPOSED
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision = models.TextField(_("decision"), blank=True)
    document_number = models.CharField(
        pgettext_lazy("official document", "document number"), max_length=80, blank=True
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("accountability record")
        verbose_name_plural = _("accountability records")
        indexes = [models.Index(fields=["scope_path", "state"], name="hq_account_scope_state")]

    def __str__(self) -> str:
        return f"{self.get_failure_kind_display()} · {self.party_name}"


# --- Task forces (工作专班), duty roster (在岗值守), handovers ---------------------


class TaskForce(BaseModel):
    class Kind(models.TextChoices):
        INVESTIGATION = "investigation", _("Epidemiological investigation")
        ZONES = "zones", _("Zoned control")
        SCREENING = "screening", _("Mass screening")
        ENTRY = "entry", _("Entry control")
        RESERVES = "reserves", _("Quarantine reserves")
        SUPPLIES = "supplies", _("Supplies")
        PUBLICITY = "publicity", _("Publicity")
        MEDICAL = "medical", _("Medical treatment")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("workstream"), max_length=16, choices=Kind.choices)
    area = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    scope_path = models.CharField(max_length=64)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("leader"),
    )
    remit = models.TextField(_("remit"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["scope_path", "kind", "name"]
        verbose_name = _("task force")
        verbose_name_plural = _("task forces")
        indexes = [models.Index(fields=["scope_path", "active"], name="hq_taskforce_scope")]

    def __str__(self) -> str:
        return self.name


class TaskForceMember(BaseModel):
    task_force = models.ForeignKey(
        TaskForce, on_delete=models.CASCADE, related_name="members", verbose_name=_("task force")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("member"),
    )
    duty = models.CharField(_("duty in the task force"), max_length=120, blank=True)

    class Meta:
        ordering = ["task_force", "pk"]
        verbose_name = _("task force member")
        verbose_name_plural = _("task force members")
        constraints = [
            models.UniqueConstraint(fields=["task_force", "user"], name="hq_tf_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.task_force_id} {self.user_id}"


class DutyShift(BaseModel):
    """One person on duty for an area from ``starts_at`` to ``ends_at``."""

    class Role(models.TextChoices):
        LEADER = "leader", _("Leader on duty")
        OFFICER = "officer", _("Duty officer")

    area = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    scope_path = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("on duty"),
    )
    role = models.CharField(
        pgettext_lazy("post on a team", "role"),
        max_length=10,
        choices=Role.choices,
        default=Role.OFFICER,
    )
    task_force = models.ForeignKey(
        TaskForce,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="shifts",
        verbose_name=_("task force"),
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("duty shift")
        verbose_name_plural = _("duty roster")
        indexes = [
            models.Index(fields=["scope_path", "starts_at"], name="hq_shift_scope_start"),
            models.Index(fields=["user", "starts_at"], name="hq_shift_user_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="hq_shift_ends_after"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.starts_at}"


class Handover(BaseModel):
    """A handover note (交接班) from the shift going off duty to the next."""

    area = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    scope_path = models.CharField(max_length=64)
    shift = models.ForeignKey(
        DutyShift, null=True, blank=True, on_delete=models.SET_NULL, related_name="handovers"
    )
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("written by"),
    )
    text = models.TextField(_("what the next shift must know"))
    open_items = models.TextField(_("open items"), blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("received by"),
    )
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("handover note")
        verbose_name_plural = _("handover notes")
        indexes = [models.Index(fields=["scope_path", "created_at"], name="hq_handover_scope")]

    def __str__(self) -> str:
        return f"{self.area_id} {self.created_at}"


# --- Frontline staff care (轮换机制) ---------------------------------------------


class RotationRule(BaseModel):
    """Rotation rule of frontline staff (data, versioned by ``effective_from``)."""

    max_consecutive_days = models.PositiveSmallIntegerField(_("most consecutive duty days"))
    min_rest_hours = models.PositiveSmallIntegerField(_("least rest between shifts (hours)"))
    max_week_hours = models.PositiveSmallIntegerField(_("most duty hours in seven days"))
    rest_days_after = models.PositiveSmallIntegerField(_("rest days after a rotation"))
    effective_from = models.DateField(_("effective from"), unique=True)

    class Meta:
        ordering = ["-effective_from"]
        verbose_name = _("rotation rule")
        verbose_name_plural = _("rotation rules")

    def __str__(self) -> str:
        return str(self.effective_from)


class RotationPlan(BaseModel):
    """A person rotated off duty to rest, with who stands in."""

    class State(models.TextChoices):
        PLANNED = "planned", pgettext_lazy("rotation", "Planned")
        DONE = "done", pgettext_lazy("rotation", "Rested")
        CANCELLED = "cancelled", pgettext_lazy("rotation", "Cancelled")

    area = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    scope_path = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("rotated off"),
    )
    replacement = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("stands in"),
    )
    rest_from = models.DateField(_("rest from"))
    rest_until = models.DateField(_("rest until"))
    reason = models.TextField(_("reason"), blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PLANNED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-rest_from", "-pk"]
        verbose_name = _("rotation plan")
        verbose_name_plural = _("rotation plans")
        indexes = [models.Index(fields=["scope_path", "rest_from"], name="hq_rotation_scope")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.rest_from}"


class Recognition(BaseModel):
    class Kind(models.TextChoices):
        COMMENDATION = "commendation", _("Commendation")
        CITATION = "citation", _("Circulated citation")
        AWARD = "award", _("Award")
        CARE = "care", _("Care visit")

    area = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    scope_path = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recognised"),
    )
    kind = models.CharField(_("kind"), max_length=14, choices=Kind.choices)
    citation = models.TextField(_("for what"))
    awarded_on = models.DateField(_("on"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-awarded_on", "-pk"]
        verbose_name = _("recognition")
        verbose_name_plural = _("recognitions")
        indexes = [models.Index(fields=["scope_path", "awarded_on"], name="hq_recog_scope")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"
