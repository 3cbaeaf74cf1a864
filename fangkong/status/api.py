"""API of the status app.

``GET /check?token=...`` is the hottest read path in the system and is open
without authentication: the signed, daily-rotating personal token is the
credential. It answers level, colour, valid-until and the emergency line only; a
staff scanner with ``status.scan`` (session or API token) also gets the masked
name. Served from the cache (database fallback), rate-limited per client address.
"""

import datetime as dt
import json
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status
from ninja.security import django_auth

from fangkong.api import BearerToken, HeaderToken, error_response
from fangkong.core import permissions
from fangkong.core.errors import NotFound
from fangkong.core.middleware import client_ip
from fangkong.core.models import Person
from fangkong.core.selectors import access_person_by_id
from fangkong.status import fastpath, rules, selectors
from fangkong.status.models import ManualRequest
from fangkong.status.services import manual as manual_services
from fangkong.status.tokens import person_id_from_status_token

router = Router(tags=["status"])


def mask_name(name: str) -> str:
    name = name or ""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _emergency() -> str:
    return _(
        "Medical emergencies must be admitted whatever the status: call 120 or go to the "
        "nearest emergency department."
    )


def _scanner(request: HttpRequest) -> Any:
    """A staff scanner, only when credentials are sent (phones send none)."""
    user = None
    if request.headers.get("Authorization") or request.headers.get("X-API-Token"):
        user = BearerToken()(request) or HeaderToken()(request)
    elif settings.SESSION_COOKIE_NAME in request.COOKIES:
        user = django_auth(request)
    if user and permissions.has_capability(user, "status.scan"):
        return user
    return None


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
    # The token is read directly (no schema validation on the hottest path).
    token = request.GET.get("token", "")
    pid = person_id_from_status_token(token)  # BadToken -> 400 with the field
    count, entry = fastpath.lookup(client_ip(request), pid)
    if count > rules.policy().check_rate_per_minute:
        return error_response(
            request, 429, "rate_limited", _("Too many checks from this address; wait a minute.")
        )
    if entry is not None and (entry[1] is None or entry[1] > time.time()):
        level_code, until = entry
    else:
        level_code, until = selectors.effective(pid)  # cache miss or stale: database
    lv = rules.levels().get(level_code) or rules.lowest_level()
    body: dict[str, Any] = {
        "level": lv.code,
        "name": lv.name,
        "colour": lv.colour,
        "valid_until": (
            dt.datetime.fromtimestamp(until, tz=dt.UTC).isoformat() if until is not None else None
        ),
        "emergency": _emergency(),
    }
    scanner = _scanner(request)
    if scanner is not None:
        person = (
            Person.objects.filter(pk=pid).values_list("name", "scope_path", "doc_masked").first()
        )
        if person is not None:
            body["masked_name"] = mask_name(person[0])
            body["masked_document"] = person[2]
    response = HttpResponse(json.dumps(body, ensure_ascii=False), content_type="application/json")
    response["Cache-Control"] = "no-store"
    response["Content-Language"] = get_language() or ""
    return response


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
