"""Quarantine pages: overview with occupancy and the tier queue, sites with
their lifecycle, acceptance and rooms, the admission desk, a site's daily
monitoring sheet, stays (checks, tests, release, certificate), approvals,
orders in bulk, closed-loop staff and breach reports, hospitals and beds.

Thin: validate with a form, call one service or selector, render. Domain
errors land on the form (422) or as a message; outside the user's area is a 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import permissions
from fangkong.core.forms import area_choice_labels, errors_onto
from fangkong.core.pdf import pdf_response
from fangkong.core.selectors import area_choices_for
from fangkong.core.types import Actor
from fangkong.core.views import INVALID, post_form, staff_page, submit_form
from fangkong.investigation.selectors import shared as investigation_shared
from fangkong.investigation.selectors.shared import disease_choices
from fangkong.quarantine import forms, selectors, services
from fangkong.quarantine.models import Room, Site, Stay
from fangkong.quarantine.selectors import shared
from fangkong.quarantine.services.sites import TRANSITIONS

LIST_SIZE = 500


def _user(request: HttpRequest) -> Actor:
    user: Actor = request.user
    return user


def _caps(user: Actor) -> dict[str, bool]:
    has = permissions.has_capability
    return {
        "can_sites": has(user, "quarantine.sites"),
        "can_activate": has(user, "quarantine.activate"),
        "can_stays": has(user, "quarantine.stays"),
        "can_approve": has(user, "quarantine.approve"),
        "can_orders": has(user, "quarantine.orders"),
        "can_staff": has(user, "quarantine.staff"),
        "can_breaches": has(user, "quarantine.breaches"),
        "can_hospitals": has(user, "hospital.view"),
        "can_treat": has(user, "hospital.treat"),
        "can_manage_hospitals": has(user, "hospital.manage"),
    }


def _areas(user: Actor) -> list[tuple[int, str]]:
    nodes = [n for n in area_choices_for(user, levels_below=2, buildings=False)]
    return area_choice_labels(nodes)


# --- Overview -----------------------------------------------------------------------------


@staff_page
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    sites = list(selectors.site_list_for(user)[:LIST_SIZE])
    counts = selectors.room_counts([s.pk for s in sites])
    by_state: dict[str, list[Site]] = {s.value: [] for s in Site.State}
    for s in sites:
        by_state[s.state].append(s)
    active_sites = by_state[Site.State.ACTIVE]
    active = [
        {"site": s, "rooms": counts[s.pk], "total": sum(counts[s.pk].values())}
        for s in active_sites
    ]
    chart = {
        "sites": [s.name for s in active_sites],
        "series": [
            {"name": str(label), "code": code, "data": [counts[s.pk][code] for s in active_sites]}
            for code, label in Room.Status.choices
        ],
    }
    return render(
        request,
        "quarantine/overview.html",
        {
            "pools": shared.occupancy(user),
            "proposals": list(selectors.proposals_open_for(user)),
            "states": [(Site.State(k).label, k, v) for k, v in by_state.items()],
            "active": active,
            "chart": chart,
            "due": selectors.due_today(user),
            "queue": list(selectors.tier_queue(user)[:20]),
            "decision_form": forms.DecisionForm(),
            **_caps(user),
        },
    )


@staff_page
@require_POST
def proposal_decide(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    user = _user(request)
    return post_form(
        request,
        forms.DecisionForm(request.POST),
        lambda d: services.proposal_decide(
            actor=user, proposal_id=proposal_id, accept=d["approve"], note=d["note"]
        ),
        success=_("Decision recorded."),
        redirect_to=reverse("quarantine:overview"),
    )


# --- Sites --------------------------------------------------------------------------------


@staff_page
@require_GET
def site_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    state = request.GET.get("state") or None
    sites = list(
        selectors.site_list_for(user, state=state, q=request.GET.get("q", "")[:100])[:LIST_SIZE]
    )
    counts = selectors.room_counts([s.pk for s in sites])
    return render(
        request,
        "quarantine/sites.html",
        {
            "rows": [
                {"site": s, "rooms": counts[s.pk], "total": sum(counts[s.pk].values())}
                for s in sites
            ],
            "states": Site.State.choices,
            "state": state or "",
            **_caps(user),
        },
    )


@staff_page
@require_http_methods(["GET", "POST"])
def site_new(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    permissions.require(user, "quarantine.sites")
    form = forms.SiteForm(request.POST or None, areas=_areas(user))
    done = submit_form(
        request,
        form,
        lambda d: services.site_create(actor=user, data=services.SiteData(**d)),
        success=_("The site is registered (in reserve)."),
        redirect_to=lambda site: _back_to_site(site.pk),
    )
    if done is not None:
        return done
    status = INVALID if request.method == "POST" else 200
    return render(request, "quarantine/site_new.html", {"form": form, **_caps(user)}, status=status)


def _site_context(user: Actor, site: Site) -> dict[str, Any]:
    rooms = list(selectors.room_list_for(user, site.pk))
    occupants: dict[int, list[Stay]] = {}
    for stay in selectors.stay_list_for(user, site_id=site.pk, state=Stay.State.IN_ROOM):
        occupants.setdefault(stay.room_id or 0, []).append(stay)
    floors: dict[int, list[dict[str, Any]]] = {}
    for r in rooms:
        floors.setdefault(r.floor, []).append({"room": r, "people": occupants.get(r.pk, [])})
    counts = selectors.room_counts([site.pk])[site.pk]
    last = selectors.acceptances_of(site).first()
    return {
        "site": site,
        "floors": sorted(floors.items()),
        "counts": [(Room.Status(k).label, k, v) for k, v in counts.items()],
        "total_rooms": len(rooms),
        "waiting": list(selectors.stay_list_for(user, site_id=site.pk, state=Stay.State.PENDING)),
        "clean_rooms": [r for r in rooms if r.status == Room.Status.CLEAN][:200],
        "occupied_rooms": [r for r in rooms if r.status == Room.Status.OCCUPIED][:500],
        "next_states": [(s, s.label) for s in Site.State if s in TRANSITIONS[site.state]],
        "transitions": list(site.transitions.select_related("actor").order_by("-at", "-id")[:20]),
        "acceptance": last,
        "acceptance_results": list(last.results.all()) if last else [],
        "items": selectors.acceptance_items(),
        "due": selectors.due_today(user, site.pk),
        "staff": list(selectors.staff_of(user, site.pk)[:200]),
        "rooms_form": forms.RoomsForm(),
        "staff_form": forms.StaffForm(),
        "today": timezone.localdate(),
        **_caps(user),
    }


@staff_page
@require_GET
def site_detail(request: HttpRequest, site_id: int) -> HttpResponse:
    user = _user(request)
    site = selectors.access_site_by_id(user, site_id)
    return render(request, "quarantine/site.html", _site_context(user, site))


def _back_to_site(site_id: int, anchor: str = "") -> str:
    return reverse("quarantine:site", args=[site_id]) + (f"#{anchor}" if anchor else "")


@staff_page
@require_POST
def site_transition(request: HttpRequest, site_id: int) -> HttpResponseBase:
    user = _user(request)
    return post_form(
        request,
        forms.TransitionForm(request.POST),
        lambda d: services.site_transition(
            actor=user, site_id=site_id, to_state=d["to_state"], reason=d["reason"]
        ),
        success=_("The site's state is changed."),
        redirect_to=_back_to_site(site_id),
    )


@staff_page
@require_POST
def site_accept(request: HttpRequest, site_id: int) -> HttpResponseBase:
    user = _user(request)
    items = selectors.acceptance_items()
    results = {
        i.code: (
            request.POST.get(f"item-{i.code}") == "pass",
            request.POST.get(f"note-{i.code}", "")[:300],
        )
        for i in items
        if request.POST.get(f"item-{i.code}") in ("pass", "fail")
    }
    form = forms.NoteForm(request.POST)
    return post_form(
        request,
        form,
        lambda d: services.site_accept(
            actor=user, site_id=site_id, results=results, note=d["note"]
        ),
        success=_("The inspection is recorded."),
        redirect_to=_back_to_site(site_id, "acceptance"),
    )


@staff_page
@require_POST
def rooms_add(request: HttpRequest, site_id: int) -> HttpResponseBase:
    user = _user(request)
    return post_form(
        request,
        forms.RoomsForm(request.POST),
        lambda d: services.rooms_add(
            actor=user, site_id=site_id, rooms=services.rooms_numbered(d["floors"], d["per_floor"])
        ),
        success=_("The rooms are added."),
        redirect_to=_back_to_site(site_id, "rooms"),
    )


@staff_page
@require_POST
def room_status(request: HttpRequest, room_id: int) -> HttpResponseBase:
    user = _user(request)
    room = Room.objects.filter(pk=room_id).only("site_id").first()
    site_id = room.site_id if room else 0
    return post_form(
        request,
        forms.RoomStatusForm(request.POST),
        lambda d: services.room_set_status(actor=user, room_id=room_id, status=d["status"]),
        success=_("The room's status is changed."),
        redirect_to=_back_to_site(site_id, "rooms"),
    )


@staff_page
@require_POST
def site_allocate(request: HttpRequest, site_id: int) -> HttpResponseBase:
    user = _user(request)
    form = forms.NoteForm(request.POST)
    result: dict[str, services.Placement] = {}

    def call(_d: dict[str, Any]) -> None:
        result["p"] = services.stays_allocate(actor=user, site_id=site_id)

    response = post_form(
        request, form, call, success="", redirect_to=_back_to_site(site_id, "waiting")
    )
    if "p" in result:
        messages.info(
            request,
            _("%(placed)s people got a room; %(waiting)s are still waiting.")
            % {"placed": len(result["p"].placed), "waiting": len(result["p"].waiting)},
        )
    return response


@staff_page
@require_POST
def staff_add(request: HttpRequest, site_id: int) -> HttpResponseBase:
    user = _user(request)

    def call(d: dict[str, Any]) -> None:
        member = services.staff_add(
            actor=user,
            site_id=site_id,
            name=d["name"],
            role=d["role"],
            phone=d["phone"],
            employer=d["employer"],
        )
        if d.get("started_on"):
            services.period_start(actor=user, staff_id=member.pk, started_on=d["started_on"])

    return post_form(
        request,
        forms.StaffForm(request.POST),
        call,
        success=_("The worker is on the roster."),
        redirect_to=_back_to_site(site_id, "staff"),
    )


# --- Admission desk -----------------------------------------------------------------------


def _admit_form(data: Any = None) -> forms.AdmitForm:
    return forms.AdmitForm(
        data,
        categories=[(c.code, c.name) for c in selectors.categories()],
        diseases=disease_choices(),
    )


@staff_page
@require_http_methods(["GET", "POST"])
def admit(request: HttpRequest, site_id: int) -> HttpResponseBase:
    user = _user(request)
    permissions.require(user, "quarantine.stays")
    site = selectors.access_site_by_id(user, site_id)
    form = _admit_form(request.POST or None)
    done = submit_form(
        request,
        form,
        lambda d: services.stay_admit_by_document(
            actor=user, site_id=site.pk, data=services.OrderData(**d)
        ),
        success=_("Admitted; the person waits for a room."),
        redirect_to=lambda stay: _back_to_stay(stay.pk),
    )
    if done is not None:
        return done
    status = INVALID if request.method == "POST" else 200
    return render(
        request, "quarantine/admit.html", {"form": form, "site": site, **_caps(user)}, status=status
    )


# --- Daily monitoring sheet ---------------------------------------------------------------


def _day(value: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(value or "")
    except ValueError:
        return timezone.localdate()


@staff_page
@require_http_methods(["GET", "POST"])
def monitoring(request: HttpRequest, site_id: int) -> HttpResponseBase:
    """Record a half-day's temperature round of a whole site at once."""
    user = _user(request)
    site = selectors.access_site_by_id(user, site_id)
    day = _day(request.POST.get("day") if request.method == "POST" else request.GET.get("day"))
    now = timezone.localtime()
    slot = request.POST.get("slot") or request.GET.get("slot") or ("am" if now.hour < 12 else "pm")
    errors: dict[str, str] = {}
    if request.method == "POST":
        permissions.require(user, "quarantine.stays")
        rows: dict[int, services.CheckData] = {}
        for key in request.POST:
            value = request.POST.get(key, "")
            if key.startswith("t-") and value.strip():
                stay_id = int(key[2:]) if key[2:].isdigit() else 0
                rows[stay_id] = services.CheckData(
                    temperature=value.strip(),
                    symptoms=request.POST.getlist(f"s-{stay_id}"),
                    note=request.POST.get(f"n-{stay_id}", "")[:300],
                )
        form = forms.NoteForm({})
        with errors_onto(form) as outcome:
            done = services.health_checks_record(
                actor=user, site_id=site.pk, taken_on=day, slot=slot, rows=rows
            )
        if outcome.ok:
            messages.success(request, _("%(n)s checks recorded.") % {"n": len(done)})
            back = reverse("quarantine:monitoring", args=[site.pk])
            return redirect(f"{back}?day={day.isoformat()}&slot={slot}")
        errors = {str(e): "" for e in form.non_field_errors()}
        for name, errs in form.errors.items():
            if name != "__all__":
                errors[name] = " ".join(str(e) for e in errs)
    return render(
        request,
        "quarantine/monitoring.html",
        {
            "site": site,
            "day": day,
            "slot": slot,
            "slots": [("am", _("Morning")), ("pm", _("Afternoon"))],
            "rows": selectors.monitoring_sheet(user, site.pk, day),
            "symptoms": selectors.symptoms(),
            "errors": errors,
            "posted": request.POST if request.method == "POST" else {},
            **_caps(user),
        },
        status=INVALID if errors else 200,
    )


