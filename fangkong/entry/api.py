"""API of entry control (mounted at /api/v1/entry/): a checkpoint's scan of an
arrival (registered, merged, classified in one call), an arrival's decision,
the board of the day, transfers scanned out and in, home hand-offs taken over.
Checkpoints listed, created and edited; a region's risk-area list imported
(CSV or JSON, refused whole with every row's error), put in force, withdrawn.
Thin: each endpoint validates its input and calls one service or selector;
outside the user's area is a 404."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router
from ninja.files import UploadedFile
from ninja.responses import Status

from fangkong.core.errors import ValidationFailed
from fangkong.core.schema import Schema
from fangkong.entry import selectors, services
from fangkong.entry.explain import ends_text, findings_text, measures_sentence
from fangkong.entry.models import Arrival
from fangkong.entry.series import series_of

router = Router(tags=["entry"])


class StopIn(Schema):
    place: str = Field(..., max_length=200)
    code: str = Field("", max_length=12)
    start: dt.date = Field(..., alias="from")
    end: dt.date = Field(..., alias="to")


class ArrivalIn(Schema):
    checkpoint_id: int
    doc_type: str = Field("prc_id", max_length=16)
    doc_number: str = Field(..., max_length=40)
    name: str = Field(..., max_length=100)
    phone: str = Field("", max_length=20)
    origin: str = Field("", max_length=200)
    origin_code: str = Field("", max_length=12)
    itinerary: list[StopIn] = Field(default_factory=list, max_length=60)
    traveller_class: str = Field("traveller", max_length=16)
    transport: str = Field("", max_length=8)
    transport_number: str = Field("", max_length=20)
    seat: str = Field("", max_length=12)
    plate: str = Field("", max_length=12)
    cargo: str = Field("", max_length=100)
    truck_destination: str = Field("", max_length=200)
    stay_hours: int | None = Field(None, ge=0, le=1440)
    destination: str = Field("", max_length=200)
    home_id: int | None = None


class ArrivalTestOut(Schema):
    number: int
    due_on: dt.date
    sampled: bool
    sampled_on: dt.date | None
    tube: str
    result: str = Field(description="The lab's result code; empty until it reports.")
    result_label: str


class ArrivalOut(Schema):
    id: int
    person_name: str
    document: str
    checkpoint: str
    state: str
    state_label: str
    category: str
    category_label: str
    measures: str
    ends: str
    reasons: list[str]
    rule_version: int | None
    list_versions: dict[str, int]
    tests: list[ArrivalTestOut]
    merged: bool = False


class DeviationOut(Schema):
    at: dt.datetime
    note: str


class TransferOut(Schema):
    id: int
    state: str
    state_label: str
    vehicle_plate: str
    destination: str
    handed_over_at: dt.datetime | None
    deviations: list[DeviationOut]


class DeviationIn(Schema):
    note: str = Field(..., max_length=300)


class HandOverIn(Schema):
    destination_id: int | None = None


class BoardOut(Schema):
    day: dt.date
    total: int
    waiting_transfer: int
    counts: dict[str, int]


def _arrival_out(a: Arrival, merged: bool = False) -> dict[str, Any]:
    classified = bool(a.category)
    return {
        "id": a.pk,
        "person_name": a.person.name if a.person else "",
        "document": a.person.doc_masked if a.person else "",
        "checkpoint": a.checkpoint.name if a.checkpoint else "",
        "state": a.state,
        "state_label": a.get_state_display(),
        "category": a.category,
        "category_label": a.get_category_display() if classified else "",
        "measures": measures_sentence(a) if classified else "",
        "ends": ends_text(a) if classified else "",
        "reasons": findings_text(a) if classified else [],
        "rule_version": a.rule_set_id,
        "list_versions": a.list_versions,
        "tests": [
            {
                "number": t.number,
                "due_on": t.due_on,
                "sampled": t.done,
                "sampled_on": t.sampled_on,
                "tube": t.barcode,
                "result": t.result,
                "result_label": t.result_label,
            }
            for t in series_of([a])[a.pk]
        ],
        "merged": merged,
    }


@router.post("/arrivals", response={201: ArrivalOut, 200: ArrivalOut})
def arrival_register(request: HttpRequest, payload: ArrivalIn) -> Status[Any]:
    data = payload.dict(exclude={"checkpoint_id", "itinerary"})
    itinerary = [
        {"place": s.place, "code": s.code, "from": s.start, "to": s.end} for s in payload.itinerary
    ]
    arrival, merged = services.arrival_register(
        actor=request.user,
        checkpoint_id=payload.checkpoint_id,
        data=services.ArrivalData(itinerary=itinerary, **data),
    )
    return Status(200 if merged else 201, _arrival_out(arrival, merged))


@router.get("/arrivals/{int:arrival_id}", response=ArrivalOut)
def arrival_detail(request: HttpRequest, arrival_id: int) -> dict[str, Any]:
    return _arrival_out(selectors.access_arrival_by_id(request.user, arrival_id))


class SampleIn(Schema):
    barcode: str = Field(..., max_length=64, description="The tube's barcode, as scanned.")


@router.post("/arrivals/{int:arrival_id}/tests", response={201: ArrivalOut})
def arrival_test_sample(
    request: HttpRequest, arrival_id: int, payload: SampleIn
) -> Status[dict[str, Any]]:
    """The arrival test (落地检): the arrival's next due test sampled into a tube
    (a new barcode, or a pooled arrival-test tube with room). The tube becomes a
    screening tube of the district's arrival-test round; its result shows here."""
    services.arrival_test_sample(actor=request.user, arrival_id=arrival_id, barcode=payload.barcode)
    return Status(201, _arrival_out(selectors.access_arrival_by_id(request.user, arrival_id)))


