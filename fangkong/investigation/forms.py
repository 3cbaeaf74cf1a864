"""Forms of the investigation pages: input validation at the edge, nothing else.
Field names follow the service arguments, so a service's ``ValidationFailed``
lands on the right field (``core.forms.add_application_errors``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.models import Jurisdiction, Person
from fangkong.investigation.models import BreachInquiry, Case, Contact, FollowUp, TravelRecord

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


def _with_blank(choices: Any, label: Any) -> list[tuple[str, Any]]:
    return [("", label), *list(choices)]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class CaseFilterForm(forms.Form):
    q = forms.CharField(
        label=pgettext_lazy("case", "Case number"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    classification = forms.ChoiceField(
        label=pgettext_lazy("case", "Classification"),
        required=False,
        choices=_with_blank(Case.Classification.choices, _("Any")),
    )
    status = forms.ChoiceField(
        label=_("Investigation status"),
        required=False,
        choices=_with_blank(Case.InvestigationStatus.choices, _("Any")),
    )
    district = forms.TypedChoiceField(
        label=_("District"), required=False, coerce=int, empty_value=None
    )
    disease = forms.ChoiceField(label=_("Disease"), required=False)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, districts: list[Jurisdiction], diseases: list[Any], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        district: Any = self.fields["district"]
        district.choices = [("", _("Everywhere I can see"))] + [(d.pk, d.name) for d in districts]
        disease: Any = self.fields["disease"]
        disease.choices = [("", _("Any"))] + [(d.code, d.name) for d in diseases]


class PersonSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Find the person"),
        required=False,
        max_length=64,
        help_text=_("Name (beginning), or a full ID or phone number."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class CaseCreateForm(forms.Form):
    """A case for a registered person (``person_id``), or for a person registered
    here in the same step (document, name, phone)."""

    person_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    doc_type = forms.ChoiceField(
        label=_("Document type"),
        required=False,
        choices=[
            (v, label)
            for v, label in Person.DocumentType.choices
            if v != Person.DocumentType.LINE_LIST
        ],
    )
    doc_number = forms.CharField(label=_("Document number"), required=False, max_length=64)
    name = forms.CharField(label=pgettext_lazy("person", "Name"), required=False, max_length=100)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=32)
    disease_code = forms.ChoiceField(label=_("Disease"))
    classification = forms.ChoiceField(
        label=pgettext_lazy("case", "Classification"),
        choices=[
            (v, label)
            for v, label in Case.Classification.choices
            if v != Case.Classification.EXCLUDED
        ],
    )
    report_date = forms.DateField(label=_("Report date"), widget=DateInput())
    onset_date = forms.DateField(label=_("Onset date"), required=False, widget=DateInput())
    first_positive_date = forms.DateField(
        label=_("First positive sample"), required=False, widget=DateInput()
    )
    found_by = forms.ChoiceField(label=_("How found"), choices=Case.FoundBy.choices)
    reporting_unit = forms.CharField(label=_("Reporting unit"), required=False, max_length=200)
    severity = forms.ChoiceField(label=_("Severity"), choices=Case.Severity.choices)
    treatment_facility = forms.ChoiceField(
        label=_("Treatment facility"), choices=Case.Facility.choices
    )

    def __init__(self, *args: Any, diseases: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        disease: Any = self.fields["disease_code"]
        disease.choices = [(d.code, d.name) for d in diseases]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("person_id"):
            if not (data.get("doc_number") or "").strip():
                self.add_error(
                    "doc_number",
                    _("Choose a person found above, or give the document number to register."),
                )
            if not (data.get("name") or "").strip():
                self.add_error("name", _("A name is required."))
        return data


class ClassifyForm(forms.Form):
    classification = forms.ChoiceField(
        label=pgettext_lazy("case", "Classification"), choices=Case.Classification.choices
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=500,
        help_text=_("Required to exclude a case."),
    )


class InvestigationForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Investigation status"), choices=Case.InvestigationStatus.choices
    )
    investigator_id = forms.TypedChoiceField(
        label=_("Investigator"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, investigators: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["investigator_id"]
        field.choices = [("", _("Nobody yet"))] + [
            (u.pk, getattr(getattr(u, "staff", None), "display_name", "") or u.get_username())
            for u in investigators
        ]


class StopForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind of stop"),
        choices=[
            ("venue", _("Registered venue")),
            ("address", _("Other address")),
            ("transport", _("Transport")),
        ],
        widget=forms.RadioSelect,
        initial="venue",
    )
    venue_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    address = forms.CharField(label=_("Address"), required=False, max_length=300)
    grid_id = forms.TypedChoiceField(
        label=_("Grid or building"), required=False, coerce=int, empty_value=None
    )
    transport_mode = forms.ChoiceField(
        label=_("Mode"),
        required=False,
        choices=_with_blank(TravelRecord.Mode.choices, "—"),
    )
    transport_number = forms.CharField(
        label=_("Flight, train or line number"), required=False, max_length=20
    )
    carriage = forms.CharField(label=_("Carriage"), required=False, max_length=8)
    seat = forms.CharField(label=_("Seat"), required=False, max_length=8)
    start = forms.DateTimeField(
        label=_("From"), input_formats=DATETIME_FORMATS, widget=DateTimeInput()
    )
    end = forms.DateTimeField(
        label=_("Until"), input_formats=DATETIME_FORMATS, widget=DateTimeInput()
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, grids: list[Jurisdiction], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["grid_id"]
        field.choices = [("", "—")] + [(g.pk, g.name) for g in grids]


class ContactForm(forms.Form):
    person_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    source_contact_id = forms.TypedChoiceField(
        label=_("Exposed to"), required=False, coerce=int, empty_value=None
    )
    exposure_type = forms.ChoiceField(
        label=_("Exposure"), choices=Contact.ExposureType.choices, initial="household"
    )
    relation = forms.CharField(label=_("Relation"), required=False, max_length=100)
    first_exposure = forms.DateField(label=_("First exposure"), widget=DateInput())
    last_exposure = forms.DateField(label=_("Last exposure"), widget=DateInput())
    continuous_exposure = forms.BooleanField(
        label=_("Continuous exposure (cannot be separated from the case)"), required=False
    )
    frequency = forms.CharField(label=_("Frequency"), required=False, max_length=100)
    certainty = forms.CharField(label=_("Certainty"), required=False, max_length=20)
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, close_contacts: list[Contact], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["source_contact_id"]
        field.choices = [("", _("The case itself (close contact)"))] + [
            (
                c.pk,
                _("%(name)s, close contact (secondary contact)") % {"name": c.person.name},
            )
            for c in close_contacts
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("person_id"):
            self.add_error("person_id", _("Choose the person in the search above."))
        return data


class DismissForm(forms.Form):
    reason = forms.CharField(label=_("Why dismiss?"), max_length=500)


class FollowUpForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Result"),
        choices=[
            (FollowUp.Status.SEEN_WELL, FollowUp.Status.SEEN_WELL.label),
            (FollowUp.Status.SEEN_WITH_SYMPTOMS, FollowUp.Status.SEEN_WITH_SYMPTOMS.label),
            (FollowUp.Status.NOT_REACHED, FollowUp.Status.NOT_REACHED.label),
        ],
        widget=forms.RadioSelect,
    )
    symptoms = forms.CharField(
        label=_("Symptoms"),
        required=False,
        max_length=300,
        help_text=_("Separate several with commas."),
    )
    temperature = forms.DecimalField(
        label=_("Temperature (°C)"),
        required=False,
        max_digits=4,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )

    def symptom_list(self) -> list[str]:
        raw = self.cleaned_data.get("symptoms") or ""
        return [
            s.strip() for s in raw.replace("，", ",").replace("、", ",").split(",") if s.strip()
        ]


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Case.Outcome.choices)
    outcome_date = forms.DateField(label=_("Date of the outcome"), required=False, widget=DateInput)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)


class ReleaseForm(forms.Form):
    released_at = forms.DateField(label=_("Released on"), widget=DateInput)


class RulesVersionForm(forms.Form):
    """A new version of a disease's rules; prefilled from the latest version."""

    effective_from = forms.DateField(label=_("Effective from"), widget=DateInput)
    source_document = forms.CharField(
        label=_("Source document"),
        max_length=300,
        help_text=_("The protocol or regulation these values come from."),
    )
    classifications = forms.MultipleChoiceField(
        label=_("Case classifications"),
        choices=Case.Classification.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    reason = forms.CharField(label=_("Reason for the change"), required=False, max_length=500)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from fangkong.investigation.models import DiseaseRules
        from fangkong.investigation.services.rules import RULE_PARAMETERS

        super().__init__(*args, **kwargs)
        for name, (low, high) in RULE_PARAMETERS.items():
            self.fields[name] = forms.IntegerField(
                label=getattr(DiseaseRules._meta.get_field(name), "verbose_name", name),
                min_value=low,
                max_value=high,
            )

    def parameters(self) -> dict[str, int]:
        from fangkong.investigation.services.rules import RULE_PARAMETERS

        return {name: self.cleaned_data[name] for name in RULE_PARAMETERS}


class LineListForm(forms.Form):
    """Options of a line-list export: the format, and names with full numbers for a
    user who may unmask (with a reason; audited)."""

    format = forms.ChoiceField(choices=[("csv", "CSV"), ("xlsx", "XLSX")], required=False)
    unmask = forms.BooleanField(label=_("Names and full numbers"), required=False)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200)


class ContactFilterForm(forms.Form):
    """Filters of the contact line list."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_with_blank(Contact.Status.choices, _("Any"))
    )
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        choices=_with_blank(Contact.Category.choices, _("Any")),
    )
    district = forms.TypedChoiceField(
        label=_("District"), required=False, coerce=int, empty_value=None
    )
    disease = forms.ChoiceField(label=_("Disease"), required=False)

    def __init__(
        self, *args: Any, districts: list[Jurisdiction], diseases: list[Any], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        district: Any = self.fields["district"]
        district.choices = [("", _("Everywhere I can see"))] + [(d.pk, d.name) for d in districts]
        disease: Any = self.fields["disease"]
        disease.choices = [("", _("Any"))] + [(d.code, d.name) for d in diseases]


class BreachCloseForm(forms.Form):
    """The findings of a closed-loop breach inquiry."""

    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            ("", _("Choose…")),
            *[(v, lbl) for v, lbl in BreachInquiry.Outcome.choices if v],
        ],
    )
    findings = forms.CharField(
        label=_("Findings"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
