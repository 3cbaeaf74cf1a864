"""Words for the supplies app's audited actions, changed fields and stored
values (core.labels)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.labels import names_for, register
from fangkong.supplies.models import Delivery, Movement

register(
    actions={
        "supplies.warehouse_create": _("Warehouse registered"),
        "supplies.market_create": _("Market registered for price monitoring"),
        "supplies.movement": _("Stock movement recorded"),
        "supplies.price_report": _("Market price reported"),
        "supplies.price_correct": _("Market price corrected"),
        "supplies.delivery_plan": _("Delivery to a sealed zone planned"),
        "supplies.delivery_dispatch": _("Delivery sent on its way"),
        "supplies.delivery_deliver": _("Delivery handed over with proof"),
        "supplies.delivery_cancel": _("Delivery cancelled"),
    },
    fields={
        "warehouse": _("warehouse"),
        "to_warehouse": _("to warehouse"),
        "market": _("market"),
        "item": pgettext_lazy("supply item", "item"),
        "quantity": _("quantity"),
        "stock": _("stock"),
        "price": _("price"),
        "flagged": _("flagged as impossible"),
        "alert": _("rise alert"),
        "price_day": _("day of the price"),
        "received_by": _("received by"),
        "lines": _("items"),
        "zone": _("zone"),
        "requests": _("door-step requests"),
        "photo": _("photo"),
    },
    values={
        "kind": dict(Movement.Kind.choices),
        "state": dict(Delivery.State.choices),
        "source": dict(Delivery.Source.choices),
    },
    objects={
        "supplies.warehouse": _("warehouse"),
        "supplies.market": _("market"),
        "supplies.movement": _("stock movement"),
        "supplies.pricereport": _("price report"),
        "supplies.delivery": _("delivery"),
    },
)

# What an audit row's object is, in words (the audit page).
register(
    names=names_for(
        {
            "supplies.warehouse": ("name",),
            "supplies.market": ("name",),
            "supplies.movement": ("warehouse__name",),
            "supplies.pricereport": ("market__name",),
            "supplies.delivery": ("zone_name", "warehouse__name"),
        }
    )
)
