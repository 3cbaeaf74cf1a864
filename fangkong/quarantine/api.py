"""API of the quarantine app (mounted at /api/v1/quarantine/): sites and their
lifecycle, rooms, stays and their monitoring, exceptions, orders, tiered
activation, closed-loop staff and hospitals. Thin: each endpoint validates its
input and calls one service or selector; outside the user's area is a 404."""

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router
from ninja.pagination import paginate
from ninja.responses import Status

from fangkong.core.pagination import PageNumber
from fangkong.core.pdf import pdf_response
from fangkong.core.schema import Schema
from fangkong.quarantine import selectors, services
from fangkong.quarantine.models import Admission, Approval, Room, Site, Stay, StayTest

router = Router(tags=["quarantine"])


class _Mapped:
    """A queryset seen through a row function, sliced lazily by the paginator."""

    def __init__(self, qs: Any, fn: Any) -> None:
        self.qs, self.fn = qs, fn

    def __getitem__(self, part: slice) -> list[Any]:
        return [self.fn(row) for row in self.qs[part]]

    def __len__(self) -> int:
        return int(self.qs.count())


# --- Schemas ---------------------------------------------------------------------------


class SiteIn(Schema):
    name: str = Field(..., max_length=200)
    jurisdiction_id: int
    kind: str = "hotel"
    address: str = Field("", max_length=300)
    tier: int = 1
    planned_rooms: int = 0
    contact_name: str = Field("", max_length=100)
    contact_phone: str = Field("", max_length=32)
    note: str = Field("", max_length=2000)


class SiteOut(Schema):
    id: int
    name: str
    kind: str
    state: str
    state_label: str
    tier: int
    area: str
    address: str
    accepted_at: dt.datetime | None
    rooms: dict[str, int]


def _site_out(site: Site, counts: dict[str, int] | None = None) -> dict[str, Any]:
    return {
        "id": site.pk,
        "name": site.name,
        "kind": site.kind,
        "state": site.state,
        "state_label": str(site.get_state_display()),
        "tier": site.tier,
        "area": site.jurisdiction.name,
        "address": site.address,
        "accepted_at": site.accepted_at,
        "rooms": counts
        if counts is not None
        else selectors.room_counts([site.pk]).get(site.pk, {}),
    }


class SiteFilters(Schema):
    state: str | None = None
    q: str = Field("", max_length=100)


class TransitionIn(Schema):
    to_state: str
    reason: str = Field("", max_length=2000)


class CheckResultIn(Schema):
    passed: bool
    note: str = Field("", max_length=300)


class AcceptanceIn(Schema):
    results: dict[str, CheckResultIn]
    note: str = Field("", max_length=2000)


class RoomIn(Schema):
    number: str = Field(..., max_length=20)
    floor: int = 1
    kind: str = "single"
    own_bathroom: bool = True


class RoomsIn(Schema):
    rooms: list[RoomIn] = []
    floors: list[int] = []
    per_floor: int = Field(0, ge=0, le=500)


class RoomOut(Schema):
    id: int
    number: str
    floor: int
    kind: str
    status: str
    occupants: int


def _room_out(r: Room) -> dict[str, Any]:
    return {
        "id": r.pk,
        "number": r.number,
        "floor": r.floor,
        "kind": r.kind,
        "status": r.status,
        "occupants": r.occupants,
    }


class RoomStatusIn(Schema):
    status: str
    reason: str = Field("", max_length=2000)


class PersonIn(Schema):
    person_id: int
    category: str
    disease_code: str = Field("", max_length=40)
    started_on: dt.date | None = None


class AdmitIn(Schema):
    people: list[PersonIn] = Field(..., max_length=10_000)


class PlaceIn(Schema):
    pool_id: int
    people: list[PersonIn] = Field(..., max_length=10_000)


class AllocateIn(Schema):
    stay_ids: list[int] | None = None


class PlacementOut(Schema):
    placed: list[tuple[int, int]]
    waiting: list[int]


class StayOut(Schema):
    id: int
    person_id: int
    person_name: str
    document: str
    site_id: int
    site: str
    room: str | None
    state: str
    category: str
    started_on: dt.date
    planned_end: dt.date
    suspected: bool
    certificate_number: str


