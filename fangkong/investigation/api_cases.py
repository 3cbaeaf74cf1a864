"""API: diseases and their rules, cases, trajectories, contacts, follow-up,
clusters and chains, investigation KPIs."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router
from ninja.pagination import paginate
from ninja.responses import Status

from fangkong.core.pagination import PageNumber
from fangkong.core.schema import Patch, Schema
from fangkong.core.selectors import access_jurisdiction_by_id
from fangkong.investigation.models import (
    Case,
    Cluster,
    Contact,
    FollowUp,
    FollowUpTeam,
    TrajectoryStop,
    TravelRecord,
)
from fangkong.investigation.selectors import cases as case_selectors
from fangkong.investigation.selectors import clusters as cluster_selectors
from fangkong.investigation.selectors import contacts as contact_selectors
from fangkong.investigation.selectors import followup as followup_selectors
from fangkong.investigation.services import cases as case_services
from fangkong.investigation.services import clusters as cluster_services
from fangkong.investigation.services import contacts as contact_services
from fangkong.investigation.services import followup as followup_services
from fangkong.investigation.services import rules as rules_services
from fangkong.investigation.services import trajectories as stop_services

router = Router(tags=["investigation"])


def _under(request: HttpRequest, jurisdiction_id: int | None) -> str | None:
    if jurisdiction_id is None:
        return None
    return access_jurisdiction_by_id(request.user, jurisdiction_id).path


# --- Schemas -------------------------------------------------------------------


class DiseaseOut(Schema):
    code: str
    name_zh: str
    name_en: str
    icd10: str


class RulesOut(Schema):
    version: int
    effective_from: dt.date
    source_document: str
    infectious_days_before_onset: int
    infectious_days_before_sample: int
    copresence_buffer_minutes: int
    assumed_stay_minutes: int
    transport_seat_rows: int
    close_contact_monitoring_days: int
    secondary_contact_monitoring_days: int
    venue_exposed_monitoring_days: int
    followups_per_day: int
    classifications: list[str]
    checkin_retention_days: int


class RulesIn(Schema):
    effective_from: dt.date
    source_document: str = Field(..., min_length=1, max_length=300)
    reason: str = Field("", max_length=500)
    classifications: list[Case.Classification] | None = None
    infectious_days_before_onset: int | None = None
    infectious_days_before_sample: int | None = None
    copresence_buffer_minutes: int | None = None
    assumed_stay_minutes: int | None = None
    transport_seat_rows: int | None = None
    close_contact_monitoring_days: int | None = None
    secondary_contact_monitoring_days: int | None = None
    venue_exposed_monitoring_days: int | None = None
    followups_per_day: int | None = None
    checkin_retention_days: int | None = None


class CaseOut(Schema):
    id: int
    number: str
    person_id: int
    person_name: str
    disease: str
    rules_version: int
    classification: str
    onset_date: dt.date | None
    first_positive_date: dt.date | None
    report_date: dt.date | None
    needs_completion: bool
    reporting_unit: str
    found_by: str
    severity: str
    treatment_facility: str
    facility_name: str
    outcome: str
    outcome_date: dt.date | None
    released_at: dt.date | None
    investigation_status: str
    investigator_id: int | None
    source_contact_id: int | None
    cluster_id: int | None
    named_cluster_id: int | None
    external_ref: str

    @staticmethod
    def resolve_person_name(obj: Case) -> str:
        return obj.person.name

    @staticmethod
    def resolve_disease(obj: Case) -> str:
        return obj.disease.code

    @staticmethod
    def resolve_rules_version(obj: Case) -> int:
        return obj.rules.version


class CaseIn(Schema):
    person_id: int
    disease_code: str = Field("covid19", max_length=40)
    classification: Case.Classification
    report_date: dt.date
    found_by: Case.FoundBy
    onset_date: dt.date | None = None
    first_positive_date: dt.date | None = None
    reporting_unit: str = Field("", max_length=200)
    severity: Case.Severity = Case.Severity.NONE
    treatment_facility: Case.Facility = Case.Facility.NONE
    facility_name: str = Field("", max_length=200)
    source_contact_id: int | None = None


class CaseFilter(Schema):
    disease: str | None = None
    classification: Case.Classification | None = None
    investigation_status: Case.InvestigationStatus | None = None
    investigator_id: int | None = None
    jurisdiction_id: int | None = None
    reported_from: dt.date | None = None
    reported_until: dt.date | None = None
    cluster_id: int | None = None
    q: str = Field("", max_length=64)


class ClassifyIn(Schema):
    classification: Case.Classification
    reason: str = Field("", max_length=500)


class OutcomeIn(Schema):
    outcome: Case.Outcome
    outcome_date: dt.date | None = None
    reason: str = Field("", max_length=500)


class AssignIn(Schema):
    investigator_id: int | None


class InvestigationStatusIn(Schema):
    status: Case.InvestigationStatus


class ReleaseIn(Schema):
    released_at: dt.date


class StopOut(Schema):
    id: int
    case_id: int
    kind: str
    venue_id: int | None
    venue_name: str | None
    address: str
    grid_id: int | None
    start: dt.datetime
    end: dt.datetime
    transport_mode: str
    transport_number: str
    carriage: str
    seat: str
    notes: str

    @staticmethod
    def resolve_venue_name(obj: TrajectoryStop) -> str | None:
        return obj.venue.name if obj.venue else None


class StopIn(Schema):
    kind: TrajectoryStop.Kind
    start: dt.datetime
    end: dt.datetime
    venue_id: int | None = None
    address: str = Field("", max_length=300)
    grid_id: int | None = None
    transport_mode: TravelRecord.Mode | None = None
    transport_number: str = Field("", max_length=20)
    carriage: str = Field("", max_length=8)
    seat: str = Field("", max_length=8)
    notes: str = Field("", max_length=2000)


class ContactOut(Schema):
    id: int
    person_id: int
    person_name: str
    source_case_id: int | None
    source_contact_id: int | None
    category: str
    exposure_type: str
    relation: str
    first_exposure: dt.date
    last_exposure: dt.date
    continuous_exposure: bool
    frequency: str
    certainty: str
    notes: str
    monitoring_end: dt.date | None
    status: str
    warning: str
    rules_version: int
    match_id: int | None

    @staticmethod
    def resolve_person_name(obj: Contact) -> str:
        return obj.person.name

    @staticmethod
    def resolve_rules_version(obj: Contact) -> int:
        return obj.rules.version


class ContactListOut(Schema):
    id: int
    person_id: int
    person_name: str
    source_case_id: int | None
    source_contact_id: int | None
    category: str
    exposure_type: str
    last_exposure: dt.date
    monitoring_end: dt.date | None
    status: str

    @staticmethod
    def resolve_person_name(obj: Contact) -> str:
        return obj.person.name


class ContactSummaryOut(Schema):
    person_id: int
    category: str | None
    monitoring_end: dt.date | None
    open_ended: bool
    links: list[ContactListOut]


class ContactIn(Schema):
    source_case_id: int | None = None
    source_contact_id: int | None = None
    person_id: int
    exposure_type: Contact.ExposureType
    first_exposure: dt.date
    last_exposure: dt.date
    relation: str = Field("", max_length=100)
    continuous_exposure: bool = False
    frequency: str = Field("", max_length=100)
    certainty: str = Field("", max_length=20)
    notes: str = Field("", max_length=2000)
    category: Contact.Category | None = None


class ContactFilter(Schema):
    status: Contact.Status | None = None
    category: Contact.Category | None = None
    jurisdiction_id: int | None = None
    source_case_id: int | None = None
    person_id: int | None = None
    disease: str | None = None


class ContactSummaryFilter(Schema):
    disease: str | None = None


class ContactStatusIn(Schema):
    status: Contact.Status
    reason: str = Field("", max_length=500)


class PromoteIn(Schema):
    classification: Case.Classification
    report_date: dt.date
    onset_date: dt.date | None = None
    first_positive_date: dt.date | None = None
    found_by: Case.FoundBy = Case.FoundBy.CONTACT_MONITORING
    reporting_unit: str = Field("", max_length=200)
    severity: Case.Severity = Case.Severity.NONE
    treatment_facility: Case.Facility = Case.Facility.NONE


class FollowUpOut(Schema):
    id: int
    date: dt.date
    contact_id: int
    person_id: int
    person_name: str
    category: str
    monitoring_end: dt.date | None
    team_id: int | None
    team_name: str | None
    status: str
    symptoms: list[str]
    temperature: float | None
    recorded_at: dt.datetime | None

    @staticmethod
    def resolve_person_id(obj: FollowUp) -> int:
        return obj.contact.person_id

    @staticmethod
    def resolve_person_name(obj: FollowUp) -> str:
        return obj.contact.person.name

    @staticmethod
    def resolve_category(obj: FollowUp) -> str:
        return obj.contact.category

    @staticmethod
    def resolve_monitoring_end(obj: FollowUp) -> dt.date | None:
        return obj.contact.monitoring_end

    @staticmethod
    def resolve_team_name(obj: FollowUp) -> str | None:
        return obj.team.name if obj.team else None

    @staticmethod
    def resolve_temperature(obj: FollowUp) -> float | None:
        return float(obj.temperature) if obj.temperature is not None else None


class FollowUpRecordOut(FollowUpOut):
    opened_case_id: int | None

    @staticmethod
    def resolve_opened_case_id(obj: FollowUp) -> int | None:
        case = getattr(obj, "opened_case", None)
        return case.pk if case else None


class FollowUpFilter(Schema):
    day: dt.date | None = None
    mine: bool = False
    team_id: int | None = None
    status: FollowUp.Status | None = None


class FollowUpIn(Schema):
    status: FollowUp.Status
    symptoms: list[str] = Field(default_factory=list, max_length=20)
    temperature: Decimal | None = Field(None, max_digits=4, decimal_places=1)


class TeamOut(Schema):
    id: int
    name: str
    jurisdiction_id: int
    active: bool
    member_ids: list[int]

    @staticmethod
    def resolve_member_ids(obj: FollowUpTeam) -> list[int]:
        return sorted(u.pk for u in obj.members.all())


class TeamIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    jurisdiction_id: int
    member_ids: list[int] = []


class TeamPatch(Patch):
    name: str | None = Field(None, min_length=1, max_length=200)
    member_ids: list[int] | None = None
    active: bool | None = None


class ClusterOut(Schema):
    id: int
    disease: str
    name: str
    named: bool
    assigned_to_id: int | None
    case_count: int
    last_case_at: dt.date | None
    new_cases_7d: int | None = None

    @staticmethod
    def resolve_disease(obj: Cluster) -> str:
        return obj.disease.code


class GraphNode(Schema):
    id: int
    number: str
    classification: str
    onset_date: dt.date | None
    report_date: dt.date | None
    generation: int


class GraphEdge(Schema):
    source: int
    target: int


class GraphOut(Schema):
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    generations: int


class ChainOut(GraphOut):
    case_id: int
    cluster_id: int | None


class ClusterDetailOut(ClusterOut):
    graph: GraphOut


class ClusterFilter(Schema):
    disease: str | None = None
    named: bool | None = None
    active_since: dt.date | None = None


class ClusterIn(Schema):
    disease_code: str = Field("covid19", max_length=40)
    name: str = Field(..., min_length=1, max_length=200)


class ClusterNameIn(Schema):
    name: str = Field(..., max_length=200)


class ClusterCaseIn(Schema):
    case_id: int


class KpiFilter(Schema):
    disease: str | None = None
    day: dt.date | None = None


class KpiOut(Schema):
    cases: int
    contacts_per_case_mean: float
    contacts_per_case_median: float
    new_cases: int
    new_cases_known_contacts: int
    new_cases_known_share: float
    followups_due_today: int
    followups_done_today: int
    contacts_under_monitoring: int
    contacts_lost: int
    active_chains: int


# --- Diseases --------------------------------------------------------------------


@router.get("/diseases", response=list[DiseaseOut])
def disease_list(request: HttpRequest) -> Any:
    return list(case_selectors.disease_list())


@router.get("/diseases/{code}/rules", response=list[RulesOut])
def rules_list(request: HttpRequest, code: str) -> Any:
    rules = list(case_selectors.rules_list(code))
    if not rules:
        from fangkong.core.errors import NotFound

        raise NotFound()
    return rules


@router.post("/diseases/{code}/rules", response={201: RulesOut})
def rules_add_version(request: HttpRequest, code: str, payload: RulesIn) -> Status[Any]:
    """A new version of the disease's rules from ``effective_from`` (today or later);
    parameters left out are carried over from the latest version."""
    data = payload.dict()
    params = {
        k: v for k, v in data.items() if k in rules_services.RULE_PARAMETERS and v is not None
    }
    classifications = data["classifications"]
    rules = rules_services.rules_add_version(
        actor=request.user,
        disease_code=code,
        effective_from=data["effective_from"],
        source_document=data["source_document"],
        classifications=[str(c) for c in classifications] if classifications else None,
        reason=data["reason"],
        **params,
    )
    return Status(201, rules)


# --- Cases -----------------------------------------------------------------------


def _case(request: HttpRequest, case_id: int) -> Case:
    return case_selectors.access_case_by_id(request.user, case_id)


@router.get("/cases", response=list[CaseOut])
@paginate(PageNumber)
def case_list(request: HttpRequest, filters: Query[CaseFilter]) -> Any:
    data = filters.dict()
    under = _under(request, data.pop("jurisdiction_id"))
    return case_selectors.case_list_for(request.user, under_path=under, **data).select_related(
        "rules"
    )


@router.get("/cases/{int:case_id}", response=CaseOut)
def case_detail(request: HttpRequest, case_id: int) -> Case:
    return _case(request, case_id)


@router.post("/cases", response={201: CaseOut})
def case_create(request: HttpRequest, payload: CaseIn) -> Status[Case]:
    case = case_services.case_create(actor=request.user, **payload.dict())
    return Status(201, _case(request, case.pk))


@router.post("/cases/{int:case_id}/classify", response=CaseOut)
def case_classify(request: HttpRequest, case_id: int, payload: ClassifyIn) -> Case:
    case_services.case_classify(actor=request.user, case_id=case_id, **payload.dict())
    return _case(request, case_id)


@router.post("/cases/{int:case_id}/outcome", response=CaseOut)
def case_outcome(request: HttpRequest, case_id: int, payload: OutcomeIn) -> Case:
    case_services.case_set_outcome(actor=request.user, case_id=case_id, **payload.dict())
    return _case(request, case_id)


@router.post("/cases/{int:case_id}/assign", response=CaseOut)
def case_assign(request: HttpRequest, case_id: int, payload: AssignIn) -> Case:
    case_services.case_assign(
        actor=request.user, case_id=case_id, investigator_id=payload.investigator_id
    )
    return _case(request, case_id)


@router.post("/cases/{int:case_id}/investigation-status", response=CaseOut)
def case_investigation_status(
    request: HttpRequest, case_id: int, payload: InvestigationStatusIn
) -> Case:
    case_services.case_set_investigation_status(
        actor=request.user, case_id=case_id, status=payload.status
    )
    return _case(request, case_id)


class ReportDateIn(Schema):
    report_date: dt.date
    first_positive_date: dt.date | None = None


@router.post("/cases/{int:case_id}/report-date", response=CaseOut)
def case_complete_report_date(request: HttpRequest, case_id: int, payload: ReportDateIn) -> Case:
    """Give a case imported without its date (``needs_completion``) its report date."""
    case_services.case_complete_report_date(actor=request.user, case_id=case_id, **payload.dict())
    return _case(request, case_id)


@router.post("/cases/{int:case_id}/release", response=CaseOut)
def case_release(request: HttpRequest, case_id: int, payload: ReleaseIn) -> Case:
    case_services.case_release(actor=request.user, case_id=case_id, released_at=payload.released_at)
    return _case(request, case_id)


@router.get("/cases/{int:case_id}/chain", response=ChainOut)
def case_chain(request: HttpRequest, case_id: int) -> Any:
    return cluster_selectors.case_chain(request.user, case_id)


@router.get("/cases/{int:case_id}/stops", response=list[StopOut])
def stop_list(request: HttpRequest, case_id: int) -> Any:
    return list(case_selectors.stop_list_for(request.user, _case(request, case_id)))


@router.post("/cases/{int:case_id}/stops", response={201: StopOut})
def stop_add(request: HttpRequest, case_id: int, payload: StopIn) -> Status[TrajectoryStop]:
    data = payload.dict()
    data["transport_mode"] = data["transport_mode"] or ""
    stop = stop_services.stop_add(actor=request.user, case_id=case_id, **data)
    return Status(201, stop)


# --- Contacts --------------------------------------------------------------------


@router.get("/contacts", response=list[ContactListOut])
@paginate(PageNumber)
def contact_list(request: HttpRequest, filters: Query[ContactFilter]) -> Any:
    data = filters.dict()
    under = _under(request, data.pop("jurisdiction_id"))
    return contact_selectors.contact_list_for(request.user, under_path=under, **data)


@router.get("/contacts/{int:contact_id}", response=ContactOut)
def contact_detail(request: HttpRequest, contact_id: int) -> Contact:
    return contact_selectors.access_contact_by_id(request.user, contact_id)


@router.get("/people/{int:person_id}/contact-summary", response=ContactSummaryOut)
def contact_summary(
    request: HttpRequest, person_id: int, filters: Query[ContactSummaryFilter]
) -> Any:
    """A person's effective contact category (the strictest over their links under
    monitoring), when monitoring ends, and every link the user may see."""
    return contact_selectors.access_person_contact_summary(
        request.user, person_id, disease=filters.disease
    )


@router.post("/contacts", response={201: ContactOut})
def contact_create(request: HttpRequest, payload: ContactIn) -> Status[Contact]:
    contact = contact_services.contact_create(actor=request.user, **payload.dict())
    return Status(201, contact_selectors.access_contact_by_id(request.user, contact.pk))


@router.post("/contacts/{int:contact_id}/status", response=ContactOut)
def contact_status(request: HttpRequest, contact_id: int, payload: ContactStatusIn) -> Contact:
    contact_services.contact_set_status(actor=request.user, contact_id=contact_id, **payload.dict())
    return contact_selectors.access_contact_by_id(request.user, contact_id)


@router.post("/contacts/{int:contact_id}/case", response={201: CaseOut})
def contact_to_case(request: HttpRequest, contact_id: int, payload: PromoteIn) -> Status[Case]:
    case = contact_services.contact_promote_to_case(
        actor=request.user, contact_id=contact_id, **payload.dict()
    )
    return Status(201, _case(request, case.pk))


# --- Follow-up -------------------------------------------------------------------


@router.get("/followups", response=list[FollowUpOut])
@paginate(PageNumber)
def followup_list(request: HttpRequest, filters: Query[FollowUpFilter]) -> Any:
    return followup_selectors.followup_list_for(request.user, **filters.dict())


@router.post("/followups/{int:followup_id}", response=FollowUpRecordOut)
def followup_record(request: HttpRequest, followup_id: int, payload: FollowUpIn) -> FollowUp:
    return followup_services.followup_record(
        actor=request.user, followup_id=followup_id, **payload.dict()
    )


@router.get("/followup-teams", response=list[TeamOut])
def team_list(request: HttpRequest) -> Any:
    return list(followup_selectors.team_list_for(request.user).prefetch_related("members"))


@router.post("/followup-teams", response={201: TeamOut})
def team_create(request: HttpRequest, payload: TeamIn) -> Status[FollowUpTeam]:
    return Status(201, followup_services.followup_team_create(actor=request.user, **payload.dict()))


@router.patch("/followup-teams/{int:team_id}", response=TeamOut)
def team_update(request: HttpRequest, team_id: int, payload: TeamPatch) -> FollowUpTeam:
    return followup_services.followup_team_update(
        actor=request.user, team_id=team_id, **payload.dict(exclude_unset=True)
    )


# --- Clusters --------------------------------------------------------------------


@router.get("/clusters", response=list[ClusterOut])
@paginate(PageNumber)
def cluster_list(request: HttpRequest, filters: Query[ClusterFilter]) -> Any:
    return cluster_selectors.cluster_list_for(request.user, **filters.dict())


class ChainFiguresOut(Schema):
    count: int
    largest: int


class ClusterFiguresOut(Schema):
    count: int
    largest: int
    named: int


class ChainClusterFiguresOut(Schema):
    chains: ChainFiguresOut
    clusters: ClusterFiguresOut


@router.get("/clusters/figures", response=ChainClusterFiguresOut)
def cluster_figures(request: HttpRequest) -> Any:
    """Transmission chains (infector links alone) and clusters (links and named
    events) in the user's area."""
    return cluster_selectors.chain_and_cluster_figures(request.user)