# --- Stays --------------------------------------------------------------------------------


@staff_page
@require_GET
def stay_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    state = request.GET.get("state") or None
    q = request.GET.get("q", "")[:100]
    stays = list(selectors.stay_list_for(user, state=state, open_only=not state, q=q)[:LIST_SIZE])
    return render(
        request,
        "quarantine/stays.html",
        {
            "stays": stays,
            "states": Stay.State.choices,
            "state": state or "",
            "q": q,
            "today": timezone.localdate(),
            **_caps(user),
        },
    )


def _destinations(user: Actor, stay: Stay) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for h in (
        selectors.hospital_list_for(user)
        if permissions.has_capability(user, "hospital.view")
        else []
    ):
        free = ", ".join(f"{b.label} {b.free}" for b in h.beds)
        out.append((f"h{h.hospital.pk}", f"{h.hospital.name} ({free})"))
    for s in shared.site_choices(user):
        if s.id != stay.site_id:
            out.append((f"s{s.id}", f"{s.label}"))
    return out


def _stay_context(user: Actor, stay: Stay, **forms_: Any) -> dict[str, Any]:
    rooms = [
        (r.pk, r.number)
        for r in Room.objects.filter(site_id=stay.site_id, status=Room.Status.OCCUPIED).order_by(
            "floor", "number"
        )[:500]
    ]
    symptoms = [(s.code, s.name) for s in selectors.symptoms()]
    return {
        "stay": stay,
        **selectors.stay_panel(stay),
        "check_form": forms_.get("check_form") or forms.CheckForm(symptoms=symptoms),
        "extend_form": forms.ExtendForm(),
        "reason_form": forms.ReasonForm(),
        "share_form": forms.ShareForm(rooms=rooms),
        "transfer_form": forms.TransferForm(destinations=_destinations(user, stay)),
        "note_form": forms.NoteForm(),
        "clean_rooms": list(
            Room.objects.filter(site_id=stay.site_id, status=Room.Status.CLEAN).order_by(
                "floor", "number"
            )[:200]
        ),
        "today": timezone.localdate(),
        **_caps(user),
    }