def _stay_out(s: Stay) -> dict[str, Any]:
    return {
        "id": s.pk,
        "person_id": s.person_id,
        "person_name": s.person.name,
        "document": s.person.doc_masked,
        "site_id": s.site_id,
        "site": s.site.name,
        "room": s.room.number if s.room else None,
        "state": s.state,
        "category": s.category.code,
        "started_on": s.started_on,
        "planned_end": s.planned_end,
        "suspected": s.suspected_at is not None,
        "certificate_number": s.certificate_number,
    }


class StayFilters(Schema):
    site_id: int | None = None
    state: str | None = None
    open_only: bool = False
    q: str = Field("", max_length=100)


class AssignIn(Schema):
    room_id: int


class CheckIn(Schema):
    taken_on: dt.date
    slot: str
    temperature: str = Field(..., max_length=10)
    symptoms: list[str] = Field([], max_length=20)
    note: str = Field("", max_length=300)


class CheckOut(Schema):
    id: int
    taken_on: dt.date
    slot: str
    temperature: str
    symptoms: list[str]
    alarming: bool


class TestIn(Schema):
    result: str
    note: str = Field("", max_length=300)


class TestOut(Schema):
    id: int
    due_on: dt.date
    day_number: int
    result: str


def _test_out(t: StayTest) -> dict[str, Any]:
    return {"id": t.pk, "due_on": t.due_on, "day_number": t.day_number, "result": t.result}


class NoteIn(Schema):
    note: str = Field("", max_length=2000)


class ReasonIn(Schema):
    reason_kind: str
    reason: str = Field(..., max_length=2000)


class ShareIn(ReasonIn):
    room_id: int


class ExtendIn(Schema):
    days: int
    reason: str = Field(..., max_length=2000)


class TransferIn(Schema):
    reason: str = Field(..., max_length=2000)
    site_id: int | None = None
    hospital_id: int | None = None
    bed_type: str = "general"
    severity: str = "mild"


class ApprovalOut(Schema):
    id: int
    kind: str
    stay_id: int
    person_name: str
    room: str | None
    reason_kind: str
    reason: str
    state: str
    created_at: dt.datetime


def _approval_out(a: Approval) -> dict[str, Any]:
    return {
        "id": a.pk,
        "kind": a.kind,
        "stay_id": a.stay_id,
        "person_name": a.stay.person.name,
        "room": a.room.number if a.room else None,
        "reason_kind": a.reason_kind,
        "reason": a.reason,
        "state": a.state,
        "created_at": a.created_at,
    }


class DecideIn(Schema):
    approve: bool
    note: str = Field("", max_length=2000)


class OrdersIn(Schema):
    stay_ids: list[int] = Field(..., max_length=5000)
    language: str | None = None


class OrderOut(Schema):
    id: int
    number: str
    stay_id: int
    language: str


class PoolOut(Schema):
    area: str
    active_sites: int
    usable_rooms: int
    occupied_rooms: int
    percent: int
    threshold_percent: int | None
    next_site: str | None
    proposal_open: bool


class StaffIn(Schema):
    name: str = Field(..., max_length=100)
    role: str
    phone: str = Field("", max_length=32)
    employer: str = Field("", max_length=200)


class PeriodIn(Schema):
    started_on: dt.date


class RotateIn(Schema):
    left_on: dt.date


class BreachIn(Schema):
    site_id: int | None = None
    kind: str
    occurred_at: dt.datetime
    description: str = Field(..., max_length=4000)
    staff_ids: list[int] = []


class BreachUpdateIn(Schema):
    state: str
    findings: str = Field("", max_length=4000)
    measures: str = Field("", max_length=4000)


class HospitalIn(Schema):
    name: str = Field(..., max_length=200)
    kind: str
    jurisdiction_id: int
    beds: dict[str, int]
    address: str = Field("", max_length=300)


class BedOut(Schema):
    hospital_id: int
    hospital: str
    kind: str
    bed_type: str
    total: int
    used: int
    level: str


class AdmitPatientIn(Schema):
    person_id: int
    bed_type: str
    severity: str
    case_id: int | None = None
    note: str = Field("", max_length=2000)


class AdmissionOut(Schema):
    id: int
    person_id: int
    hospital_id: int
    bed_type: str
    severity: str
    state: str


