"""Entry control pages: thin, one service or selector each."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from fangkong.core import permissions
from fangkong.core.forms import errors_onto
from fangkong.core.types import Actor
from fangkong.core.views import staff_page
from fangkong.entry import forms, selectors, services
from fangkong.entry.explain import ends_text, findings_text, measures_sentence
from fangkong.entry.models import Arrival, Category, Transfer
from fangkong.entry.series import series_of
from fangkong.quarantine.selectors.shared import site_choices

LIST_SIZE = 300


def _user(request: HttpRequest) -> Actor:
    user: Actor = request.user
    return user


def _caps(user: Actor) -> dict[str, bool]:
    has = permissions.has_capability
    return {
        "can_register": has(user, "entry.register"),
        "can_transfer": has(user, "entry.transfer"),
        "can_handover": has(user, "entry.handover"),
        "can_handoff": has(user, "entry.handoff"),
        "can_lists": has(user, "entry.lists"),
        "can_view": has(user, "entry.view"),
        "can_checkpoints": has(user, "entry.checkpoints"),
    }


def _choices(form: Any, name: str, choices: list[tuple[Any, str]]) -> None:
    field: Any = form.fields[name]
    field.choices = choices


def _flash(request: HttpRequest, form: Any) -> None:
    for name, errs in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for e in errs:
            messages.error(request, f"{label}: {e}" if label else str(e))


@staff_page
@require_http_methods(["GET", "POST"])
def arrivals(request: HttpRequest) -> HttpResponseBase:
    """The arrivals board of a checkpoint, with the officer's scan form on top."""
    user = _user(request)
    checkpoints = list(selectors.checkpoint_list_for(user))
    chosen = request.GET.get("checkpoint") or request.POST.get("checkpoint")
    checkpoint_id = int(chosen) if chosen and chosen.isdigit() else None
    form = forms.RegisterForm(request.POST or None, initial={"checkpoint": checkpoint_id})
    _choices(form, "checkpoint", [(c.pk, c.name) for c in checkpoints])
    caps = _caps(user)
    if request.method == "POST" and caps["can_register"] and form.is_valid():
        data = form.cleaned_data
        itinerary = []
        if data["since"] and data["origin"]:
            itinerary = [
                {"place": data["origin"], "from": data["since"], "to": timezone.localdate()}
            ]
        with errors_onto(form) as outcome:
            arrival, merged = services.arrival_register(
                actor=user,
                checkpoint_id=data["checkpoint"],
                data=services.ArrivalData(
                    doc_type=data["doc_type"],
                    doc_number=data["doc_number"],
                    name=data["name"],
                    phone=data["phone"],
                    origin=data["origin"],
                    itinerary=itinerary,
                    traveller_class=data["traveller_class"],
                    transport=data["transport"],
                    transport_number=data["transport_number"],
                    plate=data["plate"],
                    cargo=data["cargo"],
                    stay_hours=data["stay_hours"],
                    destination=data["destination"],
                ),
            )
        if outcome.ok:
            if merged:
                messages.info(
                    request, _("Already registered for this trip: the registrations are one.")
                )
            messages.success(
                request,
                _("%(name)s: %(category)s.")
                % {
                    "name": arrival.person.name if arrival.person else "",
                    "category": arrival.get_category_display(),
                },
            )
            return redirect("entry:arrival", arrival.pk)
    day = timezone.localdate()
    category = request.GET.get("category") or None
    rows = selectors.arrival_list_for(
        user, checkpoint_id=checkpoint_id, day=day, category=category
    )[:LIST_SIZE]
    board = selectors.board(user, checkpoint_id=checkpoint_id, day=day)
    return render(
        request,
        "entry/arrivals.html",
        {
            **caps,
            "form": form,
            "checkpoints": checkpoints,
            "checkpoint_id": checkpoint_id,
            "rows": rows,
            "board": board,
            "categories": [(c.value, c.label, board["counts"].get(c.value, 0)) for c in Category],
            "category": category,
            "day": day,
        },
    )


@staff_page
def arrival_detail(request: HttpRequest, arrival_id: int) -> HttpResponse:
    user = _user(request)
    arrival = selectors.access_arrival_by_id(user, arrival_id)
    return render(
        request,
        "entry/arrival.html",
        {
            **_caps(user),
            "a": arrival,
            "measures": measures_sentence(arrival) if arrival.category else "",
            "ends": ends_text(arrival) if arrival.category else "",
            "reasons": findings_text(arrival) if arrival.category else [],
            "tests": series_of([arrival])[arrival.pk],
            "stops": [
                {
                    **s,
                    "from": dt.date.fromisoformat(s["from"]),
                    "to": dt.date.fromisoformat(s["to"]),
                }
                for s in arrival.itinerary
            ],
            "test_form": forms.TestForm(),
        },
    )


