"""API: venues and venue codes, check-ins, co-presence matching.

``POST /checkins`` is the one endpoint open without staff authentication: a
resident's signed personal code is the credential of a self scan. Staff-assisted
scans (by ID document) need a signed-in staff member with ``checkin.assist``.
"""

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router
from ninja.errors import AuthenticationError
from ninja.pagination import paginate
from ninja.responses import Status

from fangkong.api import BearerToken, HeaderToken
from fangkong.core.apiedge import session_auth
from fangkong.core.errors import ValidationFailed
from fangkong.core.pagination import PageNumber
from fangkong.core.schema import Patch, Schema
from fangkong.investigation.models import CheckIn, Contact, ExposureMatch, Venue, VenueCode
from fangkong.investigation.selectors import checkins as checkin_selectors
from fangkong.investigation.selectors import matching as matching_selectors
from fangkong.investigation.selectors import venues as venue_selectors
from fangkong.investigation.services import checkins as checkin_services
from fangkong.investigation.services import matching as matching_services
from fangkong.investigation.services import venues as venue_services

router = Router(tags=["check-ins"])


def _staff_session(request: HttpRequest) -> Any:
    """Session sign-in (with its CSRF check) only when a session cookie is sent:
    phones scanning a venue code send none and must not meet a CSRF refusal."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return None
    return session_auth(request)


def _anonymous(request: HttpRequest) -> str:
    """Lets a request through without staff credentials (self scans)."""
    return "anonymous"


def _session_user(request: HttpRequest) -> Any:
    user = getattr(request, "user", None)
    return user if getattr(user, "is_authenticated", False) else None


# --- Schemas -------------------------------------------------------------------


class VenueOut(Schema):
    id: int
    name: str
    name_en: str
    category: str
    address: str
    building_id: int
    capacity: int


class VenueIn(Schema):
    name: str = Field(..., max_length=200)
    name_en: str = Field("", max_length=200)
    category: Venue.Category
    address: str = Field("", max_length=300)
    building_id: int
    capacity: int = Field(0, ge=0)


class VenuePatch(Patch):
    name: str | None = Field(None, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    category: Venue.Category | None = None
    address: str | None = Field(None, max_length=300)
    building_id: int | None = None
    capacity: int | None = Field(None, ge=0)
    reason: str = Field("", max_length=500)


class VenueFilter(Schema):
    q: str = ""
    category: Venue.Category | None = None


class VenueCodeOut(Schema):
    id: int
    venue_id: int
    serial: int
    key_version: int
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    revoked_reason: str


class VenueCodeIssued(VenueCodeOut):
    token: str


class RevokeIn(Schema):
    reason: str = Field(..., min_length=1, max_length=300)


class CheckInIn(Schema):
    venue_token: str = Field(..., min_length=1, max_length=400)
    person_token: str | None = Field(None, max_length=400)
    doc_type: str | None = Field(None, max_length=16)
    doc_number: str | None = Field(None, max_length=64)
    dependants: list[int | str] = Field([], max_length=checkin_services.MAX_DEPENDANTS)
    time: dt.datetime | None = None


class VisitOut(Schema):
    id: int
    extended: bool


class CheckInOut(Schema):
    venue_id: int
    venue_name: str
    time: dt.datetime
    visits: list[VisitOut]


class PersonCheckInOut(Schema):
    id: int
    venue_id: int
    venue_name: str
    time: dt.datetime
    last_scan_at: dt.datetime
    left_at: dt.datetime | None
    source: str

    @staticmethod
    def resolve_venue_name(obj: CheckIn) -> str:
        return obj.venue.name


class CheckInFilter(Schema):
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def _code_out(code: VenueCode, token: str | None = None) -> dict[str, Any]:
    out = {
        "id": code.pk,
        "venue_id": code.venue_id,
        "serial": code.serial,
        "key_version": code.key_version,
        "created_at": code.created_at,
        "revoked_at": code.revoked_at,
        "revoked_reason": code.revoked_reason,
    }
    if token is not None:
        out["token"] = token
    return out


# --- Venues --------------------------------------------------------------------


@router.get("/venues", response=list[VenueOut])
@paginate(PageNumber)
def venue_list(request: HttpRequest, filters: Query[VenueFilter]) -> Any:
    return venue_selectors.venue_list_for(request.user, q=filters.q, category=filters.category)


@router.get("/venues/{int:venue_id}", response=VenueOut)
def venue_detail(request: HttpRequest, venue_id: int) -> Venue:
    return venue_selectors.access_venue_by_id(request.user, venue_id)


@router.post("/venues", response={201: VenueOut})
def venue_create(request: HttpRequest, payload: VenueIn) -> Status[Venue]:
    return Status(201, venue_services.venue_create(actor=request.user, **payload.dict()))


@router.patch("/venues/{int:venue_id}", response=VenueOut)
def venue_update(request: HttpRequest, venue_id: int, payload: VenuePatch) -> Venue:
    data = payload.dict(exclude_unset=True)
    reason = data.pop("reason", "")
    return venue_services.venue_update(actor=request.user, venue_id=venue_id, reason=reason, **data)


@router.get("/venues/{int:venue_id}/codes", response=list[VenueCodeOut])
def venue_code_list(request: HttpRequest, venue_id: int) -> Any:
    venue = venue_selectors.access_venue_by_id(request.user, venue_id)
    return [_code_out(c) for c in venue_selectors.venue_code_list_for(request.user, venue)]


@router.post("/venues/{int:venue_id}/codes", response={201: VenueCodeIssued})
def venue_code_issue(request: HttpRequest, venue_id: int) -> Status[dict[str, Any]]:
    code, token = venue_services.venue_code_issue(actor=request.user, venue_id=venue_id)
    return Status(201, _code_out(code, token))


@router.post("/venue-codes/{int:code_id}/revoke", response=VenueCodeOut)
def venue_code_revoke(request: HttpRequest, code_id: int, payload: RevokeIn) -> dict[str, Any]:
    code = venue_services.venue_code_revoke(
        actor=request.user, code_id=code_id, reason=payload.reason
    )
    return _code_out(code)


@router.post("/venue-codes/{int:code_id}/reissue", response={201: VenueCodeIssued})
def venue_code_reissue(
    request: HttpRequest, code_id: int, payload: RevokeIn
) -> Status[dict[str, Any]]:
    code, token = venue_services.venue_code_reissue(
        actor=request.user, code_id=code_id, reason=payload.reason
    )
    return Status(201, _code_out(code, token))


@router.get("/venue-codes/{int:code_id}/qr.svg")
def venue_code_qr(request: HttpRequest, code_id: int) -> HttpResponse:
    code = venue_selectors.access_venue_code_by_id(request.user, code_id)
    if code.revoked_at is not None:
        raise ValidationFailed(_("This code is revoked; print its replacement."), code="revoked")
    svg = venue_services.venue_code_qr_svg(venue_services.venue_code_token(code))
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Content-Disposition"] = f'inline; filename="venue-{code.venue_id}-{code.serial}.svg"'
    return response


# --- Check-ins -----------------------------------------------------------------


@router.post(
    "/checkins",
    response={201: CheckInOut},
    auth=[BearerToken(), HeaderToken(), _staff_session, _anonymous],
)
def checkin_create(request: HttpRequest, payload: CheckInIn) -> HttpResponse:
    """Check in at a venue: a self scan (``person_token``, no staff sign-in needed),
    a family member with their household's ``dependants``, or a staff-assisted scan
    (``doc_type`` + ``doc_number``, staff with ``checkin.assist``)."""
    if payload.person_token:
        result = checkin_services.checkin_scan(
            venue_token=payload.venue_token,
            person_token=payload.person_token,
            dependants=payload.dependants,
            when=payload.time,
        )
    elif payload.doc_type or payload.doc_number:
        user = _session_user(request)
        if user is None:
            raise AuthenticationError()
        result = checkin_services.checkin_assist(
            actor=user,
            venue_token=payload.venue_token,
            doc_type=payload.doc_type or "",
            doc_number=payload.doc_number or "",
            when=payload.time,
        )
    else:
        raise ValidationFailed(
            fields={"person_token": _("Scan the person's code, or enter their document.")}
        )
    # The answer is built here (the service's own dataclass, nothing to validate):
    # ninja's response validation cost more CPU than the rest of this view on the
    # platform's hottest path. The schema above still documents it.
    return JsonResponse(
        {
            "venue_id": result.venue_id,
            "venue_name": result.venue_name,
            "time": result.time,
            "visits": [{"id": v.id, "extended": v.extended} for v in result.visits],
        },
        status=201,
    )


@router.get("/people/{int:person_id}/checkins", response=list[PersonCheckInOut])
@paginate(PageNumber)
def person_checkins(request: HttpRequest, person_id: int, filters: Query[CheckInFilter]) -> Any:
    return checkin_selectors.checkin_list_for_person(
        request.user, person_id, since=filters.since, until=filters.until
    )


# --- Co-presence matching --------------------------------------------------------


class MatchRunOut(Schema):
    case_id: int
    stops_examined: int
    found: int
    created: int
    updated: int


class MatchOut(Schema):
    id: int
    case_id: int
    stop_id: int
    kind: str
    person_id: int
    person_name: str
    person_doc_masked: str
    venue_id: int | None
    venue_name: str | None
    window_start: dt.datetime
    window_end: dt.datetime
    overlap_minutes: int
    found_late: bool
    revised_at: dt.datetime | None
    previous_overlap_minutes: int | None
    status: str
    decided_at: dt.datetime | None

    @staticmethod
    def resolve_person_name(obj: ExposureMatch) -> str:
        return obj.person.name

    @staticmethod
    def resolve_person_doc_masked(obj: ExposureMatch) -> str:
        return obj.person.doc_masked

    @staticmethod
    def resolve_venue_name(obj: ExposureMatch) -> str | None:
        return obj.venue.name if obj.venue else None


class MatchFilter(Schema):
    status: ExposureMatch.Status | None = None


class ConfirmIn(Schema):
    category: Contact.Category | None = None


class ConfirmOut(Schema):
    match_id: int
    contact_id: int
    category: str
    monitoring_end: dt.date | None


class DismissIn(Schema):
    reason: str = Field(..., min_length=1, max_length=500)


@router.post("/cases/{int:case_id}/match", response=MatchRunOut)
def case_match(request: HttpRequest, case_id: int) -> dict[str, Any]:
    result = matching_services.match_case(actor=request.user, case_id=case_id)
    return {
        "case_id": case_id,
        "stops_examined": result.stops_examined,
        "found": result.found,
        "created": result.created,
        "updated": result.updated,
    }


@router.get("/cases/{int:case_id}/matches", response=list[MatchOut])
@paginate(PageNumber)
def case_matches(request: HttpRequest, case_id: int, filters: Query[MatchFilter]) -> Any:
    return matching_selectors.match_list_for(request.user, case_id, status=filters.status)


@router.post("/matches/{int:match_id}/confirm", response=ConfirmOut)
def match_confirm(request: HttpRequest, match_id: int, payload: ConfirmIn) -> dict[str, Any]:
    contact = matching_services.match_confirm(
        actor=request.user, match_id=match_id, category=payload.category
    )
    return {
        "match_id": match_id,
        "contact_id": contact.pk,
        "category": contact.category,
        "monitoring_end": contact.monitoring_end,
    }


@router.post("/matches/{int:match_id}/dismiss", response=MatchOut)
def match_dismiss(request: HttpRequest, match_id: int, payload: DismissIn) -> ExposureMatch:
    match = matching_services.match_dismiss(
        actor=request.user, match_id=match_id, reason=payload.reason
    )
    return matching_selectors.access_match_by_id(request.user, match.pk)