def _admission_out(a: Admission) -> dict[str, Any]:
    return {
        "id": a.pk,
        "person_id": a.person_id,
        "hospital_id": a.hospital_id,
        "bed_type": a.bed_type,
        "severity": a.severity,
        "state": a.state,
    }


class SeverityIn(Schema):
    severity: str
    bed_type: str | None = None
    note: str = Field("", max_length=2000)


class PatientTransferIn(Schema):
    hospital_id: int
    bed_type: str | None = None
    note: str = Field("", max_length=2000)


class DischargeIn(Schema):
    outcome: str = "discharged"
    note: str = Field("", max_length=2000)


def _id(obj: Any) -> dict[str, int]:
    return {"id": obj.pk}


def _admit_data(p: PersonIn) -> services.AdmitData:
    return services.AdmitData(
        person_id=p.person_id,
        category=p.category,
        disease_code=p.disease_code,
        started_on=p.started_on,
    )


# --- Sites and rooms ---------------------------------------------------------------------


@router.get("/sites", response=list[SiteOut])
@paginate(PageNumber)
def site_list(request: HttpRequest, filters: Query[SiteFilters]) -> Any:
    qs = selectors.site_list_for(request.user, state=filters.state, q=filters.q)
    return _Mapped(qs, _site_out)


@router.post("/sites", response={201: SiteOut})
def site_create(request: HttpRequest, payload: SiteIn) -> Status[Any]:
    site = services.site_create(actor=request.user, data=services.SiteData(**payload.dict()))
    return Status(201, _site_out(site))


@router.get("/sites/{int:site_id}", response=SiteOut)
def site_detail(request: HttpRequest, site_id: int) -> dict[str, Any]:
    return _site_out(selectors.access_site_by_id(request.user, site_id))


@router.put("/sites/{int:site_id}", response=SiteOut)
def site_update(request: HttpRequest, site_id: int, payload: SiteIn) -> dict[str, Any]:
    site = services.site_update(
        actor=request.user, site_id=site_id, data=services.SiteData(**payload.dict())
    )
    return _site_out(site)


@router.post("/sites/{int:site_id}/transition", response=SiteOut)
def site_transition(request: HttpRequest, site_id: int, payload: TransitionIn) -> dict[str, Any]:
    site = services.site_transition(
        actor=request.user, site_id=site_id, to_state=payload.to_state, reason=payload.reason
    )
    return _site_out(site)


@router.post("/sites/{int:site_id}/acceptance")
def site_accept(request: HttpRequest, site_id: int, payload: AcceptanceIn) -> dict[str, Any]:
    acceptance = services.site_accept(
        actor=request.user,
        site_id=site_id,
        results={k: (v.passed, v.note) for k, v in payload.results.items()},
        note=payload.note,
    )
    return {"id": acceptance.pk, "passed": acceptance.passed}


@router.get("/sites/{int:site_id}/rooms", response=list[RoomOut])
@paginate(PageNumber)
def room_list(
    request: HttpRequest, site_id: int, status: str | None = None, floor: int | None = None
) -> Any:
    return _Mapped(
        selectors.room_list_for(request.user, site_id, status=status, floor=floor), _room_out
    )


@router.post("/sites/{int:site_id}/rooms", response={201: dict[str, int]})
def rooms_add(request: HttpRequest, site_id: int, payload: RoomsIn) -> Status[Any]:
    rooms = [services.RoomData(**r.dict()) for r in payload.rooms]
    if payload.floors and payload.per_floor:
        rooms += services.rooms_numbered(payload.floors, payload.per_floor)
    n = services.rooms_add(actor=request.user, site_id=site_id, rooms=rooms)
    return Status(201, {"added": n})


@router.post("/rooms/{int:room_id}/status", response=RoomOut)
def room_status(request: HttpRequest, room_id: int, payload: RoomStatusIn) -> dict[str, Any]:
    room = services.room_set_status(
        actor=request.user, room_id=room_id, status=payload.status, reason=payload.reason
    )
    return _room_out(room)


# --- Stays ----------------------------------------------------------------------------------


@router.post("/sites/{int:site_id}/stays", response={201: list[StayOut]})
def stays_admit(request: HttpRequest, site_id: int, payload: AdmitIn) -> Status[Any]:
    stays = services.stays_admit(
        actor=request.user, site_id=site_id, people=[_admit_data(p) for p in payload.people]
    )
    ids = [s.pk for s in stays]
    return Status(
        201, [_stay_out(s) for s in selectors.stay_list_for(request.user).filter(pk__in=ids)]
    )