@staff_page
@require_POST
def arrival_test(request: HttpRequest, arrival_id: int) -> HttpResponseBase:
    form = forms.TestForm(request.POST)
    if form.is_valid():
        with errors_onto(form) as outcome:
            services.arrival_test_sample(
                actor=_user(request), arrival_id=arrival_id, barcode=form.cleaned_data["barcode"]
            )
        if outcome.ok:
            messages.success(request, _("The tube is linked to the arrival."))
    _flash(request, form)
    return redirect("entry:arrival", arrival_id)


@staff_page
@require_http_methods(["GET", "POST"])
def transfers(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    caps = _caps(user)
    waiting = list(
        selectors.arrival_list_for(user).filter(
            state=Arrival.State.ARRIVED, category__in=["centralised_quarantine", "home_quarantine"]
        )[:LIST_SIZE]
    )
    form = forms.TransferForm(request.POST or None)
    _choices(
        form,
        "arrivals",
        [
            (a.pk, f"{a.person.name if a.person else ''} · {a.get_category_display()}")
            for a in waiting
        ],
    )
    _choices(
        form,
        "destination_id",
        [("", "—")] + [(s.id, f"{s.name} · {s.area}") for s in site_choices(user)],
    )
    if request.method == "POST" and caps["can_transfer"] and form.is_valid():
        data = form.cleaned_data
        by_checkpoint = {a.pk: a.checkpoint_id for a in waiting}
        first = data["arrivals"][0] if data["arrivals"] else 0
        with errors_onto(form) as outcome:
            services.transfer_create(
                actor=user,
                data=services.TransferData(
                    checkpoint_id=int(by_checkpoint.get(first) or 0),
                    arrival_ids=data["arrivals"],
                    vehicle_plate=data["vehicle_plate"],
                    driver_name=data["driver_name"],
                    escort_name=data["escort_name"],
                    destination_kind=data["destination_kind"],
                    destination_id=data["destination_id"],
                    destination_name=data["destination_name"],
                    window_minutes=data["window_minutes"],
                ),
            )
        if outcome.ok:
            messages.success(request, _("The transfer is planned."))
            return redirect("entry:transfers")
    now = timezone.now()
    rows = []
    for t in selectors.transfer_list_for(user)[:LIST_SIZE]:
        end = t.handed_over_at or now
        elapsed = int((end - t.departed_at).total_seconds() // 60) if t.departed_at else None
        overdue = t.escalated_at is not None and t.state == Transfer.State.DEPARTED
        rows.append({"t": t, "elapsed": elapsed, "overdue": overdue})
    return render(
        request,
        "entry/transfers.html",
        {**caps, "form": form, "rows": rows, "waiting": waiting, "hand_form": forms.HandOverForm()},
    )


@staff_page
@require_POST
def transfer_depart(request: HttpRequest, transfer_id: int) -> HttpResponseBase:
    services.transfer_depart(actor=_user(request), transfer_id=transfer_id)
    messages.success(request, _("The transfer has left; the clock runs."))
    return redirect("entry:transfers")


@staff_page
@require_POST
def transfer_hand_over(request: HttpRequest, transfer_id: int) -> HttpResponseBase:
    form = forms.HandOverForm(request.POST)
    if form.is_valid():
        with errors_onto(form) as outcome:
            services.transfer_hand_over(
                actor=_user(request),
                transfer_id=transfer_id,
                destination_id=form.cleaned_data["destination_id"],
            )
        if outcome.ok:
            messages.success(request, _("The people are handed over."))
            return redirect("entry:transfers")
    for error in form.non_field_errors():
        messages.error(request, str(error))
    _flash(request, form)
    return redirect("entry:transfers")


@staff_page
def handoffs(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    rows = list(selectors.handoff_list_for(user, open_only=False)[:LIST_SIZE])
    return render(request, "entry/handoffs.html", {**_caps(user), "rows": rows})


@staff_page
@require_POST
def handoff_accept(request: HttpRequest, handoff_id: int) -> HttpResponseBase:
    services.handoff_accept(actor=_user(request), handoff_id=handoff_id)
    messages.success(request, _("Taken over: the person is on your list."))
    return redirect("entry:handoffs")


@staff_page
@require_http_methods(["GET", "POST"])
def lists(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    caps = _caps(user)
    form = forms.ListUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and caps["can_lists"] and form.is_valid():
        data = form.cleaned_data
        with errors_onto(form) as outcome:
            services.risk_list_import(
                actor=user,
                meta=services.ListMeta(
                    region_code=data["region_code"],
                    region_name=data["region_name"],
                    source=data["source"],
                    published_at=data["published_at"],
                    effective_from=data["effective_from"],
                    effective_to=data["effective_to"],
                ),
                data=data["file"].read(),
                filename=data["file"].name,
            )
        if outcome.ok:
            messages.success(request, _("The list is imported as a draft."))
            return redirect("entry:lists")
    return render(
        request,
        "entry/lists.html",
        {
            **caps,
            "form": form,
            "rows": list(selectors.risk_lists(user)[:LIST_SIZE]),
            "expiring": list(selectors.lists_expiring(user)),
            "reviews": list(selectors.place_review_list_for(user)[:LIST_SIZE])
            if caps["can_lists"]
            else [],
            "review_form": forms.ReviewForm(),
        },
    )


@staff_page
@require_POST
def list_publish(request: HttpRequest, list_id: int) -> HttpResponseBase:
    result = services.risk_list_publish(actor=_user(request), list_id=list_id)
    messages.success(
        request,
        _("The list is in force; %(changed)s of %(checked)s recent arrivals were classified anew.")
        % {"changed": result["changed"], "checked": result["checked"]},
    )
    return redirect("entry:lists")


@staff_page
@require_POST
def list_withdraw(request: HttpRequest, list_id: int) -> HttpResponseBase:
    services.risk_list_withdraw(actor=_user(request), list_id=list_id)
    messages.success(request, _("The list is withdrawn."))
    return redirect("entry:lists")


@staff_page
@require_POST
def review_resolve(request: HttpRequest, review_id: int) -> HttpResponseBase:
    form = forms.ReviewForm(request.POST)
    if form.is_valid():
        with errors_onto(form) as outcome:
            services.place_review_resolve(
                actor=_user(request), review_id=review_id, code=form.cleaned_data["code"]
            )
        if outcome.ok:
            messages.success(request, _("The place is reviewed and the arrival classified anew."))
    _flash(request, form)
    return redirect("entry:lists")


@staff_page
@require_http_methods(["GET", "POST"])
def checkpoints(request: HttpRequest, checkpoint_id: int | None = None) -> HttpResponseBase:
    """The area's checkpoints, with the form to register one or edit the chosen one."""
    from fangkong.core.selectors import area_choices_for

    user = _user(request)
    caps = _caps(user)
    editing = (
        selectors.access_checkpoint_by_id(user, checkpoint_id, any_state=True)
        if checkpoint_id
        else None
    )
    initial: dict[str, Any] = {}
    if editing is not None:
        initial = {
            "name_zh": editing.name_zh,
            "name_en": editing.name_en,
            "kind": editing.kind,
            "jurisdiction": editing.jurisdiction_id,
            "lanes": editing.lanes,
            "opens_at": editing.opens_at,
            "closes_at": editing.closes_at,
            "staff_on_duty": editing.staff_on_duty,
            "throughput_per_hour": editing.throughput_per_hour,
            "active": editing.active,
        }
    form = forms.CheckpointForm(request.POST or None, initial=initial)
    areas = area_choices_for(user, levels_below=2, buildings=False)
    _choices(form, "jurisdiction", [(a.pk, " " * max(a.depth - 1, 0) + a.name) for a in areas])
    if request.method == "POST" and caps["can_checkpoints"] and form.is_valid():
        data = form.cleaned_data
        fields = {k: data[k] for k in CHECKPOINT_FIELDS}
        values = services.CheckpointData(jurisdiction_id=data["jurisdiction"], **fields)
        with errors_onto(form) as outcome:
            if editing is None:
                services.checkpoint_create(actor=user, data=values)
            else:
                services.checkpoint_update(
                    actor=user, checkpoint_id=editing.pk, data=values, active=data["active"]
                )
        if outcome.ok:
            messages.success(
                request,
                _("The checkpoint is registered.")
                if editing is None
                else _("The checkpoint is saved."),
            )
            return redirect("entry:checkpoints")
    return render(
        request,
        "entry/checkpoints.html",
        {
            **caps,
            "form": form,
            "editing": editing,
            "rows": list(
                selectors.checkpoint_list_for(user, any_state=True).select_related("jurisdiction")
            ),
        },
    )


CHECKPOINT_FIELDS = (
    "name_zh",
    "name_en",
    "kind",
    "lanes",
    "opens_at",
    "closes_at",
    "staff_on_duty",
    "throughput_per_hour",
)