@staff_page
@require_http_methods(["GET", "POST"])
def stay_detail(request: HttpRequest, stay_id: int) -> HttpResponseBase:
    user = _user(request)
    stay = selectors.access_stay_by_id(user, stay_id)
    symptoms = [(s.code, s.name) for s in selectors.symptoms()]
    form = forms.CheckForm(request.POST or None, symptoms=symptoms)
    done = submit_form(
        request,
        form,
        lambda d: services.health_check_record(
            actor=user,
            stay_id=stay.pk,
            taken_on=d["taken_on"],
            slot=d["slot"],
            data=services.CheckData(
                temperature=d["temperature"], symptoms=d["symptoms"], note=d["note"]
            ),
        ),
        success=_("The check is recorded."),
        redirect_to=_back_to_stay(stay.pk),
    )
    if done is not None:
        return done
    if request.method == "POST":
        stay = selectors.access_stay_by_id(user, stay_id)
    return render(
        request,
        "quarantine/stay.html",
        _stay_context(user, stay, check_form=form if request.method == "POST" else None),
        status=INVALID if request.method == "POST" else 200,
    )


def _back_to_stay(stay_id: int, anchor: str = "") -> str:
    return reverse("quarantine:stay", args=[stay_id]) + (f"#{anchor}" if anchor else "")