@router.post("/sites/{int:site_id}/allocate", response=PlacementOut)
def stays_allocate(request: HttpRequest, site_id: int, payload: AllocateIn) -> dict[str, Any]:
    result = services.stays_allocate(actor=request.user, site_id=site_id, stay_ids=payload.stay_ids)
    return {"placed": result.placed, "waiting": result.waiting}


@router.post("/place", response=PlacementOut)
def stays_place(request: HttpRequest, payload: PlaceIn) -> dict[str, Any]:
    result = services.stays_place(
        actor=request.user,
        pool_id=payload.pool_id,
        people=[_admit_data(p) for p in payload.people],
    )
    return {"placed": result.placed, "waiting": result.waiting}


@router.get("/stays", response=list[StayOut])
@paginate(PageNumber)
def stay_list(request: HttpRequest, filters: Query[StayFilters]) -> Any:
    qs = selectors.stay_list_for(
        request.user,
        site_id=filters.site_id,
        state=filters.state,
        open_only=filters.open_only,
        q=filters.q,
    )
    return _Mapped(qs, _stay_out)


@router.get("/stays/{int:stay_id}", response=StayOut)
def stay_detail(request: HttpRequest, stay_id: int) -> dict[str, Any]:
    return _stay_out(selectors.access_stay_by_id(request.user, stay_id))


@router.get("/stays/{int:stay_id}/tests", response=list[TestOut])
def stay_tests(request: HttpRequest, stay_id: int) -> list[dict[str, Any]]:
    stay = selectors.access_stay_by_id(request.user, stay_id)
    return [_test_out(t) for t in stay.tests.order_by("due_on", "id")]


@router.post("/stays/{int:stay_id}/room", response=StayOut)
def stay_room(request: HttpRequest, stay_id: int, payload: AssignIn) -> dict[str, Any]:
    services.stay_assign_room(actor=request.user, stay_id=stay_id, room_id=payload.room_id)
    return _stay_out(selectors.access_stay_by_id(request.user, stay_id))


@router.post("/stays/{int:stay_id}/checks", response={201: CheckOut})
def stay_check(request: HttpRequest, stay_id: int, payload: CheckIn) -> Status[Any]:
    c = services.health_check_record(
        actor=request.user,
        stay_id=stay_id,
        taken_on=payload.taken_on,
        slot=payload.slot,
        data=services.CheckData(
            temperature=payload.temperature, symptoms=payload.symptoms, note=payload.note
        ),
    )
    return Status(
        201,
        {
            "id": c.pk,
            "taken_on": c.taken_on,
            "slot": c.slot,
            "temperature": str(c.temperature),
            "symptoms": c.symptoms,
            "alarming": c.alarming,
        },
    )


@router.post("/tests/{int:test_id}", response=TestOut)
def test_result(request: HttpRequest, test_id: int, payload: TestIn) -> dict[str, Any]:
    test = services.stay_test_record(
        actor=request.user, test_id=test_id, result=payload.result, note=payload.note
    )
    return _test_out(test)


@router.post("/stays/{int:stay_id}/release", response=StayOut)
def stay_release(request: HttpRequest, stay_id: int, payload: NoteIn) -> dict[str, Any]:
    services.stay_release(actor=request.user, stay_id=stay_id, note=payload.note)
    return _stay_out(selectors.access_stay_by_id(request.user, stay_id))


@router.post("/stays/{int:stay_id}/early-release", response={201: ApprovalOut})
def stay_early_release(request: HttpRequest, stay_id: int, payload: ReasonIn) -> Status[Any]:
    approval = services.release_request_early(
        actor=request.user, stay_id=stay_id, reason_kind=payload.reason_kind, reason=payload.reason
    )
    return Status(201, _approval_out(approval))


@router.post("/stays/{int:stay_id}/share", response={201: ApprovalOut})
def stay_share(request: HttpRequest, stay_id: int, payload: ShareIn) -> Status[Any]:
    approval = services.room_share_request(
        actor=request.user,
        stay_id=stay_id,
        room_id=payload.room_id,
        reason_kind=payload.reason_kind,
        reason=payload.reason,
    )
    return Status(201, _approval_out(approval))


