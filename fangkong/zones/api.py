"""API of the zones app (mounted at /api/v1/zones/): zones, proposals and their
approval, lifting recommendations, the map, teams and door-step requests."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router
from ninja.pagination import paginate
from ninja.responses import Status

from fangkong.core.pagination import PageNumber
from fangkong.core.schema import Schema
from fangkong.zones import selectors, services
from fangkong.zones.models import LiftRecommendation, ServiceRequest, Zone, ZoneProposal

router = Router(tags=["zones"])


class _Mapped:
    """A queryset seen through a row function, sliced lazily by the paginator."""

    def __init__(self, qs: Any, fn: Any) -> None:
        self.qs, self.fn = qs, fn

    def __getitem__(self, part: slice) -> list[Any]:
        return [self.fn(row) for row in self.qs[part]]

    def __len__(self) -> int:
        return int(self.qs.count())


# --- Schemas -------------------------------------------------------------------


class LevelOut(Schema):
    code: str
    name_zh: str
    name_en: str
    colour: str
    severity: int
    status_reason_kind: str
    lift_days_without_case: int
    lift_requires_all_negative: bool
    lift_to: str | None


class ZoneOut(Schema):
    id: int
    name: str
    state: str
    level: str
    level_name: str
    colour: str
    district: str
    scope_path: str
    decision_number: str
    declared_at: dt.datetime
    in_force_since: dt.datetime | None
    level_since: dt.datetime | None
    lifted_at: dt.datetime | None
    resident_count: int
    units: list[int]


def _zone_out(z: Zone) -> dict[str, Any]:
    return {
        "id": z.pk,
        "name": z.name,
        "state": z.state,
        "level": z.level.code,
        "level_name": z.level.name,
        "colour": z.level.colour,
        "district": z.district.name if z.district_id and z.district else "",
        "scope_path": z.scope_path,
        "decision_number": z.decision_number,
        "declared_at": z.declared_at,
        "in_force_since": z.in_force_since,
        "level_since": z.level_since,
        "lifted_at": z.lifted_at,
        "resident_count": z.resident_count,
        "units": list(z.units.values_list("node_id", flat=True)),
    }


class ZoneFilters(Schema):
    state: str | None = None
    level: str | None = None
    district_id: int | None = None
    q: str = ""


class DeclareIn(Schema):
    name: str = Field(..., max_length=200)
    level: str
    unit_ids: list[int] = []
    polygon: Any = None
    reason: str = Field("", max_length=4000)
    case_ids: list[int] = []
    decision_number: str = Field("", max_length=80)


class ChangeIn(Schema):
    kind: str
    level: str | None = None
    unit_ids: list[int] = []
    polygon: Any = None
    reason: str = Field("", max_length=4000)


class ProposalOut(Schema):
    id: int
    zone_id: int
    zone_name: str
    kind: str
    state: str
    level: str | None
    unit_ids: list[int]
    reason: str
    proposed_by: str | None
    decided_by: str | None
    decided_at: dt.datetime | None
    created_at: dt.datetime


def _proposal_out(p: ZoneProposal) -> dict[str, Any]:
    return {
        "id": p.pk,
        "zone_id": p.zone_id,
        "zone_name": p.zone.name,
        "kind": p.kind,
        "state": p.state,
        "level": p.level.code if p.level_id and p.level else None,
        "unit_ids": list(p.node_ids or []),
        "reason": p.reason,
        "proposed_by": p.proposed_by.get_username() if p.proposed_by_id and p.proposed_by else None,
        "decided_by": p.decided_by.get_username() if p.decided_by_id and p.decided_by else None,
        "decided_at": p.decided_at,
        "created_at": p.created_at,
    }


class DecisionIn(Schema):
    decision_number: str = Field("", max_length=80)
    note: str = Field("", max_length=2000)


class RecommendationOut(Schema):
    id: int
    zone_id: int
    zone_name: str
    evaluated_on: dt.date
    from_level: str
    to_level: str | None
    met: bool
    state: str
    evidence: dict[str, Any]


def _rec_out(r: LiftRecommendation) -> dict[str, Any]:
    return {
        "id": r.pk,
        "zone_id": r.zone_id,
        "zone_name": r.zone.name,
        "evaluated_on": r.evaluated_on,
        "from_level": r.from_level.code,
        "to_level": r.to_level.code if r.to_level_id and r.to_level else None,
        "met": r.met,
        "state": r.state,
        "evidence": r.evidence,
    }


class TeamMemberIn(Schema):
    role: str
    name: str = Field(..., max_length=100)
    phone: str = Field("", max_length=32)
    shift: str = Field("", max_length=60)


class TeamMemberOut(Schema):
    id: int
    role: str
    name: str
    phone: str  # masked, as people's numbers are (+86*******0001)
    shift: str

    @staticmethod
    def resolve_phone(obj: Any) -> str:
        return str(obj.phone_masked)


class RequestIn(Schema):
    person_id: int
    kind: str
    text: str = Field("", max_length=2000)
    items: list[Any] = []


class RequestOut(Schema):
    id: int
    person_id: int
    zone_id: int | None
    kind: str
    text: str
    items: list[Any]
    priority: int
    status: str
    via: str
    assignee: str | None
    due_at: dt.datetime
    overdue: bool
    escalated_at: dt.datetime | None
    done_at: dt.datetime | None
    confirmed_at: dt.datetime | None
    created_at: dt.datetime


def _request_out(r: ServiceRequest) -> dict[str, Any]:
    return {
        "id": r.pk,
        "person_id": r.person_id,
        "zone_id": r.zone_id,
        "kind": r.kind.code,
        "text": r.text,
        "items": r.items,
        "priority": r.priority,
        "status": r.status,
        "via": r.via,
        "assignee": r.assignee.get_username() if r.assignee_id and r.assignee else None,
        "due_at": r.due_at,
        "overdue": r.overdue,
        "escalated_at": r.escalated_at,
        "done_at": r.done_at,
        "confirmed_at": r.confirmed_at,
        "created_at": r.created_at,
    }


class RequestFilters(Schema):
    zone_id: int | None = None
    status: str | None = None
    open_only: bool = False
    mine: bool = False


class NoteIn(Schema):
    note: str = Field("", max_length=1000)


# --- Zones -------------------------------------------------------------------


@router.get("/levels", response=list[LevelOut])
def levels(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "code": lv.code,
            "name_zh": lv.name_zh,
            "name_en": lv.name_en,
            "colour": lv.colour,
            "severity": lv.severity,
            "status_reason_kind": lv.status_reason_kind,
            "lift_days_without_case": lv.lift_days_without_case,
            "lift_requires_all_negative": lv.lift_requires_all_negative,
            "lift_to": lv.lift_to.code if lv.lift_to else None,
        }
        for lv in selectors.levels()
    ]


@router.get("/", response=list[ZoneOut])
@paginate(PageNumber)
def zone_list(request: HttpRequest, filters: Query[ZoneFilters]) -> Any:
    qs = selectors.zone_list_for(
        request.user,
        state=filters.state,
        level=filters.level,
        district_id=filters.district_id,
        q=filters.q,
    )
    return _Mapped(qs, _zone_out)


@router.get("/map")
def zone_map(request: HttpRequest) -> dict[str, Any]:
    return selectors.map_data(request.user)


@router.get("/{int:zone_id}", response=ZoneOut)
def zone_detail(request: HttpRequest, zone_id: int) -> dict[str, Any]:
    return _zone_out(selectors.access_zone_by_id(request.user, zone_id))


@router.get("/{int:zone_id}/supplies")
def zone_supplies(request: HttpRequest, zone_id: int) -> dict[str, Any]:
    data = selectors.supplies_for(request.user, zone_id)
    return {
        "zone_id": zone_id,
        "residents": data["residents"],
        "households": data["households"],
        "items": [{"name": n, "qty": q} for n, q in data["items"]],
    }


# --- Proposals ------------------------------------------------------------------


@router.post("/proposals", response={201: ProposalOut})
def propose_declare(request: HttpRequest, payload: DeclareIn) -> Any:
    proposal = services.zone_propose_declare(
        actor=request.user,
        name=payload.name,
        level=payload.level,
        node_ids=payload.unit_ids,
        polygon=payload.polygon,
        reason=payload.reason,
        case_ids=payload.case_ids,
        decision_number=payload.decision_number,
    )
    return Status(201, _proposal_out(proposal))


@router.post("/{int:zone_id}/proposals", response={201: ProposalOut})
def propose_change(request: HttpRequest, zone_id: int, payload: ChangeIn) -> Any:
    proposal = services.zone_propose_change(
        actor=request.user,
        zone_id=zone_id,
        kind=payload.kind,
        level=payload.level,
        node_ids=payload.unit_ids,
        polygon=payload.polygon,
        reason=payload.reason,
    )
    return Status(201, _proposal_out(proposal))


@router.get("/proposals", response=list[ProposalOut])
def proposals_pending(request: HttpRequest) -> list[dict[str, Any]]:
    return [_proposal_out(p) for p in selectors.proposals_pending_for(request.user)[:500]]


@router.post("/proposals/{int:proposal_id}/approve", response=ProposalOut)
def proposal_approve(request: HttpRequest, proposal_id: int, payload: DecisionIn) -> Any:
    p = services.proposal_approve(
        actor=request.user,
        proposal_id=proposal_id,
        decision_number=payload.decision_number,
        note=payload.note,
    )
    return _proposal_out(p)


@router.post("/proposals/{int:proposal_id}/refuse", response=ProposalOut)
def proposal_refuse(request: HttpRequest, proposal_id: int, payload: DecisionIn) -> Any:
    return _proposal_out(
        services.proposal_refuse(actor=request.user, proposal_id=proposal_id, note=payload.note)
    )


# --- Lifting recommendations --------------------------------------------------------


@router.get("/recommendations", response=list[RecommendationOut])
def recommendations(request: HttpRequest) -> list[dict[str, Any]]:
    return [_rec_out(r) for r in selectors.recommendations_open_for(request.user)[:500]]


@router.post("/recommendations/{int:rec_id}/accept", response=ProposalOut)
def recommendation_accept(request: HttpRequest, rec_id: int, payload: DecisionIn) -> Any:
    p = services.recommendation_accept(
        actor=request.user,
        recommendation_id=rec_id,
        decision_number=payload.decision_number,
        note=payload.note,
    )
    return _proposal_out(p)


# --- Teams -------------------------------------------------------------------------


@router.post("/{int:zone_id}/team", response={201: TeamMemberOut})
def team_add(request: HttpRequest, zone_id: int, payload: TeamMemberIn) -> Any:
    m = services.team_member_add(
        actor=request.user,
        zone_id=zone_id,
        role=payload.role,
        name=payload.name,
        phone=payload.phone,
        shift=payload.shift,
    )
    return Status(201, m)


# --- Door-step requests ---------------------------------------------------------------


@router.get("/requests", response=list[RequestOut])
@paginate(PageNumber)
def request_list(request: HttpRequest, filters: Query[RequestFilters]) -> Any:
    qs = selectors.requests_for(
        request.user,
        zone_id=filters.zone_id,
        status=filters.status,
        open_only=filters.open_only,
        mine=filters.mine,
    )
    return _Mapped(qs, _request_out)


@router.post("/requests", response={201: RequestOut})
def request_create(request: HttpRequest, payload: RequestIn) -> Any:
    req = services.service_request_create(
        actor=request.user,
        person_id=payload.person_id,
        kind=payload.kind,
        text=payload.text,
        items=payload.items,
        via="staff",
    )
    return Status(201, _request_out(req))


@router.post("/requests/{int:request_id}/assign", response=RequestOut)
def request_assign(request: HttpRequest, request_id: int) -> Any:
    return _request_out(services.service_request_assign(actor=request.user, request_id=request_id))


@router.post("/requests/{int:request_id}/complete", response=RequestOut)
def request_complete(request: HttpRequest, request_id: int, payload: NoteIn) -> Any:
    return _request_out(
        services.service_request_complete(
            actor=request.user, request_id=request_id, note=payload.note
        )
    )


@router.post("/requests/{int:request_id}/confirm", response=RequestOut)
def request_confirm(request: HttpRequest, request_id: int, payload: NoteIn) -> Any:
    """Staff record the resident's confirmation (given by phone or at the door)."""
    req = selectors.access_request_by_id(request.user, request_id)
    return _request_out(
        services.service_request_confirm(
            actor=request.user, person_id=req.person_id, request_id=request_id, note=payload.note
        )
    )


@router.post("/recommendations/{int:rec_id}/dismiss", response=RecommendationOut)
def recommendation_dismiss(request: HttpRequest, rec_id: int, payload: DecisionIn) -> Any:
    rec = services.recommendation_dismiss(
        actor=request.user, recommendation_id=rec_id, note=payload.note
    )
    return _rec_out(rec)


@router.delete("/team/{int:member_id}", response={204: None})
def team_remove(request: HttpRequest, member_id: int) -> Any:
    services.team_member_remove(actor=request.user, member_id=member_id)
    return Status(204, None)