@staff_page
@require_POST
def stay_room(request: HttpRequest, stay_id: int) -> HttpResponseBase:
    user = _user(request)
    form = django_forms.Form(request.POST)
    room_id = request.POST.get("room_id", "")

    def call(_d: dict[str, Any]) -> None:
        if not room_id.isdigit():
            from fangkong.core.errors import ValidationFailed

            raise ValidationFailed(fields={"room_id": _("Choose a room.")})
        services.stay_assign_room(actor=user, stay_id=stay_id, room_id=int(room_id))

    stay = selectors.access_stay_by_id(user, stay_id)
    back = (
        _back_to_site(stay.site_id, "waiting")
        if request.POST.get("back") == "site"
        else _back_to_stay(stay_id)
    )
    return post_form(request, form, call, success=_("The person has a room."), redirect_to=back)


@staff_page
@require_POST
def test_result(request: HttpRequest, test_id: int) -> HttpResponseBase:
    user = _user(request)
    stay_id = (
        int(request.POST.get("stay", "0") or 0) if request.POST.get("stay", "").isdigit() else 0
    )
    return post_form(
        request,
        forms.TestResultForm(request.POST),
        lambda d: services.stay_test_record(actor=user, test_id=test_id, result=d["result"]),
        success=_("The test result is recorded."),
        redirect_to=_back_to_stay(stay_id, "tests") if stay_id else reverse("quarantine:stays"),
    )


