"""API of supervision inspections, accountability, task forces, the duty roster and
staff care (mounted with the headquarters router at /api/v1/hq/). Thin: each
endpoint validates its input and calls one service or selector; outside the
user's area is a 404."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, File, Query, Router, UploadedFile
from ninja.pagination import paginate
from ninja.responses import Status

from fangkong.core import permissions
from fangkong.core.errors import PermissionDenied
from fangkong.core.pagination import PageNumber
from fangkong.core.schema import Id, Schema
from fangkong.core.templatetags.staff_ui import staff_name
from fangkong.headquarters import services
from fangkong.headquarters.models import Accountability, Finding, InspectionPlan
from fangkong.headquarters.selectors import ops
from fangkong.headquarters.services.inspections import PHOTO_MAX_BYTES

router = Router(tags=["headquarters"])


class _Mapped:
    """A queryset seen through a row function, sliced lazily by the paginator."""

    def __init__(self, qs: Any, fn: Any) -> None:
        self.qs, self.fn = qs, fn

    def __getitem__(self, part: slice) -> list[Any]:
        return [self.fn(row) for row in self.qs[part]]

    def __len__(self) -> int:
        return int(self.qs.count())


def _require_any(user: Any, *caps: str) -> None:
    if not any(permissions.has_capability(user, c) for c in caps):
        raise PermissionDenied()


# --- Inspections ----------------------------------------------------------------------


class PlanIn(Schema):
    title: str = Field(..., max_length=200)
    area_id: Id
    checklist_code: str = Field(..., max_length=40)
    starts_on: dt.date
    ends_on: dt.date
    inspector_id: Id


class FindingInSchema(Schema):
    item_id: Id
    result: str = Field(..., max_length=8)
    note: str = Field("", max_length=4000)
    deadline_hours: int = Field(72, ge=1, le=720)


class VisitIn(Schema):
    unit_id: Id
    place: str = Field(..., max_length=200)
    visited_at: dt.datetime
    summary: str = Field("", max_length=4000)
    findings: list[FindingInSchema] = Field(..., max_length=100)


class ReinspectIn(Schema):
    rectified: bool
    note: str = Field("", max_length=4000)


class FindingOut(Schema):
    id: int
    item: str
    result: str
    result_label: str
    note: str
    state: str
    state_label: str
    rectification_task_id: int | None
    photo_ids: list[int]


class VisitOut(Schema):
    id: int
    unit_id: int
    unit: str
    place: str
    visited_at: dt.datetime
    findings: list[FindingOut]


class PlanOut(Schema):
    id: int
    title: str
    area_id: int
    area: str
    checklist: str
    starts_on: dt.date
    ends_on: dt.date
    inspector_id: int
    inspector: str
    state: str
    state_label: str
    task_id: int | None


class PlanDetailOut(PlanOut):
    items: list[dict[str, Any]]
    visits: list[VisitOut]


class PlanFilters(Schema):
    state: str | None = Field(None, max_length=10)


def _plan_out(p: InspectionPlan) -> dict[str, Any]:
    return {
        "id": p.pk,
        "title": p.title,
        "area_id": p.area_id,
        "area": p.area.name,
        "checklist": p.checklist.name,
        "starts_on": p.starts_on,
        "ends_on": p.ends_on,
        "inspector_id": p.inspector_id,
        "inspector": staff_name(p.inspector),
        "state": p.state,
        "state_label": str(p.get_state_display()),
        "task_id": p.task_id,
    }


def _finding_out(f: Finding) -> dict[str, Any]:
    return {
        "id": f.pk,
        "item": f.item.text,
        "result": f.result,
        "result_label": str(f.get_result_display()),
        "note": f.note,
        "state": f.state,
        "state_label": str(f.get_state_display()),
        "rectification_task_id": f.rectification_id,
        "photo_ids": list(getattr(f, "photo_ids", [])),
    }


def _plan_detail(user: Any, plan_id: int) -> dict[str, Any]:
    plan = ops.access_plan_by_id(user, plan_id)
    return {
        **_plan_out(plan),
        "items": [
            {"id": i.pk, "position": i.position, "text": i.text}
            for i in plan.checklist.items.order_by("position")
        ],
        "visits": [
            {
                "id": v.pk,
                "unit_id": v.unit_id,
                "unit": v.unit.name,
                "place": v.place,
                "visited_at": v.visited_at,
                "findings": [_finding_out(f) for f in v.finding_rows],
            }
            for v in ops.plan_visits(plan)
        ],
    }


@router.get("/inspections", response=list[PlanOut])
@paginate(PageNumber)
def plan_list(request: HttpRequest, filters: Query[PlanFilters]) -> Any:
    _require_any(request.user, *ops.INSPECTION_CAPS)
    state = filters.state if filters.state in InspectionPlan.State.values else None
    return _Mapped(ops.plan_list_for(request.user, state=state).order_by("-pk"), _plan_out)


@router.post("/inspections", response={201: PlanDetailOut})
def plan_create(request: HttpRequest, payload: PlanIn) -> Status[Any]:
    plan = services.plan_create(actor=request.user, **payload.dict())
    return Status(201, _plan_detail(request.user, plan.pk))


@router.get("/inspections/{int:plan_id}", response=PlanDetailOut)
def plan_detail(request: HttpRequest, plan_id: int) -> dict[str, Any]:
    return _plan_detail(request.user, plan_id)


@router.post("/inspections/{int:plan_id}/visits", response={201: PlanDetailOut})
def visit_create(request: HttpRequest, plan_id: int, payload: VisitIn) -> Status[Any]:
    ops.access_plan_by_id(request.user, plan_id)
    services.visit_record(
        actor=request.user,
        plan_id=plan_id,
        unit_id=payload.unit_id,
        place=payload.place,
        visited_at=payload.visited_at,
        summary=payload.summary,
        findings=[services.FindingIn(**f.dict()) for f in payload.findings],
    )
    return Status(201, _plan_detail(request.user, plan_id))


@router.post("/inspections/findings/{int:finding_id}/photos", response={201: FindingOut})
def finding_photo_add(
    request: HttpRequest, finding_id: int, photo: File[UploadedFile]
) -> Status[Any]:
    ops.access_finding_by_id(request.user, finding_id)
    services.photo_add(
        actor=request.user, finding_id=finding_id, data=photo.read(PHOTO_MAX_BYTES + 1)
    )
    return Status(201, _finding_with_photos(request.user, finding_id))


def _finding_with_photos(user: Any, finding_id: int) -> dict[str, Any]:
    finding = ops.access_finding_by_id(user, finding_id)
    finding.photo_ids = list(finding.photos.values_list("pk", flat=True))  # type: ignore[attr-defined]
    return _finding_out(finding)


@router.post("/inspections/findings/{int:finding_id}/reinspect", response=FindingOut)
def finding_reinspect(request: HttpRequest, finding_id: int, payload: ReinspectIn) -> Any:
    ops.access_finding_by_id(request.user, finding_id)
    services.finding_reinspect(
        actor=request.user, finding_id=finding_id, rectified=payload.rectified, note=payload.note
    )
    return _finding_with_photos(request.user, finding_id)


# --- Accountability -------------------------------------------------------------------


class ProposeIn(Schema):
    failure_kind: str = Field(..., max_length=20)
    failure_id: Id
    party_kind: str = Field(..., max_length=12)
    party_name: str = Field(..., max_length=200)
    measure: str = Field(..., max_length=12)
    grounds: str = Field(..., max_length=4000)


class DecideIn(Schema):
    pursue: bool
    decision: str = Field(..., max_length=4000)
    document_number: str = Field("", max_length=80)
    measure: str | None = Field(None, max_length=12)


class AccountabilityOut(Schema):
    id: int
    failure_kind: str
    failure_label: str
    failure_text: str
    unit: str
    party_kind: str
    party_label: str
    party_name: str
    measure: str
    measure_label: str
    grounds: str
    state: str
    state_label: str
    proposed_by: str
    decided_by: str | None
    decided_at: dt.datetime | None
    decision: str
    document_number: str


class FailureOut(Schema):
    failure_kind: str
    failure_label: str
    failure_id: int
    text: str
    at: dt.datetime | None


class AccountabilityFilters(Schema):
    state: str | None = Field(None, max_length=10)


def _acc_out(r: Accountability) -> dict[str, Any]:
    return {
        "id": r.pk,
        "failure_kind": r.failure_kind,
        "failure_label": str(r.get_failure_kind_display()),
        "failure_text": r.failure_text,
        "unit": r.unit.name,
        "party_kind": r.party_kind,
        "party_label": str(r.get_party_kind_display()),
        "party_name": r.party_name,
        "measure": r.measure,
        "measure_label": str(r.get_measure_display()),
        "grounds": r.grounds,
        "state": r.state,
        "state_label": str(r.get_state_display()),
        "proposed_by": staff_name(r.proposed_by),
        "decided_by": staff_name(r.decided_by) if r.decided_by_id else None,
        "decided_at": r.decided_at,
        "decision": r.decision,
        "document_number": r.document_number,
    }


@router.get("/accountability/failures", response=list[FailureOut])
def failure_list(request: HttpRequest) -> list[dict[str, Any]]:
    permissions.require(request.user, "accountability.propose")
    labels = dict(Accountability.Failure.choices)
    return [
        {
            "failure_kind": f.kind,
            "failure_label": str(labels[f.kind]),
            "failure_id": f.id,
            "text": f.text,
            "at": f.at,
        }
        for f in ops.failure_choices_for(request.user)
    ]


@router.get("/accountability", response=list[AccountabilityOut])
@paginate(PageNumber)
def accountability_list(request: HttpRequest, filters: Query[AccountabilityFilters]) -> Any:
    _require_any(request.user, *ops.ACCOUNTABILITY_CAPS)
    state = filters.state if filters.state in Accountability.State.values else None
    return _Mapped(ops.accountability_list_for(request.user, state=state), _acc_out)


@router.post("/accountability", response={201: AccountabilityOut})
def accountability_propose(request: HttpRequest, payload: ProposeIn) -> Status[Any]:
    record = services.accountability_propose(actor=request.user, **payload.dict())
    return Status(201, _acc_out(ops.access_accountability_by_id(request.user, record.pk)))


@router.get("/accountability/{int:record_id}", response=AccountabilityOut)
def accountability_detail(request: HttpRequest, record_id: int) -> dict[str, Any]:
    return _acc_out(ops.access_accountability_by_id(request.user, record_id))


@router.post("/accountability/{int:record_id}/decide", response=AccountabilityOut)
def accountability_decide(request: HttpRequest, record_id: int, payload: DecideIn) -> Any:
    ops.access_accountability_by_id(request.user, record_id)
    services.accountability_decide(actor=request.user, record_id=record_id, **payload.dict())
    return _acc_out(ops.access_accountability_by_id(request.user, record_id))


# --- Duty roster, handovers, task forces, care ----------------------------------------


class ShiftIn(Schema):
    area_id: Id
    user_id: Id
    role: str = Field("officer", max_length=10)
    starts_at: dt.datetime
    ends_at: dt.datetime
    task_force_id: Id | None = None


class ShiftOut(Schema):
    id: int
    area_id: int
    area: str
    user_id: int
    on_duty: str
    role: str
    role_label: str
    starts_at: dt.datetime
    ends_at: dt.datetime


class AreaDutyOut(Schema):
    area_id: int
    area: str
    shifts: list[ShiftOut]


class HandoverIn(Schema):
    area_id: Id
    text: str = Field(..., max_length=4000)
    open_items: str = Field("", max_length=4000)


class HandoverOut(Schema):
    id: int
    area: str
    written_by: str
    text: str
    open_items: str
    created_at: dt.datetime
    received_by: str | None
    received_at: dt.datetime | None


class TaskForceIn(Schema):
    name: str = Field(..., max_length=120)
    kind: str = Field(..., max_length=16)
    area_id: Id
    leader_id: Id
    member_ids: list[Id] = Field([], max_length=500)
    remit: str = Field("", max_length=4000)


class TaskForceOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    area: str
    leader_id: int
    leader: str
    members: list[str]


class OverworkOut(Schema):
    user_id: int
    staff: str
    consecutive_days: int
    week_hours: int
    short_rests: int
    too_many_days: bool
    too_many_hours: bool
    rotation_planned: bool


def _shift_out(s: Any) -> dict[str, Any]:
    return {
        "id": s.pk,
        "area_id": s.area_id,
        "area": s.area.name,
        "user_id": s.user_id,
        "on_duty": staff_name(s.user),
        "role": s.role,
        "role_label": str(s.get_role_display()),
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
    }


def _handover_out(h: Any) -> dict[str, Any]:
    return {
        "id": h.pk,
        "area": h.area.name,
        "written_by": staff_name(h.written_by),
        "text": h.text,
        "open_items": h.open_items,
        "created_at": h.created_at,
        "received_by": staff_name(h.received_by) if h.received_by_id else None,
        "received_at": h.received_at,
    }


def _tf_out(tf: Any) -> dict[str, Any]:
    return {
        "id": tf.pk,
        "name": tf.name,
        "kind": tf.kind,
        "kind_label": str(tf.get_kind_display()),
        "area": tf.area.name,
        "leader_id": tf.leader_id,
        "leader": staff_name(tf.leader),
        "members": [staff_name(m.user) for m in tf.members.all()],
    }


@router.get("/duty/now", response=list[AreaDutyOut])
def duty_now(request: HttpRequest) -> list[dict[str, Any]]:
    _require_any(request.user, *ops.DUTY_VIEW_CAPS)
    return [
        {"area_id": g.area.pk, "area": g.area.name, "shifts": [_shift_out(s) for s in g.shifts]}
        for g in ops.on_duty_now(request.user)
    ]


@router.post("/duty/shifts", response={201: ShiftOut})
def shift_create(request: HttpRequest, payload: ShiftIn) -> Status[Any]:
    shift = services.shift_add(actor=request.user, **payload.dict())
    return Status(201, _shift_out(shift))


@router.post("/duty/handovers", response={201: HandoverOut})
def handover_create(request: HttpRequest, payload: HandoverIn) -> Status[Any]:
    note = services.handover_write(actor=request.user, **payload.dict())
    return Status(201, _handover_out(ops.access_handover_by_id(request.user, note.pk)))


@router.post("/duty/handovers/{int:handover_id}/receive", response=HandoverOut)
def handover_receive(request: HttpRequest, handover_id: int) -> Any:
    ops.access_handover_by_id(request.user, handover_id)
    services.handover_receive(actor=request.user, handover_id=handover_id)
    return _handover_out(ops.access_handover_by_id(request.user, handover_id))


@router.get("/taskforces", response=list[TaskForceOut])
@paginate(PageNumber)
def taskforce_list(request: HttpRequest) -> Any:
    _require_any(request.user, *ops.DUTY_VIEW_CAPS)
    return _Mapped(ops.taskforce_list_for(request.user).order_by("pk"), _tf_out)


@router.post("/taskforces", response={201: TaskForceOut})
def taskforce_create(request: HttpRequest, payload: TaskForceIn) -> Status[Any]:
    tf = services.taskforce_create(actor=request.user, **payload.dict())
    return Status(201, _tf_out(ops.access_taskforce_by_id(request.user, tf.pk)))


@router.get("/care/overwork", response=list[OverworkOut])
def overwork(request: HttpRequest) -> list[dict[str, Any]]:
    _require_any(request.user, "duty.manage", "hq.dashboard")
    return [
        {
            "user_id": o.user.pk,
            "staff": staff_name(o.user),
            "consecutive_days": o.consecutive_days,
            "week_hours": o.week_hours,
            "short_rests": o.short_rests,
            "too_many_days": o.too_many_days,
            "too_many_hours": o.too_many_hours,
            "rotation_planned": o.rotation_planned,
        }
        for o in ops.overwork_for(request.user, now=timezone.now())
    ]
