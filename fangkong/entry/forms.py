"""Forms of the entry pages (validation of shape only; rules live in services)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.models import Person
from fangkong.entry.models import Arrival, Checkpoint, Transfer

DATE = forms.DateInput(attrs={"type": "date"})


class RegisterForm(forms.Form):
    """The checkpoint officer's scan: the document first, then the journey."""

    checkpoint = forms.TypedChoiceField(label=_("Checkpoint"), coerce=int)
    doc_type = forms.ChoiceField(
        label=_("Document"), choices=Person.DocumentType.choices[:3], initial="prc_id"
    )
    doc_number = forms.CharField(
        label=_("Document number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )
    name = forms.CharField(label=pgettext_lazy("person", "Name"), max_length=100)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    origin = forms.CharField(label=_("Coming from"), max_length=200, required=False)
    since = forms.DateField(label=_("There since"), required=False, widget=DATE)
    traveller_class = forms.ChoiceField(
        label=_("Traveller"), choices=Arrival.TravellerClass.choices, initial="traveller"
    )
    transport = forms.ChoiceField(
        label=_("Transport"), choices=[("", "—"), *Arrival.Transport.choices], required=False
    )
    transport_number = forms.CharField(
        label=_("Flight, train or bus number"), max_length=20, required=False
    )
    plate = forms.CharField(label=_("Plate"), max_length=12, required=False)
    cargo = forms.CharField(label=_("Cargo"), max_length=100, required=False)
    stay_hours = forms.IntegerField(
        label=_("Expected stay (hours)"), min_value=0, max_value=1440, required=False
    )
    destination = forms.CharField(label=_("Address in the city"), max_length=200, required=False)


class TestForm(forms.Form):
    barcode = forms.CharField(label=_("Tube"), max_length=64)


class ReviewForm(forms.Form):
    code = forms.CharField(label=_("Administrative code"), max_length=12)


class ListUploadForm(forms.Form):
    region_code = forms.CharField(label=_("Region code"), max_length=12)
    region_name = forms.CharField(label=_("Region"), max_length=100)
    source = forms.CharField(label=_("Source"), max_length=300)
    published_at = forms.DateTimeField(
        label=_("Published at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    effective_from = forms.DateField(label=_("Effective from"), widget=DATE)
    effective_to = forms.DateField(label=_("Effective until"), required=False, widget=DATE)
    file = forms.FileField(label=_("File (CSV or JSON)"))


class TransferForm(forms.Form):
    arrivals = forms.TypedMultipleChoiceField(
        label=_("People on board"), coerce=int, widget=forms.CheckboxSelectMultiple
    )
    vehicle_plate = forms.CharField(label=_("Vehicle"), max_length=12)
    driver_name = forms.CharField(label=_("Driver"), max_length=100)
    escort_name = forms.CharField(label=_("Escort"), max_length=100, required=False)
    destination_kind = forms.ChoiceField(
        label=_("Destination"), choices=Transfer.DestinationKind.choices
    )
    destination_id = forms.TypedChoiceField(
        label=_("Quarantine site"), coerce=int, required=False, empty_value=None
    )
    destination_name = forms.CharField(label=_("Destination name"), max_length=200, required=False)
    window_minutes = forms.IntegerField(
        label=_("Allowed time (minutes)"), min_value=10, max_value=1440, initial=120
    )


class HandOverForm(forms.Form):
    destination_id = forms.IntegerField(label=_("Site number"), required=False)


class ArrivalReportForm(forms.Form):
    """The traveller's report before arriving (入并报备), on the public site."""

    from_place = forms.CharField(
        label=_("Coming from"),
        max_length=100,
        help_text=_("The city and district, for example 上海市浦东新区"),
    )
    since = forms.DateField(
        label=_("There since"),
        required=False,
        help_text=_("The first day you were there (the last 7 days at least)"),
        widget=DATE,
    )
    arrival_date = forms.DateField(label=_("Arrival date"), widget=DATE)
    transport = forms.CharField(
        label=_("Transport (flight, train, car…)"), max_length=60, required=False
    )
    destination = forms.CharField(label=_("Where you will stay in the city"), max_length=200)


class CheckpointForm(forms.Form):
    """A checkpoint registered or edited by a commander (shape only; rules in the service)."""

    name_zh = forms.CharField(label=_("Name in Chinese"), max_length=200)
    name_en = forms.CharField(label=_("Name in English"), max_length=200, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=Checkpoint.Kind.choices)
    jurisdiction = forms.TypedChoiceField(label=_("Area"), coerce=int)
    lanes = forms.IntegerField(label=_("Lanes"), min_value=0, max_value=200, initial=0)
    opens_at = forms.TimeField(
        label=_("Opens at"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    closes_at = forms.TimeField(
        label=_("Closes at"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    staff_on_duty = forms.IntegerField(
        label=_("Staff on duty"), min_value=0, max_value=10_000, initial=0
    )
    throughput_per_hour = forms.IntegerField(
        label=_("Throughput per hour"), min_value=0, max_value=1_000_000, initial=0
    )
    active = forms.BooleanField(
        label=pgettext_lazy("checkpoint", "Open"), required=False, initial=True
    )
