"""Supplies pages: the overview (days of supply per district and per sealed zone,
this week's price alerts), warehouses with their stock, ledger and movement
forms, market prices with a chart per item, and the delivery board with the
planning and proof-of-delivery forms. Thin: validate, call one service or
selector, render."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import permissions
from fangkong.core.errors import NotFound
from fangkong.core.forms import area_choice_labels, errors_onto
from fangkong.core.selectors import area_choices_for
from fangkong.core.types import Actor
from fangkong.core.views import INVALID, staff_page
from fangkong.supplies import forms, rules, selectors, services
from fangkong.supplies.models import Delivery, Movement

ALERT_WINDOW_DAYS = 7
LEDGER_PAGE = 30


def _user(request: HttpRequest) -> Actor:
    user: Actor = request.user
    return user


def _caps(user: Actor) -> dict[str, bool]:
    return {
        "can_manage": permissions.has_capability(user, "supplies.manage"),
        "can_stock": permissions.has_capability(user, "supplies.stock"),
        "can_deliver": permissions.has_capability(user, "supplies.deliver"),
        "can_prices": permissions.has_capability(user, "supplies.prices"),
    }


# --- Overview -----------------------------------------------------------------------------


@staff_page
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    districts = selectors.days_of_supply_for(user)
    since = timezone.localdate() - dt.timedelta(days=ALERT_WINDOW_DAYS - 1)
    alerts = list(selectors.price_list_for(user, since=since, alert=True)[:50])
    flagged = list(selectors.price_list_for(user, since=since, flagged=True)[:50])
    low = [(d, i) for d in districts for i in d.items if i.level == "alert"]
    return render(
        request,
        "supplies/overview.html",
        {
            "districts": districts,
            "zones": selectors.zone_supply_for(user),
            "items": list(selectors.items()),
            "rule": rules.supply_rule(),
            "low": low,
            "alerts": alerts,
            "flagged": flagged,
            "warehouses": selectors.warehouse_list_for(user).count(),
            **_caps(user),
        },
    )


# --- Warehouses and the ledger ------------------------------------------------------------


@staff_page
@require_http_methods(["GET", "POST"])
def warehouse_list(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    areas = area_choice_labels(area_choices_for(user, levels_below=2, buildings=False))
    form = forms.WarehouseForm(request.POST or None, areas=areas)
    if request.method == "POST":
        permissions.require(user, "supplies.manage")
        if form.is_valid():
            with errors_onto(form) as outcome:
                wh = services.warehouse_create(actor=user, **form.cleaned_data)
            if outcome.ok:
                messages.success(request, _("The warehouse is registered."))
                return redirect("supplies:warehouse", warehouse_id=wh.pk)
    warehouses = list(selectors.warehouse_list_for(user))
    totals = selectors.stock_lines_for(warehouses)
    return render(
        request,
        "supplies/warehouses.html",
        {
            "rows": [(wh, totals.get(wh.pk, 0)) for wh in warehouses],
            "form": form,
            **_caps(user),
        },
        status=INVALID if request.method == "POST" else 200,
    )


MOVEMENT_FORMS = [
    ("receipt", ["item_id", "quantity", "counterpart", "note"]),
    ("issue", ["item_id", "quantity", "counterpart", "note"]),
    ("transfer", ["item_id", "quantity", "to_warehouse_id", "note"]),
    ("loss", ["item_id", "quantity", "note"]),
    ("correction", ["item_id", "quantity", "note"]),
]


def _movement_forms(
    targets: list[tuple[int, str]], bound: forms.MovementForm | None
) -> list[dict[str, Any]]:
    titles = {
        "receipt": (_("Receive stock"), _("Record the receipt"), _("From (supplier or donor)")),
        "issue": (_("Issue stock"), _("Record the issue"), _("To (who takes it)")),
        "transfer": (_("Transfer to another warehouse"), _("Record the transfer"), ""),
        "loss": (_("Record a loss"), _("Record the loss"), ""),
        "correction": (pgettext("stock count", "Count"), _("Record the count"), ""),
    }
    out = []
    for kind, fields in MOVEMENT_FORMS:
        if kind == "transfer" and not targets:
            continue
        form = (
            bound
            if bound is not None and bound.data.get("kind") == kind
            else forms.MovementForm(initial={"kind": kind}, targets=targets, prefix=None)
        )
        title, button, counterpart = titles[kind]
        if counterpart:
            form.fields["counterpart"].label = counterpart
        if kind == "correction":
            form.fields["quantity"].label = _("Counted quantity")
        out.append(
            {
                "kind": kind,
                "title": title,
                "button": button,
                "form": form,
                "fields": [form[f] for f in fields],
            }
        )
    return out


@staff_page
@require_http_methods(["GET", "POST"])
def warehouse_detail(request: HttpRequest, warehouse_id: int) -> HttpResponseBase:
    user = _user(request)
    wh = selectors.access_warehouse_by_id(user, warehouse_id)
    targets = [(w.pk, w.name) for w in selectors.warehouse_list_for(user) if w.pk != wh.pk]
    bound: forms.MovementForm | None = None
    if request.method == "POST":
        permissions.require(user, "supplies.stock")
        bound = forms.MovementForm(request.POST, targets=targets)
        if bound.is_valid():
            data = bound.cleaned_data
            if data["kind"] != Movement.Kind.TRANSFER:
                data["to_warehouse_id"] = None
            with errors_onto(bound) as outcome:
                movement = services.movement_record(
                    actor=user,
                    data=services.MovementData(warehouse_id=wh.pk, **data),
                )
            if outcome.ok:
                messages.success(
                    request,
                    _("%(kind)s of %(item)s recorded.")
                    % {"kind": movement.get_kind_display(), "item": movement.item.name},
                )
                return redirect("supplies:warehouse", warehouse_id=wh.pk)
    ledger = Paginator(selectors.movement_list_for(user, warehouse_id=wh.pk), LEDGER_PAGE)
    page = ledger.get_page(request.GET.get("page"))
    return render(
        request,
        "supplies/warehouse.html",
        {
            "warehouse": wh,
            "stock": selectors.stock_of(wh),
            "page": page,
            "movement_forms": _movement_forms(targets, bound),
            "deliveries": list(
                selectors.delivery_list_for(user).filter(
                    warehouse=wh, state__in=[Delivery.State.PLANNED, Delivery.State.DISPATCHED]
                )
            ),
            **_caps(user),
        },
        status=INVALID if bound is not None else 200,
    )


# --- Market prices ------------------------------------------------------------------------


@staff_page
@require_http_methods(["GET", "POST"])
def prices(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    items = list(selectors.items().filter(category="food")) or list(selectors.items())
    try:
        chosen = int(request.GET.get("item") or 0)
    except ValueError:
        chosen = 0
    item = next((it for it in items if it.pk == chosen), None)
    if item is None:
        alerted = selectors.price_alerts_for(user).first()
        item = next((it for it in items if alerted and it.pk == alerted.item_id), items[0])
    markets = [(m.pk, m.name) for m in selectors.market_list_for(user)]
    form = forms.PriceForm(request.POST or None, markets=markets, initial={"item_id": item.pk})
    if request.method == "POST":
        permissions.require(user, "supplies.prices")
        if form.is_valid():
            with errors_onto(form) as outcome:
                report = services.price_report(actor=user, **form.cleaned_data)
            if outcome.ok:
                if report.flagged:
                    messages.warning(
                        request,
                        _("The price is kept but flagged as impossible: %(why)s")
                        % {"why": report.flag_reason},
                    )
                elif report.alert:
                    messages.warning(
                        request, _("The price is recorded: a rise over the alert line.")
                    )
                else:
                    messages.success(request, _("The price is recorded."))
                return redirect(f"{reverse('supplies:prices')}?item={report.item_id}")
    since = timezone.localdate() - dt.timedelta(days=13)
    return render(
        request,
        "supplies/prices.html",
        {
            "items": items,
            "item": item,
            "chart": selectors.price_chart(user, item),
            "reports": list(selectors.price_list_for(user, item_id=item.pk, since=since)[:100]),
            "form": form,
            "has_markets": bool(markets),
            **_caps(user),
        },
        status=INVALID if request.method == "POST" else 200,
    )


# --- Deliveries to sealed zones -----------------------------------------------------------


@staff_page
@require_GET
def deliveries(request: HttpRequest) -> HttpResponse:
    """The delivery board: the sealed zones with their days left and waiting
    requests, and the deliveries planned, on the way and delivered lately."""
    user = _user(request)
    board = list(selectors.delivery_list_for(user)[:200])
    names = {z.id: z.name for z in selectors.supplied_zones_for(user)}
    waiting = selectors.with_kind_names(list(selectors.zone_request_list_for(user)[:100]))
    for r in waiting:
        r.zone_name = names.get(r.zone_id, "")  # type: ignore[attr-defined]
    week = timezone.now() - dt.timedelta(days=7)
    columns = [
        (Delivery.State.PLANNED, _("Planned"), [d for d in board if d.state == "planned"]),
        (Delivery.State.DISPATCHED, _("On the way"), [d for d in board if d.state == "dispatched"]),
        (
            Delivery.State.DELIVERED,
            _("Delivered this week"),
            [
                d
                for d in board
                if d.state == "delivered" and d.delivered_at and d.delivered_at >= week
            ],
        ),
    ]
    return render(
        request,
        "supplies/deliveries.html",
        {
            "zones": selectors.zone_supply_for(user),
            "columns": columns,
            "waiting": waiting,
            "now": timezone.now(),
            **_caps(user),
        },
    )


def _delivery_form(user: Actor, data: Any, zone_id: int | None) -> forms.DeliveryForm:
    zones = selectors.supplied_zones_for(user)
    chosen = zone_id if zone_id in {z.id for z in zones} else (zones[0].id if zones else None)
    waiting = selectors.zone_request_list_for(user, zone_id=chosen) if chosen else []
    return forms.DeliveryForm(
        data,
        zones=[(z.id, z.name) for z in zones],
        warehouses=[(w.pk, w.name) for w in selectors.warehouse_list_for(user)],
        requests=[
            (r.request_id, f"{getattr(r, 'kind_name', '')} · {r.wanted}")
            for r in selectors.with_kind_names(list(waiting))
        ],
        initial={"zone_id": chosen},
    )


@staff_page
@require_http_methods(["GET", "POST"])
def delivery_new(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    permissions.require(user, "supplies.deliver")
    raw = request.POST.get("zone_id") if request.method == "POST" else request.GET.get("zone")
    zone_id = int(raw) if raw and raw.isdigit() else None
    form = _delivery_form(user, request.POST or None, zone_id)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with errors_onto(form) as outcome:
            delivery = services.delivery_plan(
                actor=user,
                zone_id=data["zone_id"],
                warehouse_id=data["warehouse_id"],
                lines=form.lines(),
                days=data["days"],
                request_ids=data["request_ids"],
                planned_for=data["planned_for"],
                note=data["note"],
            )
        if outcome.ok:
            messages.success(request, _("The delivery is planned."))
            return redirect("supplies:delivery", delivery_id=delivery.pk)
    zone = selectors.zone_supply_for(user, zone_id=form.initial.get("zone_id"))
    return render(
        request,
        "supplies/delivery_new.html",
        {
            "form": form,
            "zone": zone[0] if zone else None,
            "zones": selectors.supplied_zones_for(user),
            **_caps(user),
        },
        status=INVALID if request.method == "POST" else 200,
    )


def _delivery_context(user: Actor, delivery: Delivery, **extra: Any) -> dict[str, Any]:
    held = {row["item"].pk: row["quantity"] for row in selectors.stock_of(delivery.warehouse)}
    lines = selectors.delivery_lines(delivery)
    for ln in lines:
        ln["have"] = held.get(ln["item"].pk, 0)
    return {
        "delivery": delivery,
        "lines": lines,
        "requests": selectors.with_kind_names(list(delivery.requests.order_by("due_at"))),
        "proof_form": extra.get("proof_form") or forms.ProofForm(),
        "cancel_form": extra.get("cancel_form") or forms.CancelForm(),
        **_caps(user),
    }


@staff_page
@require_GET
def delivery_detail(request: HttpRequest, delivery_id: int) -> HttpResponse:
    user = _user(request)
    delivery = selectors.access_delivery_by_id(user, delivery_id)
    return render(request, "supplies/delivery.html", _delivery_context(user, delivery))


@staff_page
@require_POST
def delivery_dispatch(request: HttpRequest, delivery_id: int) -> HttpResponseBase:
    user = _user(request)
    selectors.access_delivery_by_id(user, delivery_id)
    form = django_forms.Form({})
    with errors_onto(form) as outcome:
        services.delivery_dispatch(actor=user, delivery_id=delivery_id)
    if outcome.ok:
        messages.success(request, _("The delivery is on its way."))
    for error in form.non_field_errors():
        messages.error(request, str(error))
    return redirect("supplies:delivery", delivery_id=delivery_id)


@staff_page
@require_POST
def delivery_deliver(request: HttpRequest, delivery_id: int) -> HttpResponseBase:
    user = _user(request)
    delivery = selectors.access_delivery_by_id(user, delivery_id)
    form = forms.ProofForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        upload = data.get("photo")
        photo = None
        if upload is not None:
            if upload.size > services.MAX_PHOTO_BYTES:
                form.add_error("photo", _("The photo is at most 3 MB."))
            else:
                photo = upload.read()
        if not form.errors:
            with errors_onto(form) as outcome:
                services.delivery_record_proof(
                    actor=user,
                    delivery_id=delivery.pk,
                    received_by=data["received_by"],
                    delivered_at=data["delivered_at"],
                    proof_note=data["proof_note"],
                    photo=photo,
                )
            if outcome.ok:
                messages.success(request, _("Delivered: the stock has left the warehouse."))
                return redirect("supplies:delivery", delivery_id=delivery.pk)
    return render(
        request,
        "supplies/delivery.html",
        _delivery_context(user, delivery, proof_form=form),
        status=INVALID,
    )


@staff_page
@require_POST
def delivery_cancel(request: HttpRequest, delivery_id: int) -> HttpResponseBase:
    user = _user(request)
    delivery = selectors.access_delivery_by_id(user, delivery_id)
    form = forms.CancelForm(request.POST)
    if form.is_valid():
        with errors_onto(form) as outcome:
            services.delivery_cancel(
                actor=user, delivery_id=delivery.pk, reason=form.cleaned_data["reason"]
            )
        if outcome.ok:
            messages.success(request, _("The delivery is cancelled."))
            return redirect("supplies:delivery", delivery_id=delivery.pk)
    return render(
        request,
        "supplies/delivery.html",
        _delivery_context(user, delivery, cancel_form=form),
        status=INVALID,
    )


@staff_page
@require_GET
def delivery_photo(request: HttpRequest, delivery_id: int) -> HttpResponse:
    user = _user(request)
    delivery = selectors.access_delivery_by_id(user, delivery_id)
    photo = selectors.delivery_photo(delivery)
    if photo is None:
        raise NotFound()
    response = HttpResponse(photo[0], content_type=photo[1])
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