@router.post("/stays/{int:stay_id}/extend", response=StayOut)
def stay_extend(request: HttpRequest, stay_id: int, payload: ExtendIn) -> dict[str, Any]:
    services.stay_extend(
        actor=request.user, stay_id=stay_id, days=payload.days, reason=payload.reason
    )
    return _stay_out(selectors.access_stay_by_id(request.user, stay_id))


@router.post("/stays/{int:stay_id}/transfer", response=StayOut)
def stay_transfer(request: HttpRequest, stay_id: int, payload: TransferIn) -> dict[str, Any]:
    services.stay_transfer_out(actor=request.user, stay_id=stay_id, **payload.dict())
    return _stay_out(selectors.access_stay_by_id(request.user, stay_id))


@router.get("/stays/{int:stay_id}/certificate.pdf")
def stay_certificate(
    request: HttpRequest, stay_id: int, language: str | None = None
) -> HttpResponse:
    data, name = services.certificate_pdf(request.user, stay_id, language=language)
    return pdf_response(data, name)


@router.get("/approvals", response=list[ApprovalOut])
@paginate(PageNumber)
def approval_list(request: HttpRequest) -> Any:
    return _Mapped(selectors.approvals_for(request.user), _approval_out)


@router.post("/approvals/{int:approval_id}/decide", response=ApprovalOut)
def approval_decide(request: HttpRequest, approval_id: int, payload: DecideIn) -> dict[str, Any]:
    approval = services.approval_decide(
        actor=request.user, approval_id=approval_id, approve=payload.approve, note=payload.note
    )
    return _approval_out(approval)


# --- Orders -----------------------------------------------------------------------------------


@router.post("/orders", response={201: list[OrderOut]})
def orders_issue(request: HttpRequest, payload: OrdersIn) -> Status[Any]:
    orders = services.orders_issue(
        actor=request.user, stay_ids=payload.stay_ids, language=payload.language
    )
    return Status(
        201,
        [
            {"id": o.pk, "number": o.number, "stay_id": o.stay_id, "language": o.language}
            for o in orders
        ],
    )


@router.post("/orders.pdf")
def orders_pdf(request: HttpRequest, payload: OrdersIn) -> HttpResponse:
    """Issue (or find) the orders of these stays and print them in one PDF."""
    orders = services.orders_issue(
        actor=request.user, stay_ids=payload.stay_ids, language=payload.language
    )
    name = orders[0].number if len(orders) == 1 else f"orders-{len(orders)}"
    return pdf_response(services.orders_pdf(orders), f"{name}.pdf", inline=False)


# --- Tiers ------------------------------------------------------------------------------------


@router.get("/occupancy", response=list[PoolOut])
def occupancy(request: HttpRequest) -> list[Any]:
    from fangkong.quarantine.selectors.shared import occupancy as pools

    selectors.scope_of(request.user)
    return list(pools(request.user))


@router.post("/proposals/{int:proposal_id}/decide")
def proposal_decide(request: HttpRequest, proposal_id: int, payload: DecideIn) -> dict[str, Any]:
    proposal = services.proposal_decide(
        actor=request.user, proposal_id=proposal_id, accept=payload.approve, note=payload.note
    )
    return {"id": proposal.pk, "state": proposal.state, "site_id": proposal.site_id}


# --- Staff ------------------------------------------------------------------------------------


@router.post("/sites/{int:site_id}/staff", response={201: dict[str, int]})
def staff_add(request: HttpRequest, site_id: int, payload: StaffIn) -> Status[Any]:
    return Status(
        201, _id(services.staff_add(actor=request.user, site_id=site_id, **payload.dict()))
    )


@router.post("/staff/{int:staff_id}/periods", response={201: dict[str, Any]})
def period_start(request: HttpRequest, staff_id: int, payload: PeriodIn) -> Status[Any]:
    period = services.period_start(
        actor=request.user, staff_id=staff_id, started_on=payload.started_on
    )
    return Status(201, {"id": period.pk, "rotation_due": period.rotation_due.isoformat()})


