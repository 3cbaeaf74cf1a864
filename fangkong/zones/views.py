"""Zones pages: overview with the map, zone list and page, the declaration form
with its drawing tool, the approvals queue and the door-step request board.

Thin: validate with a form, call one service or selector, render. Domain
errors land on the form (422); outside the user's area is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import permissions
from fangkong.core.forms import errors_onto
from fangkong.core.models import Jurisdiction
from fangkong.core.views import INVALID, is_htmx, page_of, staff_page
from fangkong.status.selectors import shared as status_shared
from fangkong.zones import selectors, services
from fangkong.zones.forms import (
    ChangeForm,
    DecisionForm,
    DeclareForm,
    NoteForm,
    RequestForm,
    ResidentRequestForm,
    TeamMemberForm,
    ZoneFilterForm,
)
from fangkong.zones.models import ServiceRequest, TeamMember, Zone

ZONE_PAGE_SIZE = 25
BOARD_SIZE = 200


def _user(request: HttpRequest) -> Any:
    return request.user


def _districts(user: Any) -> list[tuple[int, str]]:
    prefix = permissions.scope_path(user) or ""
    qs = Jurisdiction.objects.filter(level="district")
    if prefix:
        qs = qs.subtree_of(prefix[:12]) if len(prefix) > 12 else qs.subtree_of(prefix)
    return [(d.pk, d.name) for d in qs.order_by("path")[:200]]


def _caps(user: Any) -> dict[str, bool]:
    return {
        "can_declare": permissions.has_capability(user, "zone.declare"),
        "can_approve": permissions.has_capability(user, "zone.approve"),
        "can_team": permissions.has_capability(user, "zone.team"),
        "can_request": permissions.has_capability(user, "service.request"),
        "can_handle": permissions.has_capability(user, "service.handle"),
    }


# --- Overview and map ---------------------------------------------------------------


@staff_page
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    zones = selectors.zone_list_for(user, state=Zone.State.ACTIVE)
    active = list(zones[:500])
    gaps = [z for z in active if not selectors.team_of(z)["complete"]][:50]
    open_requests = selectors.requests_for(user, open_only=True)
    by_level: dict[str, int] = {}
    for z in active:
        by_level[z.level.code] = by_level.get(z.level.code, 0) + 1
    levels = selectors.levels()
    return render(
        request,
        "zones/overview.html",
        {
            "levels": [(lv, by_level.get(lv.code, 0)) for lv in levels],
            "level_list": levels,
            "residents": selectors.residents_by_level_district(user),
            "gaps": gaps,
            "open_requests": open_requests.count(),
            "overdue": open_requests.filter(due_at__lt=timezone.now()).count(),
            "pending": selectors.proposals_pending_for(user).count(),
            "recommendations": selectors.recommendations_open_for(user).count(),
            **_caps(user),
        },
    )


@staff_page
@require_GET
def map_data(request: HttpRequest) -> JsonResponse:
    return JsonResponse(selectors.map_data(_user(request)))


@staff_page
@require_GET
def zone_map(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    permissions.require(user, "zone.view")
    return render(request, "zones/map.html", {"level_list": selectors.levels(), **_caps(user)})


@staff_page
@require_GET
def zone_card(request: HttpRequest, zone_id: int) -> HttpResponse:
    return render(request, "zones/_card.html", selectors.zone_card(_user(request), zone_id))


# --- List and zone page ----------------------------------------------------------------


@staff_page
@require_GET
def zone_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ZoneFilterForm(request.GET or None, districts=_districts(user))
    results = None
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        qs = selectors.zone_list_for(
            user,
            state=data.get("state") or None,
            level=data.get("level") or None,
            district_id=data.get("district"),
            q=data.get("q") or "",
        )
        results = page_of(qs, data.get("page"), ZONE_PAGE_SIZE)
    context = {"form": form, "results": results, **_caps(user)}
    if is_htmx(request):
        return render(request, "zones/_zone_results.html", context)
    return render(request, "zones/zone_list.html", context, status=200 if results else INVALID)


def _zone_context(user: Any, zone_id: int) -> dict[str, Any]:
    card = selectors.zone_card(user, zone_id)
    zone = card["zone"]
    return {
        **card,
        "unit_levels": selectors.unit_levels(zone),
        "proposals": selectors.proposals_of(zone)[:50],
        "requests": selectors.requests_for(user, zone_id=zone.pk)[:50],
        "supplies": selectors.supplies_for(user, zone.pk),
        "linked_cases": selectors.linked_cases(zone),
        "team_form": TeamMemberForm(),
        "change_form": ChangeForm(),
        **_caps(user),
    }


@staff_page
@require_GET
def zone_detail(request: HttpRequest, zone_id: int) -> HttpResponse:
    return render(request, "zones/zone_detail.html", _zone_context(_user(request), zone_id))


@staff_page
@require_POST
def zone_change(request: HttpRequest, zone_id: int) -> HttpResponseBase:
    user = _user(request)
    permissions.require(user, "zone.declare")
    form = ChangeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        with errors_onto(form) as outcome:
            services.zone_propose_change(
                actor=user,
                zone_id=zone_id,
                kind=data["kind"],
                level=data.get("level") or None,
                node_ids=data.get("units") or [],
                reason=data.get("reason") or "",
            )
        if outcome.ok:
            messages.success(request, _("The change is proposed; it takes effect when approved."))
            return redirect("zones:zone", zone_id=zone_id)
    context = _zone_context(user, zone_id)
    context["change_form"] = form
    return render(request, "zones/zone_detail.html", context, status=INVALID)


@staff_page
@require_POST
def team_add(request: HttpRequest, zone_id: int) -> HttpResponseBase:
    user = _user(request)
    form = TeamMemberForm(request.POST)
    if form.is_valid():
        with errors_onto(form) as outcome:
            services.team_member_add(actor=user, zone_id=zone_id, **form.cleaned_data)
        if outcome.ok:
            return redirect("zones:zone", zone_id=zone_id)
    context = _zone_context(user, zone_id)
    context["team_form"] = form
    return render(request, "zones/zone_detail.html", context, status=INVALID)


@staff_page
@require_POST
def team_remove(request: HttpRequest, member_id: int) -> HttpResponseBase:
    member = TeamMember.objects.filter(pk=member_id).first()
    zone_id = member.zone_id if member else 0
    services.team_member_remove(actor=_user(request), member_id=member_id)
    return redirect("zones:zone", zone_id=zone_id)


@staff_page
@require_GET
def zone_supplies(request: HttpRequest, zone_id: int) -> HttpResponse:
    return render(request, "zones/supplies.html", selectors.supplies_for(_user(request), zone_id))


# --- Declaring ------------------------------------------------------------------------


@staff_page
@require_http_methods(["GET", "POST"])
def zone_new(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    permissions.require(user, "zone.declare")
    form = DeclareForm(
        request.POST if request.method == "POST" else None, initial={"level": "high"}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with errors_onto(form) as outcome:
            proposal = services.zone_propose_declare(
                actor=user,
                name=data["name"],
                level=data["level"],
                node_ids=data.get("units") or [],
                polygon=data.get("polygon"),
                reason=data.get("reason") or "",
                case_ids=data.get("case_ids") or [],
                decision_number=data.get("decision_number") or "",
            )
        if outcome.ok:
            messages.success(
                request,
                _(
                    "The zone is proposed with %(n)s units; it takes effect when the "
                    "command approves it."
                )
                % {"n": len(proposal.node_ids)},
            )
            return redirect("zones:zone", zone_id=proposal.zone_id)
    return render(
        request,
        "zones/zone_new.html",
        {"form": form, "buildings": selectors.buildings_for_drawing(user)},
        status=INVALID if form.is_bound else 200,
    )


# --- Approvals -------------------------------------------------------------------------


@staff_page
@require_GET
def approvals(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "zones/approvals.html",
        {
            "proposals": selectors.proposals_pending_for(user)[:200],
            "recommendations": selectors.recommendations_open_for(user)[:200],
            "form": DecisionForm(),
            **_caps(user),
        },
    )


def _decide(request: HttpRequest, call: Any, ok_message: str) -> HttpResponseBase:
    form = DecisionForm(request.POST)
    if form.is_valid():
        with errors_onto(form) as outcome:
            call(form.cleaned_data)
        if outcome.ok:
            messages.success(request, ok_message)
            return redirect("zones:approvals")
    for error in form.non_field_errors() + [e for f in form.errors.values() for e in f]:
        messages.error(request, str(error))
    return redirect("zones:approvals")


@staff_page
@require_POST
def proposal_approve(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    user = _user(request)
    return _decide(
        request,
        lambda d: services.proposal_approve(
            actor=user,
            proposal_id=proposal_id,
            decision_number=d["decision_number"],
            note=d["note"],
        ),
        _("Approved: the change is in force."),
    )


@staff_page
@require_POST
def proposal_refuse(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    user = _user(request)
    return _decide(
        request,
        lambda d: services.proposal_refuse(actor=user, proposal_id=proposal_id, note=d["note"]),
        _("Refused."),
    )


@staff_page
@require_POST
def recommendation_accept(request: HttpRequest, rec_id: int) -> HttpResponseBase:
    user = _user(request)
    return _decide(
        request,
        lambda d: services.recommendation_accept(
            actor=user,
            recommendation_id=rec_id,
            decision_number=d["decision_number"],
            note=d["note"],
        ),
        _("Accepted: the zone's new level is in force."),
    )


@staff_page
@require_POST
def recommendation_dismiss(request: HttpRequest, rec_id: int) -> HttpResponseBase:
    user = _user(request)
    return _decide(
        request,
        lambda d: services.recommendation_dismiss(
            actor=user, recommendation_id=rec_id, note=d["note"]
        ),
        _("Dismissed."),
    )


# --- Door-step requests ------------------------------------------------------------------


@staff_page
@require_GET
def request_board(request: HttpRequest) -> HttpResponse:
    """The board of one team (zone) or of the whole area: open, taken, done."""
    user = _user(request)
    try:
        zone_id = int(request.GET.get("zone") or 0) or None
    except ValueError:
        zone_id = None
    zone = selectors.access_zone_by_id(user, zone_id) if zone_id else None
    mine = request.GET.get("mine") == "1"
    qs = selectors.requests_for(user, zone_id=zone_id, mine=mine)
    rows = list(qs.exclude(status__in=["confirmed", "cancelled"])[:BOARD_SIZE])
    columns = [
        ("open", _("Open"), [r for r in rows if r.status == ServiceRequest.Status.OPEN]),
        ("assigned", _("Taken"), [r for r in rows if r.status == ServiceRequest.Status.ASSIGNED]),
        (
            "done",
            _("Done, awaiting the resident"),
            [r for r in rows if r.status == ServiceRequest.Status.DONE],
        ),
    ]
    zones = selectors.zone_list_for(user, state=Zone.State.ACTIVE)[:200]
    return render(
        request,
        "zones/requests.html",
        {
            "columns": columns,
            "zone": zone,
            "zones": zones,
            "mine": mine,
            "now": timezone.now(),
            **_caps(user),
        },
    )


@staff_page
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    permissions.require(user, "service.request")
    form = RequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with errors_onto(form) as outcome:
            req = services.service_request_create(
                actor=user,
                person_id=data["person_id"],
                kind=data["kind"],
                text=data.get("text") or "",
                items=data.get("items") or [],
                via="staff",
            )
        if outcome.ok:
            messages.success(request, _("Request filed."))
            return redirect(f"{_board_url()}?zone={req.zone_id or ''}")
    return render(
        request, "zones/request_new.html", {"form": form}, status=INVALID if form.is_bound else 200
    )


def _board_url() -> str:
    from django.urls import reverse

    return reverse("zones:requests")


def _request_action(request: HttpRequest, request_id: int, call: Any) -> HttpResponseBase:
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    from fangkong.core.errors import ApplicationError, NotFound

    try:
        call(note)
    except NotFound:
        raise
    except ApplicationError as exc:
        messages.error(request, str(exc.message) + " " + " ".join(exc.fields.values()))
    back = request.POST.get("next") or _board_url()
    if not back.startswith("/"):
        back = _board_url()
    return redirect(back)


@staff_page
@require_POST
def request_assign(request: HttpRequest, request_id: int) -> HttpResponseBase:
    user = _user(request)
    return _request_action(
        request,
        request_id,
        lambda note: services.service_request_assign(actor=user, request_id=request_id),
    )


@staff_page
@require_POST
def request_complete(request: HttpRequest, request_id: int) -> HttpResponseBase:
    user = _user(request)
    return _request_action(
        request,
        request_id,
        lambda note: services.service_request_complete(
            actor=user, request_id=request_id, note=note
        ),
    )


@staff_page
@require_POST
def request_confirm(request: HttpRequest, request_id: int) -> HttpResponseBase:
    """Staff record the resident's confirmation (given by phone or at the door)."""
    user = _user(request)
    req = selectors.access_request_by_id(user, request_id)
    return _request_action(
        request,
        request_id,
        lambda note: services.service_request_confirm(
            actor=user, person_id=req.person_id, request_id=request_id, note=note
        ),
    )


# --- The resident's own request (public layout, under the portal's /me/) -------


def resident_request(request: HttpRequest) -> HttpResponseBase:
    """A resident signed in with their one-time code asks their zone's team for a
    door-step service; validation errors show on the form."""
    from django.urls import reverse

    person_id = status_shared.resident_person_id(request)
    if person_id is None:
        return redirect(reverse(status_shared.RESIDENT_LOGIN_URL_NAME) + "?next=" + request.path)
    form = ResidentRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with errors_onto(form) as outcome:
            services.service_request_create(
                actor=None,
                person_id=person_id,
                kind=form.cleaned_data["kind"],
                text=form.cleaned_data["text"],
                via="portal",
            )
        if outcome.ok:
            messages.success(request, _("Your request has been sent to your zone's team."))
            return redirect("/me/")
    return render(
        request,
        "zones/resident_request.html",
        {"form": form},
        status=INVALID if form.is_bound else 200,
    )