@router.get("/board", response=BoardOut)
def board(request: HttpRequest, checkpoint_id: int | None = None) -> dict[str, Any]:
    day = timezone.localdate()
    if checkpoint_id is not None:
        selectors.access_checkpoint_by_id(request.user, checkpoint_id)
    return {"day": day, **selectors.board(request.user, checkpoint_id=checkpoint_id, day=day)}


def _transfer_out(t: Any) -> dict[str, Any]:
    return {
        "id": t.pk,
        "state": t.state,
        "state_label": t.get_state_display(),
        "vehicle_plate": t.vehicle_plate,
        "destination": t.destination_name,
        "handed_over_at": t.handed_over_at,
        "deviations": [{"at": d["at"], "note": d["note"]} for d in t.deviations],
    }


@router.post("/transfers/{int:transfer_id}/depart", response=TransferOut)
def transfer_depart(request: HttpRequest, transfer_id: int) -> dict[str, Any]:
    return _transfer_out(services.transfer_depart(actor=request.user, transfer_id=transfer_id))


@router.post("/transfers/{int:transfer_id}/deviations", response=TransferOut)
def transfer_deviation(
    request: HttpRequest, transfer_id: int, payload: DeviationIn
) -> dict[str, Any]:
    return _transfer_out(
        services.transfer_deviation_record(
            actor=request.user, transfer_id=transfer_id, note=payload.note
        )
    )


@router.post("/transfers/{int:transfer_id}/hand-over", response=TransferOut)
def transfer_hand_over(
    request: HttpRequest, transfer_id: int, payload: HandOverIn
) -> dict[str, Any]:
    return _transfer_out(
        services.transfer_hand_over(
            actor=request.user, transfer_id=transfer_id, destination_id=payload.destination_id
        )
    )


# --- Checkpoints ---------------------------------------------------------------------


class CheckpointIn(Schema):
    name_zh: str = Field(..., max_length=200)
    name_en: str = Field("", max_length=200)
    kind: str = Field(..., max_length=16)
    jurisdiction_id: int
    lanes: int = Field(0, ge=0, le=200)
    opens_at: dt.time | None = None
    closes_at: dt.time | None = None
    staff_on_duty: int = Field(0, ge=0, le=10_000)
    throughput_per_hour: int = Field(0, ge=0, le=1_000_000)
    active: bool = True


class CheckpointOut(Schema):
    id: int
    name: str
    name_zh: str
    name_en: str
    kind: str
    kind_label: str
    jurisdiction_id: int
    area: str
    lanes: int
    opens_at: dt.time | None
    closes_at: dt.time | None
    staff_on_duty: int
    throughput_per_hour: int
    active: bool