@router.post("/periods/{int:period_id}/rotate")
def period_rotate(request: HttpRequest, period_id: int, payload: RotateIn) -> dict[str, Any]:
    period = services.period_rotate(
        actor=request.user, period_id=period_id, left_on=payload.left_on
    )
    return {"id": period.pk, "monitoring_until": str(period.monitoring_until)}


class StaffTestIn(Schema):
    result: str = Field(..., max_length=10)


@router.post("/periods/{int:period_id}/checks", response={201: CheckOut})
def period_check(request: HttpRequest, period_id: int, payload: CheckIn) -> Status[Any]:
    """A rotated worker's temperature and symptoms during the monitoring after rotation."""
    c = services.staff_check_record(
        actor=request.user,
        period_id=period_id,
        taken_on=payload.taken_on,
        slot=payload.slot,
        data=services.CheckData(
            temperature=payload.temperature, symptoms=payload.symptoms, note=payload.note
        ),
    )
    return Status(
        201,
        {
            "id": c.pk,
            "taken_on": c.taken_on,
            "slot": c.slot,
            "temperature": str(c.temperature),
            "symptoms": c.symptoms,
            "alarming": c.alarming,
        },
    )


@router.post("/staff-tests/{int:test_id}", response=TestOut)
def staff_test(request: HttpRequest, test_id: int, payload: StaffTestIn) -> dict[str, Any]:
    """The result of a rotated worker's test on one of the rule's test days."""
    t = services.staff_test_record(actor=request.user, test_id=test_id, result=payload.result)
    return {"id": t.pk, "due_on": t.due_on, "day_number": t.day_number, "result": t.result}


@router.post("/breaches", response={201: dict[str, int]})
def breach_report(request: HttpRequest, payload: BreachIn) -> Status[Any]:
    return Status(201, _id(services.breach_report(actor=request.user, **payload.dict())))


@router.post("/breaches/{int:breach_id}")
def breach_update(request: HttpRequest, breach_id: int, payload: BreachUpdateIn) -> dict[str, Any]:
    report = services.breach_update(actor=request.user, breach_id=breach_id, **payload.dict())
    return {"id": report.pk, "state": report.state}


# --- Hospitals ----------------------------------------------------------------------------------


@router.get("/hospitals/beds", response=list[BedOut])
def hospital_beds(request: HttpRequest) -> list[Any]:
    from fangkong.quarantine.selectors.shared import hospital_beds as beds

    selectors.scope_of(request.user, "hospital.view")
    return list(beds(request.user))


@router.post("/hospitals", response={201: dict[str, int]})
def hospital_create(request: HttpRequest, payload: HospitalIn) -> Status[Any]:
    return Status(201, _id(services.hospital_create(actor=request.user, **payload.dict())))


@router.post("/hospitals/{int:hospital_id}/admissions", response={201: AdmissionOut})
def patient_admit(request: HttpRequest, hospital_id: int, payload: AdmitPatientIn) -> Status[Any]:
    adm = services.patient_admit(actor=request.user, hospital_id=hospital_id, **payload.dict())
    return Status(201, _admission_out(adm))


@router.get("/admissions", response=list[AdmissionOut])
@paginate(PageNumber)
def admission_list(request: HttpRequest, hospital_id: int | None = None) -> Any:
    return _Mapped(selectors.admissions_for(request.user, hospital_id=hospital_id), _admission_out)


@router.post("/admissions/{int:admission_id}/severity", response=AdmissionOut)
def patient_severity(
    request: HttpRequest, admission_id: int, payload: SeverityIn
) -> dict[str, Any]:
    return _admission_out(
        services.patient_set_severity(
            actor=request.user, admission_id=admission_id, **payload.dict()
        )
    )


@router.post("/admissions/{int:admission_id}/transfer", response=AdmissionOut)
def patient_transfer(
    request: HttpRequest, admission_id: int, payload: PatientTransferIn
) -> dict[str, Any]:
    return _admission_out(
        services.patient_transfer(actor=request.user, admission_id=admission_id, **payload.dict())
    )


@router.post("/admissions/{int:admission_id}/discharge", response=AdmissionOut)
def patient_discharge(
    request: HttpRequest, admission_id: int, payload: DischargeIn
) -> dict[str, Any]:
    return _admission_out(
        services.patient_discharge(actor=request.user, admission_id=admission_id, **payload.dict())
    )