@staff_page
@require_POST
def stay_release(request: HttpRequest, stay_id: int) -> HttpResponseBase:
    user = _user(request)
    return post_form(
        request,
        forms.NoteForm(request.POST),
        lambda d: services.stay_release(actor=user, stay_id=stay_id, note=d["note"]),
        success=_("Released. The release certificate is ready to print."),
        redirect_to=_back_to_stay(stay_id),
    )


@staff_page
@require_POST
def stay_early_release(request: HttpRequest, stay_id: int) -> HttpResponseBase:
    user = _user(request)
    return post_form(
        request,
        forms.ReasonForm(request.POST),
        lambda d: services.release_request_early(
            actor=user, stay_id=stay_id, reason_kind=d["reason_kind"], reason=d["reason"]
        ),
        success=_("The request waits for approval."),
        redirect_to=_back_to_stay(stay_id),
    )


@staff_page
@require_POST
def stay_share(request: HttpRequest, stay_id: int) -> HttpResponseBase:
    user = _user(request)
    stay = selectors.access_stay_by_id(user, stay_id)
    rooms = [
        (r.pk, r.number)
        for r in Room.objects.filter(site_id=stay.site_id, status=Room.Status.OCCUPIED)[:500]
    ]
    return post_form(
        request,
        forms.ShareForm(request.POST, rooms=rooms),
        lambda d: services.room_share_request(
            actor=user,
            stay_id=stay_id,
            room_id=d["room_id"],
            reason_kind=d["reason_kind"],
            reason=d["reason"],
        ),
        success=_("The request waits for approval."),
        redirect_to=_back_to_stay(stay_id),
    )