def _checkpoint_out(c: Any) -> dict[str, Any]:
    return {
        "id": c.pk,
        "name": c.name,
        "name_zh": c.name_zh,
        "name_en": c.name_en,
        "kind": c.kind,
        "kind_label": c.get_kind_display(),
        "jurisdiction_id": c.jurisdiction_id,
        "area": c.jurisdiction.name,
        "lanes": c.lanes,
        "opens_at": c.opens_at,
        "closes_at": c.closes_at,
        "staff_on_duty": c.staff_on_duty,
        "throughput_per_hour": c.throughput_per_hour,
        "active": c.active,
    }


def _checkpoint_data(payload: CheckpointIn) -> services.CheckpointData:
    return services.CheckpointData(**payload.dict(exclude={"active"}))


@router.get("/checkpoints", response=list[CheckpointOut])
def checkpoint_list(request: HttpRequest) -> list[dict[str, Any]]:
    rows = selectors.checkpoint_list_for(request.user).select_related("jurisdiction")
    return [_checkpoint_out(c) for c in rows]


@router.post("/checkpoints", response={201: CheckpointOut})
def checkpoint_create(request: HttpRequest, payload: CheckpointIn) -> Status[Any]:
    checkpoint = services.checkpoint_create(actor=request.user, data=_checkpoint_data(payload))
    return Status(201, _checkpoint_out(checkpoint))


@router.put("/checkpoints/{int:checkpoint_id}", response=CheckpointOut)
def checkpoint_update(
    request: HttpRequest, checkpoint_id: int, payload: CheckpointIn
) -> dict[str, Any]:
    checkpoint = services.checkpoint_update(
        actor=request.user,
        checkpoint_id=checkpoint_id,
        data=_checkpoint_data(payload),
        active=payload.active,
    )
    return _checkpoint_out(checkpoint)


# --- Risk-area lists -----------------------------------------------------------------


class RiskListOut(Schema):
    id: int
    region_code: str
    region_name: str
    version: int
    state: str
    state_label: str
    source: str
    published_at: dt.datetime
    effective_from: dt.date
    effective_to: dt.date | None
    areas: int


class PublishOut(Schema):
    list: RiskListOut
    checked: int
    changed: int


def _list_out(r: Any) -> dict[str, Any]:
    return {
        "id": r.pk,
        "region_code": r.region_code,
        "region_name": r.region_name,
        "version": r.version,
        "state": r.state,
        "state_label": r.get_state_display(),
        "source": r.source,
        "published_at": r.published_at,
        "effective_from": r.effective_from,
        "effective_to": r.effective_to,
        "areas": r.areas.count(),
    }


@router.post("/lists/import", response={201: RiskListOut})
def list_import(
    request: HttpRequest,
    region_code: Form[str],
    region_name: Form[str],
    source: Form[str],
    published_at: Form[dt.datetime],
    effective_from: Form[dt.date],
    effective_to: Form[dt.date | None] = None,
    file: File[UploadedFile | None] = None,
) -> Status[Any]:
    """A region's list as CSV or JSON (a new draft version). A file with bad rows
    is refused whole: 400 ``import_invalid`` with every ``{row, column, message}``."""
    if file is None:
        raise ValidationFailed(fields={"file": _("Choose a file to import.")})
    risk_list = services.risk_list_import(
        actor=request.user,
        meta=services.ListMeta(
            region_code=region_code[:12],
            region_name=region_name[:100],
            source=source[:300],
            published_at=published_at,
            effective_from=effective_from,
            effective_to=effective_to,
        ),
        data=file.read(),
        filename=file.name or "",
    )
    return Status(201, _list_out(risk_list))


@router.post("/lists/{int:list_id}/publish", response=PublishOut)
def list_publish(request: HttpRequest, list_id: int) -> dict[str, Any]:
    result = services.risk_list_publish(actor=request.user, list_id=list_id)
    return {"list": _list_out(result["list"]), **{k: result[k] for k in ("checked", "changed")}}


@router.post("/lists/{int:list_id}/withdraw", response=PublishOut)
def list_withdraw(request: HttpRequest, list_id: int) -> dict[str, Any]:
    result = services.risk_list_withdraw(actor=request.user, list_id=list_id)
    return {"list": _list_out(result["list"]), **{k: result[k] for k in ("checked", "changed")}}
