"""Epidemiological investigation (流调): diseases and their rules, cases, venues and
check-ins, trajectories, co-presence matches, contacts, follow-up, clusters."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.models import BaseModel, BilingualName

# --- Diseases and rules as data ------------------------------------------------


class Disease(BilingualName, BaseModel):
    code = models.SlugField(max_length=40, unique=True)
    icd10 = models.CharField(_("ICD-10 code"), max_length=16, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("disease")
        verbose_name_plural = _("diseases")

    def __str__(self) -> str:
        return self.name


class DiseaseRules(BaseModel):
    """One version of a disease's parameters. Versions are never edited once used:
    a change is a new version with a later ``effective_from``; every decision
    (case, contact, match) records the version it used."""

    disease = models.ForeignKey(Disease, on_delete=models.PROTECT, related_name="rule_versions")
    version = models.PositiveIntegerField()
    effective_from = models.DateField(_("effective from"))
    source_document = models.CharField(_("source document"), max_length=300, blank=True)
    infectious_days_before_onset = models.PositiveSmallIntegerField(
        _("infectious days before onset"), default=2
    )
    infectious_days_before_sample = models.PositiveSmallIntegerField(
        _("infectious days before first positive sample (asymptomatic)"), default=2
    )
    copresence_buffer_minutes = models.PositiveSmallIntegerField(
        _("co-presence buffer (minutes)"), default=30
    )
    assumed_stay_minutes = models.PositiveSmallIntegerField(
        _("assumed stay after a check-in without check-out (minutes)"), default=30
    )
    transport_seat_rows = models.PositiveSmallIntegerField(
        _("rows around a case's seat that count as exposed"), default=3
    )
    close_contact_monitoring_days = models.PositiveSmallIntegerField(
        _("monitoring days for close contacts"), default=7
    )
    secondary_contact_monitoring_days = models.PositiveSmallIntegerField(
        _("monitoring days for secondary contacts"), default=7
    )
    venue_exposed_monitoring_days = models.PositiveSmallIntegerField(
        _("monitoring days for venue-exposed people"), default=7
    )
    followups_per_day = models.PositiveSmallIntegerField(_("follow-ups per day"), default=1)
    classifications = models.JSONField(
        _("case classifications"),
        default=list,
        help_text=_(
            "Codes allowed for this disease, e.g. suspected, confirmed, asymptomatic, excluded."
        ),
    )
    checkin_retention_days = models.PositiveSmallIntegerField(
        _("check-in retention (days)"), default=28
    )

    class Meta:
        ordering = ["disease", "-effective_from", "-version"]
        verbose_name = _("disease rules")
        verbose_name_plural = _("disease rules")
        constraints = [
            models.UniqueConstraint(fields=["disease", "version"], name="inv_rules_unique_version")
        ]

    def __str__(self) -> str:
        return f"{self.disease} v{self.version} ({self.effective_from})"


# --- Venues and check-ins ------------------------------------------------------


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


class VenueCode(BaseModel):
    """A printed venue code (场所码). The QR payload is signed by the server with
    the HMAC key of ``key_version``; revoking a code refuses its scans from then on."""

    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="codes")
    serial = models.PositiveIntegerField()
    key_version = models.PositiveSmallIntegerField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("venue code")
        verbose_name_plural = _("venue codes")
        constraints = [
            models.UniqueConstraint(fields=["venue", "serial"], name="inv_venuecode_unique_serial")
        ]

    def __str__(self) -> str:
        return f"{self.venue_id}#{self.serial}"


class CheckIn(models.Model):
    """One visit of a person to a venue. Repeated scans within the dedup window
    (10 minutes) widen the visit instead of adding rows: the earliest check-in
    (``time``), the latest scan (``last_scan_at``), the latest check-out
    (``left_at``; a visit scanned again after it goes on from its last scan).
    Deliberately slim (no BaseModel): there are tens of millions of these."""

    class Source(models.TextChoices):
        SCAN = "scan", _("Self scan")
        STAFF = "staff", _("Staff-assisted scan")
        DEPENDANT = "dependant", _("Checked in by a family member")
        IMPORT = "import", _("Imported log")

    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey("core.Person", on_delete=models.CASCADE, related_name="+")
    time = models.DateTimeField()
    last_scan_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.SCAN)
    external_ref = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        indexes = [
            models.Index(fields=["venue", "time"], name="inv_checkin_venue_time"),
            models.Index(fields=["person", "time"], name="inv_checkin_person_time"),
            models.Index(fields=["time"], name="inv_checkin_time"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}@{self.venue_id} {self.time:%Y-%m-%d %H:%M}"


class TravelRecord(models.Model):
    """A passenger on a flight, train or bus (from carrier manifests or ticketing)."""

    class Mode(models.TextChoices):
        FLIGHT = "flight", _("Flight")
        TRAIN = "train", _("Train")
        BUS = "bus", _("Bus")
        OTHER = "other", _("Other transport")

    person = models.ForeignKey("core.Person", on_delete=models.CASCADE, related_name="+")
    mode = models.CharField(max_length=8, choices=Mode.choices)
    number = models.CharField(_("flight, train or line number"), max_length=20)
    departure = models.DateTimeField()
    arrival = models.DateTimeField(null=True, blank=True)
    carriage = models.CharField(max_length=8, blank=True, default="")
    seat = models.CharField(max_length=8, blank=True, default="")
    seat_row = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("travel record")
        verbose_name_plural = _("travel records")
        indexes = [models.Index(fields=["mode", "number", "departure"], name="inv_travel_trip")]

    def __str__(self) -> str:
        return f"{self.mode} {self.number} {self.departure:%Y-%m-%d}"


# --- Cases ---------------------------------------------------------------------


class Cluster(BaseModel):
    """A connected component of the case–contact graph; may be named and assigned."""

    disease = models.ForeignKey(Disease, on_delete=models.PROTECT, related_name="clusters")
    name = models.CharField(_("name"), max_length=200, blank=True)
    named = models.BooleanField(default=False)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    scope_path = models.CharField(max_length=64, default="")
    case_count = models.PositiveIntegerField(default=0)
    last_case_at = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")
        indexes = [models.Index(fields=["scope_path", "id"], name="inv_cluster_scope")]

    def __str__(self) -> str:
        return self.name or f"#{self.pk}"


class CaseNumberSequence(models.Model):
    """Per city and year counter behind readable case numbers (140100-2022-00139)."""

    city_code = models.CharField(max_length=12)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["city_code", "year"], name="inv_caseseq_unique")
        ]

    def __str__(self) -> str:
        return f"{self.city_code}-{self.year}: {self.last}"


class Case(BaseModel):
    class Classification(models.TextChoices):
        SUSPECTED = "suspected", _("Suspected")
        CONFIRMED = "confirmed", pgettext_lazy("case classification", "Confirmed")
        ASYMPTOMATIC = "asymptomatic", _("Asymptomatic infection")
        EXCLUDED = "excluded", _("Excluded")

    class FoundBy(models.TextChoices):
        SCREENING = "screening", _("Mass screening")
        FEVER_CLINIC = "fever_clinic", _("Fever clinic")
        CONTACT_MONITORING = "contact_monitoring", _("Contact under monitoring")
        ARRIVAL = "arrival", _("Arrival control")
        OTHER = "other", _("Other")

    class Severity(models.TextChoices):
        NONE = "none", _("No symptoms")
        MILD = "mild", _("Mild")
        MODERATE = "moderate", _("Moderate")
        SEVERE = "severe", _("Severe")
        CRITICAL = "critical", _("Critical")

    class Facility(models.TextChoices):
        DESIGNATED_HOSPITAL = "designated_hospital", _("Designated hospital")
        SHELTER_HOSPITAL = "shelter_hospital", _("Shelter hospital")
        HOME = "home", _("Home")
        NONE = "none", _("Not yet placed")

    class Outcome(models.TextChoices):
        NONE = "none", _("Under treatment")
        RECOVERED = "recovered", _("Recovered")
        DIED = "died", _("Died")
        TRANSFERRED = "transferred", _("Transferred")

    class InvestigationStatus(models.TextChoices):
        ASSIGNED = "assigned", _("Assigned")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")

    number = models.CharField(_("case number"), max_length=32, unique=True)
    person = models.ForeignKey("core.Person", on_delete=models.PROTECT, related_name="+")
    disease = models.ForeignKey(Disease, on_delete=models.PROTECT, related_name="cases")
    rules = models.ForeignKey(DiseaseRules, on_delete=models.PROTECT, related_name="+")
    classification = models.CharField(
        pgettext_lazy("case", "classification"), max_length=16, choices=Classification.choices
    )
    onset_date = models.DateField(_("onset date"), null=True, blank=True)
    first_positive_date = models.DateField(_("first positive sample date"), null=True, blank=True)
    # Empty only for a case imported without its date (a line-list row without a
    # confirmation date): ``needs_completion`` then says so until someone gives it.
    report_date = models.DateField(_("report date"), null=True, blank=True)
    needs_completion = models.BooleanField(
        _("report date to be completed"), default=False, db_default=False
    )
    reporting_unit = models.CharField(_("reporting unit"), max_length=200, blank=True)
    found_by = models.CharField(_("how found"), max_length=20, choices=FoundBy.choices)
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.NONE
    )
    treatment_facility = models.CharField(
        _("treatment facility"), max_length=20, choices=Facility.choices, default=Facility.NONE
    )
    facility_name = models.CharField(_("facility name"), max_length=200, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.NONE
    )
    outcome_date = models.DateField(_("outcome date"), null=True, blank=True)
    released_at = models.DateField(_("released from isolation"), null=True, blank=True)
    investigation_status = models.CharField(
        _("investigation status"),
        max_length=12,
        choices=InvestigationStatus.choices,
        default=InvestigationStatus.ASSIGNED,
    )
    investigator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The contact link this person had before becoming a case (who infected whom).
    source_contact = models.ForeignKey(
        "Contact", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cluster = models.ForeignKey(
        Cluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    # A named cluster this case was assigned to (a common exposure event, e.g. a
    # line list's "infection_case"): joins the case's component to that cluster.
    named_cluster = models.ForeignKey(
        Cluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="pinned_cases"
    )
    external_ref = models.CharField(_("line-list id"), max_length=64, blank=True, default="")
    scope_path = models.CharField(max_length=64, default="", editable=False)

    class Meta:
        verbose_name = pgettext_lazy("epidemiology", "case")
        verbose_name_plural = pgettext_lazy("epidemiology", "cases")
        indexes = [
            models.Index(fields=["scope_path", "id"], name="inv_case_scope"),
            models.Index(fields=["person", "disease"], name="inv_case_person"),
            models.Index(fields=["disease", "classification", "report_date"], name="inv_case_cls"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(report_date__isnull=False) | models.Q(needs_completion=True),
                name="inv_case_report_date_known",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class TrajectoryStop(BaseModel):
    """A place (venue or free address with its grid) or a trip in a case's trajectory."""

    class Kind(models.TextChoices):
        VENUE = "venue", _("Venue")
        ADDRESS = "address", _("Address")
        TRANSPORT = "transport", _("Transport")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="stops")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    venue = models.ForeignKey(
        Venue, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    grid = models.ForeignKey(
        "core.Jurisdiction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    transport_mode = models.CharField(
        max_length=8, choices=TravelRecord.Mode.choices, blank=True, default=""
    )
    transport_number = models.CharField(max_length=20, blank=True, default="")
    carriage = models.CharField(max_length=8, blank=True, default="")
    seat = models.CharField(max_length=8, blank=True, default="")
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    matched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["start"]
        verbose_name = _("trajectory stop")
        verbose_name_plural = _("trajectory stops")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="inv_stop_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.start:%m-%d %H:%M}"


class ExposureMatch(BaseModel):
    """A person whose check-in (or seat) overlaps a case's trajectory stop.

    Matches follow late data: check-ins imported or sent after the stop was
    matched add matches (``found_late``) and widen the ones they extend
    (``revised_at``, the overlap before in ``previous_overlap_minutes``); a match
    is never narrowed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("To review")
        CONFIRMED = "confirmed", _("Confirmed")
        DISMISSED = "dismissed", _("Dismissed")

    # Not indexed alone: (case, status) and the unique (stop, person) lead with them.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="matches", db_index=False)
    stop = models.ForeignKey(
        TrajectoryStop, on_delete=models.CASCADE, related_name="matches", db_index=False
    )
    person = models.ForeignKey("core.Person", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=TrajectoryStop.Kind.choices)
    venue = models.ForeignKey(
        Venue, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    overlap_minutes = models.PositiveIntegerField()
    found_late = models.BooleanField(_("found in late check-ins"), default=False, db_default=False)
    revised_at = models.DateTimeField(_("widened by late check-ins at"), null=True, blank=True)
    previous_overlap_minutes = models.PositiveIntegerField(
        _("overlap before late check-ins (min)"), null=True, blank=True
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    rules = models.ForeignKey(DiseaseRules, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("exposure match")
        verbose_name_plural = _("exposure matches")
        constraints = [
            models.UniqueConstraint(fields=["stop", "person"], name="inv_match_unique_stop_person")
        ]
        indexes = [models.Index(fields=["case", "status"], name="inv_match_case_status")]

    def __str__(self) -> str:
        return f"{self.case_id}→{self.person_id} ({self.overlap_minutes} min)"


# --- Contacts and follow-up ----------------------------------------------------


class Contact(BaseModel):
    """A link from a source (a case, or a close contact) to an exposed person."""

    class Category(models.TextChoices):
        CLOSE = "close", _("Close contact")
        SECONDARY = "secondary", _("Secondary contact")
        VENUE_EXPOSED = "venue_exposed", _("Venue-exposed person")

    # Strictness order: a person who is both keeps the stricter category.
    CATEGORY_RANK = {Category.CLOSE: 0, Category.SECONDARY: 1, Category.VENUE_EXPOSED: 2}

    class ExposureType(models.TextChoices):
        HOUSEHOLD = "household", _("Household")
        WORKPLACE = "workplace", _("Workplace")
        SCHOOL = "school", _("School")
        VENUE = "venue", _("Venue")
        TRANSPORT = "transport", _("Transport")
        HEALTHCARE = "healthcare", _("Healthcare")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        MONITORING = "monitoring", _("Under monitoring")
        COMPLETED = "completed", _("Monitoring completed")
        LOST = "lost", _("Lost to follow-up")
        BECAME_CASE = "became_case", _("Became a case")

    disease = models.ForeignKey(Disease, on_delete=models.PROTECT, related_name="+")
    rules = models.ForeignKey(DiseaseRules, on_delete=models.PROTECT, related_name="+")
    source_case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="contacts"
    )
    source_contact = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="secondary_contacts"
    )
    person = models.ForeignKey("core.Person", on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=16, choices=Category.choices)
    exposure_type = models.CharField(max_length=12, choices=ExposureType.choices)
    relation = models.CharField(_("relation"), max_length=100, blank=True)
    first_exposure = models.DateField(_("first exposure"))
    last_exposure = models.DateField(_("last exposure"))
    continuous_exposure = models.BooleanField(
        _("continuous exposure"),
        default=False,
        help_text=_(
            "Cannot be separated from the case (e.g. household): monitoring runs "
            "until the case is released."
        ),
    )
    frequency = models.CharField(_("frequency"), max_length=100, blank=True)
    certainty = models.CharField(_("certainty"), max_length=20, blank=True)
    notes = models.TextField(blank=True)
    monitoring_end = models.DateField(_("monitoring ends"), null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.MONITORING)
    # One of several infectors a line list names for the same person, beside the one
    # linked as the source of that person's case (``Case.source_contact``).
    possible_source = models.BooleanField(
        _("possible source (one of several named)"), default=False, db_default=False
    )
    warning = models.CharField(max_length=300, blank=True)
    match = models.ForeignKey(
        ExposureMatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scope_path = models.CharField(max_length=64, default="", editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = pgettext_lazy("epidemiology", "contact")
        verbose_name_plural = pgettext_lazy("epidemiology", "contacts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(source_case__isnull=False)
                | models.Q(source_contact__isnull=False),
                name="inv_contact_has_source",
            ),
            models.CheckConstraint(
                condition=models.Q(last_exposure__gte=models.F("first_exposure")),
                name="inv_contact_exposure_order",
            ),
        ]
        indexes = [
            models.Index(fields=["scope_path", "status", "id"], name="inv_contact_scope_status"),
            # "Contacts under monitoring in this district": equality on status, then
            # the district's path range, without walking the other statuses.
            models.Index(fields=["status", "scope_path", "id"], name="inv_contact_status_scope"),
            models.Index(fields=["person", "status"], name="inv_contact_person"),
            models.Index(fields=["status", "monitoring_end"], name="inv_contact_due"),
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.person_id}"


class FollowUpTeam(BaseModel):
    """A team that follows up contacts living under its jurisdiction nodes."""

    name = models.CharField(_("name"), max_length=200)
    jurisdiction = models.ForeignKey(
        "core.Jurisdiction", on_delete=models.PROTECT, related_name="+"
    )
    scope_path = models.CharField(max_length=64, default="", editable=False)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("follow-up team")
        verbose_name_plural = _("follow-up teams")

    def __str__(self) -> str:
        return self.name


class FollowUp(BaseModel):
    class Status(models.TextChoices):
        NOT_ATTEMPTED = "not_attempted", _("Not attempted")
        SEEN_WELL = "seen_well", _("Seen, well")
        SEEN_WITH_SYMPTOMS = "seen_with_symptoms", _("Seen with symptoms")
        NOT_REACHED = "not_reached", _("Not reached")

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="followups")
    date = models.DateField()
    team = models.ForeignKey(
        FollowUpTeam, null=True, blank=True, on_delete=models.SET_NULL, related_name="followups"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NOT_ATTEMPTED)
    symptoms = models.JSONField(default=list, blank=True)
    temperature = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(null=True, blank=True)
    scope_path = models.CharField(max_length=64, default="", editable=False)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        constraints = [
            models.UniqueConstraint(fields=["contact", "date"], name="inv_followup_unique_day")
        ]
        indexes = [
            models.Index(fields=["team", "date", "status"], name="inv_followup_team_day"),
            models.Index(fields=["scope_path", "date"], name="inv_followup_scope_day"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} {self.date}"


class BreachInquiry(BaseModel):
    """The epidemiological side of a breach of a quarantine site's closed loop (破环),
    opened by the fact ``quarantine.breach_reported``: an investigator takes it up,
    finds out whether anyone was exposed and closes it with findings. The breach
    itself (site, kind, workers) stays the quarantine app's record, read through
    its shared selectors by ``breach_id``."""

    class State(models.TextChoices):
        OPEN = "open", _("Waiting for an investigator")
        IN_PROGRESS = "in_progress", _("Being investigated")
        CLOSED = "closed", pgettext_lazy("breach inquiry", "Closed")

    class Outcome(models.TextChoices):
        NONE = "", _("Not yet known")
        NO_EXPOSURE = "no_exposure", _("No exposure found")
        EXPOSURE = "exposure", _("Exposure found: the people involved are under measures")

    breach_id = models.PositiveBigIntegerField(unique=True)
    site_name = models.CharField(_("quarantine site"), max_length=200)
    occurred_at = models.DateTimeField(_("when"))
    scope_path = models.CharField(max_length=64, default="", editable=False)
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    investigator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=Outcome.choices, default="", blank=True
    )
    findings = models.TextField(_("findings"), blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("closed-loop breach inquiry")
        verbose_name_plural = _("closed-loop breach inquiries")
        indexes = [models.Index(fields=["scope_path", "state"], name="inv_breach_scope_state")]

    def __str__(self) -> str:
        return f"{self.site_name} {self.occurred_at:%Y-%m-%d}"
