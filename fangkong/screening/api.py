"""API of the screening app: rounds, sampling (scan, offline batches), custody,
lab results, coverage, the untested and reminders, tasks, sites."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router
from ninja.responses import Status

from fangkong.core.schema import Id, Patch, Schema
from fangkong.core.selectors import access_jurisdiction_by_id
from fangkong.screening import selectors
from fangkong.screening.models import Round, Task, Tube
from fangkong.screening.selectors import coverage as coverage_selectors
from fangkong.screening.services import custody, followup, reminders, results, rounds, sampling

router = Router(tags=["screening"])


# --- Schemas -------------------------------------------------------------------


class RoundIn(Schema):
    name: str = Field(max_length=200)
    area_ids: list[int]
    starts_at: dt.datetime
    ends_at: dt.datetime
    pooling_ratio: int
    target: str = "all"
    key_group_codes: list[str] = []
    lab_ids: list[int] = []


class RoundOut(Schema):
    id: int
    name: str
    target: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    pooling_ratio: int
    state: str


class TubeOpenIn(Schema):
    round_id: int
    barcode: str = Field(max_length=64)
    site_id: int | None = None
    team_id: int | None = None
    capacity: int | None = None
    retest: bool = False


class TubeOut(Schema):
    id: int
    barcode: str
    round_id: int
    capacity: int
    member_count: int
    state: str
    result: str


class ScanIn(Schema):
    barcode: str = Field(max_length=64)
    person_token: str = Field("", max_length=400)
    doc_type: str = "prc_id"
    doc_number: str = Field("", max_length=40)
    name: str = Field("", max_length=100)
    phone: str = Field("", max_length=32)
    scanned_at: dt.datetime | None = None


class ScanOut(Schema):
    tube: str
    person_id: int
    person_name: str
    added: bool
    member_count: int
    capacity: int
    warning: str


class BarcodeIn(Schema):
    barcode: str = Field(max_length=64)


class BatchIn(Schema):
    round_id: int
    site_id: int | None = None
    team_id: int | None = None
    items: list[dict[str, Any]] = Field(..., max_length=20000)


class BoxIn(Schema):
    round_id: int
    barcode: str = Field(max_length=64)
    tube_barcodes: list[str]
    lab_id: int | None = None


class HandOverIn(Schema):
    barcode: str = Field(max_length=64)
    place: str = Field("", max_length=200)


class ResultIn(Schema):
    tube: str
    result: str
    ct_values: dict[str, Any] = {}
    reported_at: str = ""


class ResultsIn(Schema):
    rows: list[ResultIn] = Field(..., max_length=100000)


class CoverageFilter(Schema):
    level: str = "grid"
    under_id: int | None = None


class ReminderIn(Schema):
    node_id: int
    rate_per_minute: int | None = None


class ExclusionIn(Schema):
    person_id: int
    reason: str
    note: str = Field("", max_length=300)


class QueueIn(Schema):
    queue_state: str


class SiteIn(Schema):
    name: str = Field(max_length=200)
    jurisdiction_id: int
    lat: float
    lon: float
    opens_at: dt.time
    closes_at: dt.time
    lanes: int = Field(1, ge=1, le=1000)
    address: str = Field("", max_length=300)
    hours_text: str = Field("", max_length=200)


class SitePatch(Patch):
    name: str | None = Field(None, max_length=200)
    lat: float | None = None
    lon: float | None = None
    opens_at: dt.time | None = None
    closes_at: dt.time | None = None
    lanes: int | None = Field(None, ge=1, le=1000)
    address: str | None = Field(None, max_length=300)
    hours_text: str | None = Field(None, max_length=200)
    active: bool | None = None


class SiteOut(Schema):
    id: int
    name: str
    jurisdiction_id: int
    address: str
    lat: float
    lon: float
    opens_at: dt.time
    closes_at: dt.time
    hours_text: str
    lanes: int
    queue_state: str
    active: bool


class LabIn(Schema):
    name: str = Field(max_length=200)
    code: str = Field(max_length=40, pattern=r"^[-a-zA-Z0-9_]+$")
    capacity_per_day: int
    jurisdiction_id: int


class LabPatch(Patch):
    name: str | None = Field(None, max_length=200)
    capacity_per_day: int | None = None
    active: bool | None = None


class LabOut(Schema):
    id: int
    name: str
    code: str
    capacity_per_day: int
    jurisdiction_id: int
    active: bool


class TeamIn(Schema):
    name: str = Field(max_length=200)
    area_id: int
    door_to_door: bool = False


class TeamPatch(Patch):
    name: str | None = Field(None, max_length=200)
    door_to_door: bool | None = None
    active: bool | None = None


class TeamOut(Schema):
    id: int
    name: str
    area_id: int
    door_to_door: bool
    active: bool


class TaskOut(Schema):
    id: int
    kind: str
    person_id: int
    team_id: int | None
    priority: int
    state: str
    due_at: dt.datetime | None
    escalation_level: int


class TaskFilter(Schema):
    round_id: int | None = None
    state: str = "open"


# --- Rounds ------------------------------------------------------------------------


@router.get("/rounds", response=list[RoundOut])
def round_list(request: HttpRequest) -> Any:
    return list(selectors.round_list_for(request.user)[:200])


@router.post("/rounds", response={201: RoundOut})
def round_create(request: HttpRequest, payload: RoundIn) -> Status[Round]:
    return Status(201, rounds.round_create(actor=request.user, **payload.dict()))


@router.get("/rounds/{int:round_id}", response=RoundOut)
def round_detail(request: HttpRequest, round_id: int) -> Round:
    return selectors.access_round_by_id(request.user, round_id)


@router.get("/rounds/{int:round_id}/coverage")
def round_coverage(request: HttpRequest, round_id: int, filters: Query[CoverageFilter]) -> Any:
    rnd = selectors.access_round_by_id(request.user, round_id)
    under = access_jurisdiction_by_id(request.user, filters.under_id) if filters.under_id else None
    rows = coverage_selectors.coverage(request.user, rnd, level=filters.level, under=under)
    return {
        "total": coverage_selectors.coverage_total(rows),
        "rows": [r.as_dict() for r in rows],
    }


@router.get("/rounds/{int:round_id}/untested")
def round_untested(request: HttpRequest, round_id: int, node_id: int) -> Any:
    rnd = selectors.access_round_by_id(request.user, round_id)
    node = access_jurisdiction_by_id(request.user, node_id)
    return coverage_selectors.untested_rows(request.user, rnd, node)


@router.post("/rounds/{int:round_id}/reminders", response={202: dict})
def round_reminders(request: HttpRequest, round_id: int, payload: ReminderIn) -> Status[Any]:
    batch = reminders.reminders_send(actor=request.user, round_id=round_id, **payload.dict())
    return Status(202, {"batch_id": batch.pk, "total": batch.total})


@router.post("/rounds/{int:round_id}/exclusions", response={201: dict})
def round_exclusion(request: HttpRequest, round_id: int, payload: ExclusionIn) -> Status[Any]:
    excl = rounds.exclusion_add(actor=request.user, round_id=round_id, **payload.dict())
    return Status(201, {"id": excl.pk, "reason": excl.reason})


@router.get("/rounds/{int:round_id}/sla")
def round_sla(request: HttpRequest, round_id: int) -> Any:
    rnd = selectors.access_round_by_id(request.user, round_id)
    return coverage_selectors.sla_board(request.user, rnd)


# --- Sampling --------------------------------------------------------------------------


@router.post("/tubes", response={201: TubeOut})
def tube_open(request: HttpRequest, payload: TubeOpenIn) -> Status[Tube]:
    return Status(201, sampling.tube_open(actor=request.user, **payload.dict()))


@router.post("/scan", response=ScanOut)
def tube_scan(request: HttpRequest, payload: ScanIn) -> Any:
    """Scan one person into an open tube (personal code, or document + name to register)."""
    return sampling.tube_scan(actor=request.user, **payload.dict())


@router.post("/tubes/close", response=TubeOut)
def tube_close(request: HttpRequest, payload: BarcodeIn) -> Tube:
    return sampling.tube_close(actor=request.user, barcode=payload.barcode)


@router.get("/tubes/{barcode}", response=TubeOut)
def tube_detail(request: HttpRequest, barcode: str) -> Tube:
    return selectors.access_tube_by_barcode(request.user, barcode)


class ChainEventOut(Schema):
    stage: str
    stage_label: str
    time: dt.datetime
    place: str
    box: str
    lab: str
    user: str
    result: str
    status: str


@router.get("/tubes/{barcode}/chain", response=list[ChainEventOut])
def tube_chain(request: HttpRequest, barcode: str) -> list[dict[str, Any]]:
    return selectors.tube_chain(request.user, barcode)


@router.post("/batches")
def batch_submit(request: HttpRequest, payload: BatchIn) -> Any:
    """Offline batch: open/scan/close operations in order; idempotent by tube +
    person + time. Every item gets an outcome."""
    report = sampling.sample_batch_submit(actor=request.user, **payload.dict())
    return report.as_dict()


# --- Custody and results -----------------------------------------------------------------


@router.post("/boxes", response={201: dict})
def box_pack(request: HttpRequest, payload: BoxIn) -> Status[Any]:
    box = custody.box_pack(actor=request.user, **payload.dict())
    return Status(201, {"id": box.pk, "barcode": box.barcode})


@router.post("/boxes/hand-over")
def box_hand_over(request: HttpRequest, payload: HandOverIn) -> Any:
    box = custody.box_hand_over(actor=request.user, **payload.dict())
    return {"id": box.pk, "handed_over_at": box.handed_over_at}


@router.post("/labs/{int:lab_id}/receive")
def box_receive(request: HttpRequest, lab_id: int, payload: BarcodeIn) -> Any:
    box = custody.box_receive(actor=request.user, lab_id=lab_id, barcode=payload.barcode)
    return {"id": box.pk, "received_at": box.received_at, "tubes": box.tubes.count()}


@router.post("/labs/{int:lab_id}/results")
def results_report(request: HttpRequest, lab_id: int, payload: ResultsIn) -> Any:
    """Results of a lab, all or nothing: malformed rows come back as
    ``error.rows`` [{row, column, message}] and nothing is imported."""
    rows = [r.dict() for r in payload.rows]
    return results.results_import(
        actor=request.user, lab_id=lab_id, rows=rows, source="api"
    ).as_dict()


# --- Tasks and sites ----------------------------------------------------------------------


@router.get("/tasks", response=list[TaskOut])
def task_list(request: HttpRequest, filters: Query[TaskFilter]) -> Any:
    rnd = selectors.access_round_by_id(request.user, filters.round_id) if filters.round_id else None
    return list(selectors.task_list_for(request.user, rnd=rnd, state=filters.state)[:500])


@router.post("/tasks/{int:task_id}/done", response=TaskOut)
def task_done(request: HttpRequest, task_id: int) -> Task:
    return followup.task_set_state(actor=request.user, task_id=task_id, state=Task.State.DONE)


@router.get("/sites", auth=None)
def site_list(request: HttpRequest, district_id: Id | None = None) -> Any:
    """Sampling sites with opening hours and live queue state (public)."""
    return selectors.public_sites(district_id=district_id)


@router.post("/sites", response={201: SiteOut})
def site_create(request: HttpRequest, payload: SiteIn) -> Status[Any]:
    return Status(201, rounds.site_create(actor=request.user, **payload.dict()))


@router.patch("/sites/{int:site_id}", response=SiteOut)
def site_update(request: HttpRequest, site_id: int, payload: SitePatch) -> Any:
    """Change a site's details; ``active: false`` takes it off the portal."""
    return rounds.site_update(actor=request.user, site_id=site_id, **payload.dict())


@router.post("/labs", response={201: LabOut})
def lab_create(request: HttpRequest, payload: LabIn) -> Status[Any]:
    return Status(201, rounds.lab_create(actor=request.user, **payload.dict()))


@router.patch("/labs/{int:lab_id}", response=LabOut)
def lab_update(request: HttpRequest, lab_id: int, payload: LabPatch) -> Any:
    return rounds.lab_update(actor=request.user, lab_id=lab_id, **payload.dict())


@router.post("/teams", response={201: TeamOut})
def team_create(request: HttpRequest, payload: TeamIn) -> Status[Any]:
    return Status(201, rounds.team_create(actor=request.user, **payload.dict()))


@router.patch("/teams/{int:team_id}", response=TeamOut)
def team_update(request: HttpRequest, team_id: int, payload: TeamPatch) -> Any:
    return rounds.team_update(actor=request.user, team_id=team_id, **payload.dict())


@router.post("/sites/{int:site_id}/queue")
def site_queue(request: HttpRequest, site_id: int, payload: QueueIn) -> Any:
    site = rounds.site_set_queue(
        actor=request.user, site_id=site_id, queue_state=payload.queue_state
    )
    return {"id": site.pk, "queue_state": site.queue_state}
