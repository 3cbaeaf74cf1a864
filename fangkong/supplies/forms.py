"""Forms of the supplies pages: input validation at the edge, nothing else."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.supplies.models import Item

MAX_QUANTITY = 1_000_000_000
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
NOTE = forms.Textarea(attrs={"rows": 2})


def item_choices() -> list[tuple[int, str]]:
    return [
        (it.pk, f"{it.name} ({it.get_unit_display()})") for it in Item.objects.filter(active=True)
    ]


class WarehouseForm(forms.Form):
    name = forms.CharField(label=_("Name of the warehouse"), max_length=200)
    jurisdiction_id = forms.TypedChoiceField(label=_("Area"), coerce=int, choices=())
    address = forms.CharField(label=_("Address"), max_length=300, required=False)

    def __init__(self, *args: Any, areas: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction_id"].choices = areas  # type: ignore[attr-defined]


class MovementForm(forms.Form):
    """One form for the four kinds of movement a warehouse page offers; the view
    says which fields each shows."""

    kind = forms.CharField(widget=forms.HiddenInput)
    item_id = forms.TypedChoiceField(
        label=pgettext_lazy("supply item", "Item"), coerce=int, choices=()
    )
    quantity = forms.IntegerField(label=_("Quantity"), min_value=0, max_value=MAX_QUANTITY)
    to_warehouse_id = forms.TypedChoiceField(
        label=_("To warehouse"), coerce=int, choices=(), required=False, empty_value=None
    )
    counterpart = forms.CharField(label=_("From / to"), max_length=200, required=False)
    note = forms.CharField(label=_("Note"), widget=NOTE, max_length=2000, required=False)

    def __init__(
        self, *args: Any, targets: list[tuple[int, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item_id"].choices = item_choices()  # type: ignore[attr-defined]
        self.fields["to_warehouse_id"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *(targets or []),
        ]


class PriceForm(forms.Form):
    market_id = forms.TypedChoiceField(label=_("Market"), coerce=int, choices=())
    item_id = forms.TypedChoiceField(
        label=pgettext_lazy("supply item", "Item"), coerce=int, choices=()
    )
    day = forms.DateField(label=_("Day"), widget=DATE, initial=timezone.localdate)
    price = forms.DecimalField(
        label=_("Price per unit (yuan)"), min_value=0, max_digits=12, decimal_places=2
    )

    def __init__(self, *args: Any, markets: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["market_id"].choices = markets  # type: ignore[attr-defined]
        self.fields["item_id"].choices = item_choices()  # type: ignore[attr-defined]


class DeliveryForm(forms.Form):
    """Plan a delivery to a sealed zone: the waiting requests it carries, or a
    planned distribution (days to cover, or quantities per item)."""

    zone_id = forms.TypedChoiceField(label=_("Sealed zone"), coerce=int, choices=())
    warehouse_id = forms.TypedChoiceField(label=_("From warehouse"), coerce=int, choices=())
    planned_for = forms.DateField(label=_("Planned for"), widget=DATE, initial=timezone.localdate)
    request_ids = forms.TypedMultipleChoiceField(
        label=_("Door-step requests it carries"),
        coerce=int,
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    days = forms.IntegerField(
        label=_("Days to cover"),
        min_value=1,
        max_value=60,
        required=False,
        help_text=_(
            "A planned distribution: what the zone's residents need for this many days. "
            "Or give the quantities below."
        ),
    )
    note = forms.CharField(label=_("Note"), widget=NOTE, max_length=2000, required=False)

    def __init__(
        self,
        *args: Any,
        zones: list[tuple[int, str]],
        warehouses: list[tuple[int, str]],
        requests: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["zone_id"].choices = zones  # type: ignore[attr-defined]
        self.fields["warehouse_id"].choices = warehouses  # type: ignore[attr-defined]
        self.fields["request_ids"].choices = requests  # type: ignore[attr-defined]
        self.items = list(Item.objects.filter(active=True))
        for it in self.items:
            self.fields[f"q_{it.pk}"] = forms.IntegerField(
                label=f"{it.name} ({it.get_unit_display()})",
                min_value=1,
                max_value=MAX_QUANTITY,
                required=False,
            )

    def item_fields(self) -> list[Any]:
        return [self[f"q_{it.pk}"] for it in self.items]

    def lines(self) -> list[tuple[int, int]]:
        return [
            (it.pk, int(self.cleaned_data[f"q_{it.pk}"]))
            for it in self.items
            if self.cleaned_data.get(f"q_{it.pk}")
        ]


class ProofForm(forms.Form):
    received_by = forms.CharField(label=_("Received by"), max_length=100)
    delivered_at = forms.DateTimeField(
        label=_("Handed over at"),
        widget=DATETIME,
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=_("Empty: now."),
    )
    photo = forms.FileField(label=_("Photo of the hand-over (JPEG or PNG)"), required=False)
    proof_note = forms.CharField(
        label=_("Signature note"),
        widget=NOTE,
        max_length=2000,
        required=False,
        help_text=_("Who signed, and where; needed when there is no photo."),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why it is cancelled"), max_length=2000)