@router.get("/clusters/{int:cluster_id}", response=ClusterDetailOut)
def cluster_detail(request: HttpRequest, cluster_id: int) -> Any:
    cluster = cluster_selectors.access_cluster_by_id(request.user, cluster_id)
    cluster.graph = cluster_selectors.cluster_graph(request.user, cluster)  # type: ignore[attr-defined]
    return cluster


@router.post("/clusters", response={201: ClusterOut})
def cluster_create(request: HttpRequest, payload: ClusterIn) -> Status[Cluster]:
    return Status(201, cluster_services.cluster_create_named(actor=request.user, **payload.dict()))


@router.post("/clusters/{int:cluster_id}/name", response=ClusterOut)
def cluster_name(request: HttpRequest, cluster_id: int, payload: ClusterNameIn) -> Cluster:
    return cluster_services.cluster_name(
        actor=request.user, cluster_id=cluster_id, name=payload.name
    )


@router.post("/clusters/{int:cluster_id}/assign", response=ClusterOut)
def cluster_assign(request: HttpRequest, cluster_id: int, payload: AssignIn) -> Cluster:
    return cluster_services.cluster_assign(
        actor=request.user, cluster_id=cluster_id, investigator_id=payload.investigator_id
    )


@router.post("/clusters/{int:cluster_id}/cases", response=CaseOut)
def cluster_add_case(request: HttpRequest, cluster_id: int, payload: ClusterCaseIn) -> Case:
    cluster_services.cluster_add_case(
        actor=request.user, cluster_id=cluster_id, case_id=payload.case_id
    )
    return _case(request, payload.case_id)


# --- KPIs ------------------------------------------------------------------------


@router.get("/investigation/kpis", response=KpiOut)
def kpis(request: HttpRequest, filters: Query[KpiFilter]) -> Any:
    return cluster_selectors.investigation_kpis(
        request.user, disease=filters.disease, today=filters.day
    )