@staff_page
@require_POST
def stay_extend(request: HttpRequest, stay_id: int) -> HttpResponseBase:
    user = _user(request)
    return post_form(
        request,
        forms.ExtendForm(request.POST),
        lambda d: services.stay_extend(
            actor=user, stay_id=stay_id, days=d["days"], reason=d["reason"]
        ),
        success=_("The quarantine is extended."),
        redirect_to=_back_to_stay(stay_id),
    )


@staff_page
@require_POST
def stay_transfer(request: HttpRequest, stay_id: int) -> HttpResponseBase:
    user = _user(request)
    stay = selectors.access_stay_by_id(user, stay_id)

    def call(d: dict[str, Any]) -> None:
        dest = d["destination"]
        target = int(dest[1:])
        services.stay_transfer_out(
            actor=user,
            stay_id=stay_id,
            reason=d["reason"],
            site_id=target if dest.startswith("s") else None,
            hospital_id=target if dest.startswith("h") else None,
            bed_type=d["bed_type"],
            severity=d["severity"],
        )

    return post_form(
        request,
        forms.TransferForm(request.POST, destinations=_destinations(user, stay)),
        call,
        success=_("The person is transferred out."),
        redirect_to=_back_to_stay(stay_id),
    )


@staff_page
@require_GET
def stay_certificate(request: HttpRequest, stay_id: int) -> HttpResponse:
    data, name = services.certificate_pdf(
        _user(request), stay_id, language=request.GET.get("language")
    )
    return pdf_response(data, name)


@staff_page
@require_GET
def stay_order(request: HttpRequest, stay_id: int) -> HttpResponseBase:
    """Issue (or find) the person's quarantine order and show it as PDF."""
    user = _user(request)
    language = request.GET.get("language") or None
    orders = services.orders_issue(actor=user, stay_ids=[stay_id], language=language)
    return pdf_response(services.orders_pdf(orders), f"{orders[0].number}.pdf")


# --- Approvals ----------------------------------------------------------------------------


@staff_page
@require_GET
def approvals(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "quarantine/approvals.html",
        {
            "approvals": list(selectors.approvals_for(user)[:200]),
            "form": forms.DecisionForm(),
            **_caps(user),
        },
    )


@staff_page
@require_POST
def approval_decide(request: HttpRequest, approval_id: int) -> HttpResponseBase:
    user = _user(request)
    return post_form(
        request,
        forms.DecisionForm(request.POST),
        lambda d: services.approval_decide(
            actor=user, approval_id=approval_id, approve=d["approve"], note=d["note"]
        ),
        success=_("Decision recorded."),
        redirect_to=reverse("quarantine:approvals"),
    )


# --- Orders in bulk -----------------------------------------------------------------------


