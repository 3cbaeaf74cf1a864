"""API of the status app.

``GET /check?token=...`` is the hottest read path in the system and is open
without authentication: the signed, daily-rotating personal token is the
credential. It answers level, colour, valid-until and the emergency line only; a
staff scanner with ``status.scan`` (session or API token) also gets the masked
name. Served from the cache (database fallback), rate-limited per client address.
"""

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router
from ninja.responses import Status

from fangkong.core import permissions
from fangkong.core.errors import NotFound
from fangkong.core.schema import Schema
from fangkong.core.selectors import access_person_by_id
from fangkong.status import selectors
from fangkong.status.check import check_response
from fangkong.status.models import ManualRequest
from fangkong.status.services import manual as manual_services

router = Router(tags=["status"])


@router.get(
    "/check",
    auth=None,
    summary="Check a personal status code",
    openapi_extra={
        "parameters": [
            {
                "in": "query",
                "name": "token",
                "required": True,
                "schema": {"type": "string"},
                "description": "The personal status token (QR payload).",
            }
        ]
    },
)
def status_check(request: HttpRequest) -> HttpResponse:
    return check_response(request)


# --- Staff -------------------------------------------------------------------------


class ReasonOut(Schema):
    id: int
    kind: str
    kind_label: str
    level: str
    level_name: str
    since: dt.datetime
    until: dt.datetime | None
    ends_how_label: str
    plain_text: str


class PersonStatusOut(Schema):
    level: str
    name: str
    colour: str
    severity: int
    valid_until: dt.datetime | None
    reasons: list[ReasonOut]


@router.get("/people/{int:person_id}", response=PersonStatusOut)
def person_status_get(request: HttpRequest, person_id: int) -> Any:
    permissions.require(request.user, "status.view")
    access_person_by_id(request.user, person_id)  # other jurisdiction -> 404
    return selectors.person_status(person_id)


class ManualIn(Schema):
    action: ManualRequest.Action
    basis: str = Field(..., max_length=40)
    source_ref: str = Field("", max_length=120)
    text: str = Field(..., max_length=4000)
    person_ids: list[int] = Field(default_factory=list, max_length=100_000)
    level: str = Field("", max_length=20)
    ends_at: dt.datetime | None = None
    reason_ids: list[int] = Field(default_factory=list, max_length=1000)


class ManualOut(Schema):
    id: int
    action: str
    state: str
    people_count: int
    level: str
    basis: str
    basis_name: str
    basis_health: bool
    source_ref: str
    text: str
    ends_at: dt.datetime | None
    bulk: bool
    requested_by: str
    decided_by: str | None
    decision_note: str


def _manual(req: ManualRequest) -> dict[str, Any]:
    return {
        "id": req.pk,
        "action": req.action,
        "state": req.state,
        "people_count": req.people_count,
        "level": req.level,
        "basis": req.basis.code,
        "basis_name": req.basis.name,
        "basis_health": req.basis.health,
        "source_ref": req.source_ref,
        "text": req.text,
        "ends_at": req.ends_at,
        "bulk": req.bulk,
        "requested_by": req.requested_by.get_username(),
        "decided_by": req.decided_by.get_username() if req.decided_by else None,
        "decision_note": req.decision_note,
    }


@router.post("/manual-requests", response={201: ManualOut})
def manual_create(request: HttpRequest, payload: ManualIn) -> Any:
    req = manual_services.manual_request_create(actor=request.user, **payload.dict())
    return Status(201, _manual(req))


@router.get("/manual-requests", response=list[ManualOut])
def manual_list(request: HttpRequest, state: str = "pending") -> Any:
    permissions.require(request.user, "status.view")
    return [_manual(r) for r in selectors.manual_requests_for(request.user, state=state)[:200]]


class DecisionIn(Schema):
    note: str = Field("", max_length=4000)


@router.post("/manual-requests/{int:request_id}/approve", response=ManualOut)
def manual_approve(request: HttpRequest, request_id: int, payload: DecisionIn) -> Any:
    return _manual(
        manual_services.manual_request_approve(
            actor=request.user, request_id=request_id, note=payload.note
        )
    )


@router.post("/manual-requests/{int:request_id}/refuse", response=ManualOut)
def manual_refuse(request: HttpRequest, request_id: int, payload: DecisionIn) -> Any:
    return _manual(
        manual_services.manual_request_refuse(
            actor=request.user, request_id=request_id, note=payload.note
        )
    )


__all__ = ["router", "NotFound"]