@staff_page
@require_http_methods(["GET", "POST"])
def orders(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    permissions.require(user, "quarantine.orders")
    site_id = request.GET.get("site") or request.POST.get("site") or ""
    sites = list(selectors.site_list_for(user, state=Site.State.ACTIVE)[:LIST_SIZE])
    stays = (
        list(selectors.stay_list_for(user, site_id=int(site_id), open_only=True)[:5000])
        if site_id.isdigit()
        else []
    )
    form = forms.OrdersForm(request.POST or None, stays=[(s.pk, s.person.name) for s in stays])
    if request.method == "POST" and form.is_valid():
        with errors_onto(form) as outcome:
            issued = services.orders_issue(
                actor=user,
                stay_ids=form.cleaned_data["stay_ids"],
                language=form.cleaned_data["language"] or None,
            )
        if outcome.ok:
            return pdf_response(
                services.orders_pdf(issued), f"orders-{len(issued)}.pdf", inline=False
            )
    return render(
        request,
        "quarantine/orders.html",
        {"form": form, "sites": sites, "site_id": site_id, "stays": stays, **_caps(user)},
        status=INVALID if request.method == "POST" else 200,
    )


# --- Staff and breaches -------------------------------------------------------------------


@staff_page
@require_http_methods(["GET", "POST"])
def staff(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    selectors.scope_of(user)
    sites = [(s.pk, s.name) for s in selectors.site_list_for(user)[:LIST_SIZE]]
    workers = [
        (m.pk, f"{m.name} · {m.get_role_display()} · {m.site.name}")
        for m in selectors.staff_list_for(user)[:LIST_SIZE]
    ]
    form = forms.BreachForm(request.POST or None, sites=sites, workers=workers)
    done = submit_form(
        request,
        form,
        lambda d: services.breach_report(
            actor=user,
            site_id=d["site_id"] or None,
            kind=d["kind"],
            occurred_at=d["occurred_at"],
            description=d["description"],
            staff_ids=d["staff_ids"],
        ),
        success=_("The breach is reported."),
        redirect_to="quarantine:staff",
    )
    if done is not None:
        return done
    today = timezone.localdate()
    periods = list(selectors.periods_for(user)[:LIST_SIZE])
    breaches = list(selectors.breaches_for(user)[:200])
    inquiries = investigation_shared.breach_inquiry_states(user, [b.pk for b in breaches])
    return render(
        request,
        "quarantine/staff.html",
        {
            "on_site": [p for p in periods if p.state == "on_site"],
            "monitoring": [p for p in periods if p.state == "monitoring"],
            # Rotated workers with an alarming check or a positive test.
            "fever": {p.pk for p in periods if any(c.alarming for c in p.checks.all())},
            "positive": {
                p.pk for p in periods if any(t.result == "positive" for t in p.tests.all())
            },
            "breaches": [(b, inquiries.get(b.pk)) for b in breaches],
            "form": form,
            "rotate_form": forms.RotateForm(initial={"left_on": today}),
            "update_form": forms.BreachUpdateForm(),
            "today": today,
            **_caps(user),
        },
        status=INVALID if request.method == "POST" else 200,
    )


@staff_page
@require_POST
def period_rotate(request: HttpRequest, period_id: int) -> HttpResponseBase:
    user = _user(request)
    return post_form(
        request,
        forms.RotateForm(request.POST),
        lambda d: services.period_rotate(actor=user, period_id=period_id, left_on=d["left_on"]),
        success=_("Rotated: the worker's health monitoring has begun."),
        redirect_to=reverse("quarantine:staff"),
    )


@staff_page
@require_POST
def period_check(request: HttpRequest, period_id: int) -> HttpResponseBase:
    """A rotated worker's temperature during their monitoring after rotation."""
    user = _user(request)
    return post_form(
        request,
        forms.StaffCheckForm(request.POST),
        lambda d: services.staff_check_record(
            actor=user,
            period_id=period_id,
            taken_on=d["taken_on"],
            slot=d["slot"],
            data=services.CheckData(temperature=d["temperature"]),
        ),
        success=_("The check is recorded."),
        redirect_to=reverse("quarantine:staff"),
    )


@staff_page
@require_POST
def staff_test(request: HttpRequest, test_id: int) -> HttpResponseBase:
    user = _user(request)
    return post_form(
        request,
        forms.StaffTestForm(request.POST),
        lambda d: services.staff_test_record(actor=user, test_id=test_id, result=d["result"]),
        success=_("The test result is recorded."),
        redirect_to=reverse("quarantine:staff"),
    )


@staff_page
@require_POST
def breach_update(request: HttpRequest, breach_id: int) -> HttpResponseBase:
    user = _user(request)
    return post_form(
        request,
        forms.BreachUpdateForm(request.POST),
        lambda d: services.breach_update(actor=user, breach_id=breach_id, **d),
        success=_("The breach report is updated."),
        redirect_to=reverse("quarantine:staff"),
    )


# --- Hospitals ----------------------------------------------------------------------------


@staff_page
@require_http_methods(["GET", "POST"])
def hospitals(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    rows = selectors.hospital_list_for(user)
    form = forms.HospitalForm(request.POST or None, areas=_areas(user))
    done = submit_form(
        request,
        form,
        lambda d: services.hospital_create(
            actor=user,
            name=d["name"],
            kind=d["kind"],
            jurisdiction_id=d["jurisdiction_id"],
            address=d["address"],
            beds={"general": d["general_beds"], "icu": d["icu_beds"]},
        ),
        success=_("The hospital is registered."),
        redirect_to="quarantine:hospitals",
    )
    if done is not None:
        return done
    chart = {
        "hospitals": [r.hospital.name for r in rows],
        "series": [
            {
                "name": b.label,
                "used": [r.beds[i].used for r in rows],
                "free": [r.beds[i].free for r in rows],
            }
            for i, b in enumerate(rows[0].beds if rows else [])
        ],
    }
    return render(
        request,
        "quarantine/hospitals.html",
        {"rows": rows, "form": form, "chart": chart, **_caps(user)},
        status=INVALID if request.method == "POST" else 200,
    )


@staff_page
@require_http_methods(["GET", "POST"])
def hospital_detail(request: HttpRequest, hospital_id: int) -> HttpResponseBase:
    user = _user(request)
    hospital = selectors.access_hospital_by_id(user, hospital_id)
    form = forms.PatientForm(request.POST or None)
    done = submit_form(
        request,
        form,
        lambda d: services.patient_admit(
            actor=user,
            hospital_id=hospital.pk,
            person_id=d["person_id"],
            bed_type=d["bed_type"],
            severity=d["severity"],
            note=d["note"],
        ),
        success=_("The patient is admitted."),
        redirect_to=reverse("quarantine:hospital", args=[hospital.pk]),
    )
    if done is not None:
        return done
    row = next((r for r in selectors.hospital_list_for(user) if r.hospital.pk == hospital.pk), None)
    patients = list(selectors.admissions_for(user, hospital_id=hospital.pk)[:LIST_SIZE])
    # The case each patient is treated for, as investigation numbers it.
    cases = investigation_shared.case_labels([a.case_id for a in patients if a.case_id])
    others = [
        (h.hospital.pk, h.hospital.name)
        for h in selectors.hospital_list_for(user)
        if h.hospital.pk != hospital.pk
    ]
    return render(
        request,
        "quarantine/hospital.html",
        {
            "hospital": hospital,
            "row": row,
            "patients": [(a, cases.get(a.case_id or 0)) for a in patients],
            "form": form,
            "severity_form": forms.SeverityForm(),
            "discharge_form": forms.DischargeForm(),
            "others": others,
            **_caps(user),
        },
        status=INVALID if request.method == "POST" else 200,
    )


def _back_to_hospital(user: Actor, admission_id: int) -> str:
    adm = selectors.access_admission_by_id(user, admission_id)
    return reverse("quarantine:hospital", args=[adm.hospital_id])


@staff_page
@require_POST
def patient_severity(request: HttpRequest, admission_id: int) -> HttpResponseBase:
    user = _user(request)
    back = _back_to_hospital(user, admission_id)
    return post_form(
        request,
        forms.SeverityForm(request.POST),
        lambda d: services.patient_set_severity(actor=user, admission_id=admission_id, **d),
        success=_("The severity is recorded."),
        redirect_to=back,
    )


@staff_page
@require_POST
def patient_transfer(request: HttpRequest, admission_id: int) -> HttpResponseBase:
    user = _user(request)
    back = _back_to_hospital(user, admission_id)
    target = request.POST.get("hospital_id", "")

    def call(d: dict[str, Any]) -> None:
        services.patient_transfer(
            actor=user,
            admission_id=admission_id,
            hospital_id=int(target) if target.isdigit() else 0,
            note=d["note"],
        )

    return post_form(
        request,
        forms.NoteForm(request.POST),
        call,
        success=_("The patient is transferred."),
        redirect_to=back,
    )


@staff_page
@require_POST
def patient_discharge(request: HttpRequest, admission_id: int) -> HttpResponseBase:
    user = _user(request)
    back = _back_to_hospital(user, admission_id)
    return post_form(
        request,
        forms.DischargeForm(request.POST),
        lambda d: services.patient_discharge(actor=user, admission_id=admission_id, **d),
        success=_("The patient has left the hospital."),
        redirect_to=back,
    )
