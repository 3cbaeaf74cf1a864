"""Forms of the quarantine pages: input validation at the edge, nothing else."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.models import Person
from fangkong.quarantine.models import (
    Admission,
    Approval,
    BedType,
    BreachReport,
    HealthCheck,
    Hospital,
    Site,
    SiteStaff,
    StaffTest,
    StayTest,
)

_FLOOR = re.compile(r"^-?\d{1,3}$")
_SPAN = re.compile(r"^(-?\d{1,3})-(-?\d{1,3})$")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class SiteForm(forms.Form):
    name = forms.CharField(
        label=pgettext_lazy("quarantine site", "Name of the site"), max_length=200
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Site.Kind.choices)
    jurisdiction_id = forms.TypedChoiceField(label=_("Area"), coerce=int, choices=())
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    tier = forms.IntegerField(label=_("Activation tier"), min_value=1, max_value=99, initial=1)
    planned_rooms = forms.IntegerField(
        label=_("Planned rooms"), min_value=0, max_value=100_000, initial=0
    )
    contact_name = forms.CharField(label=_("Site contact"), max_length=100, required=False)
    contact_phone = forms.CharField(label=_("Site telephone"), max_length=32, required=False)
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False
    )

    def __init__(self, *args: Any, areas: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction_id"].choices = areas  # type: ignore[attr-defined]


class TransitionForm(forms.Form):
    to_state = forms.ChoiceField(choices=Site.State.choices)
    reason = forms.CharField(max_length=2000, required=False)


class RoomsForm(forms.Form):
    floors = forms.CharField(label=_("Floors"), max_length=100, help_text=_("e.g. 2-8 or 2,3,5"))
    per_floor = forms.IntegerField(label=_("Rooms per floor"), min_value=1, max_value=500)

    def clean_floors(self) -> list[int]:
        out: list[int] = []
        for part in self.cleaned_data["floors"].replace(" ", "").split(","):
            span = _SPAN.match(part)
            if span:
                out.extend(range(int(span.group(1)), int(span.group(2)) + 1))
            elif _FLOOR.match(part):
                out.append(int(part))
            elif part:
                raise forms.ValidationError(_("Floors are numbers, e.g. 2-8 or 2,3,5."))
        if not out or len(out) > 200:
            raise forms.ValidationError(_("Floors are numbers, e.g. 2-8 or 2,3,5."))
        return sorted(set(out))


class RoomStatusForm(forms.Form):
    status = forms.ChoiceField(choices=[("clean", _("Clean")), ("maintenance", _("Maintenance"))])


class AdmitForm(forms.Form):
    doc_type = forms.ChoiceField(
        label=_("Document type"),
        choices=[c for c in Person.DocumentType.choices if c[0] != "line_list"],
    )
    doc_number = forms.CharField(label=_("Document number"), max_length=40)
    name = forms.CharField(label=pgettext_lazy("person", "Name"), max_length=100)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    language = forms.ChoiceField(
        label=_("Language of the documents"), choices=Person.Language.choices
    )
    category = forms.ChoiceField(label=_("Category"), choices=())
    disease_code = forms.ChoiceField(label=_("Disease"), choices=())
    started_on = forms.DateField(
        label=_("Quarantine counted from"),
        widget=DATE,
        help_text=_("The day of the last exposure or of arrival; today if empty."),
        required=False,
    )

    def __init__(
        self,
        *args: Any,
        categories: list[tuple[str, str]],
        diseases: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = categories  # type: ignore[attr-defined]
        self.fields["disease_code"].choices = diseases  # type: ignore[attr-defined]


class CheckForm(forms.Form):
    taken_on = forms.DateField(label=_("Day"), widget=DATE)
    slot = forms.ChoiceField(label=_("Time of day"), choices=HealthCheck.Slot.choices)
    temperature = forms.CharField(
        label=_("Temperature (°C)"),
        max_length=5,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    symptoms = forms.MultipleChoiceField(
        label=_("Symptoms"), choices=(), required=False, widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, symptoms: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["symptoms"].choices = symptoms  # type: ignore[attr-defined]
        if not self.is_bound:
            now = timezone.localtime()
            self.initial.setdefault("taken_on", now.date())
            self.initial.setdefault("slot", "am" if now.hour < 12 else "pm")


class TestResultForm(forms.Form):
    result = forms.ChoiceField(
        choices=[
            (StayTest.Result.SAMPLED, StayTest.Result.SAMPLED.label),
            (StayTest.Result.NEGATIVE, StayTest.Result.NEGATIVE.label),
            (StayTest.Result.POSITIVE, StayTest.Result.POSITIVE.label),
            (StayTest.Result.MISSED, StayTest.Result.MISSED.label),
        ]
    )


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False
    )


class ReasonForm(forms.Form):
    reason_kind = forms.ChoiceField(label=_("Ground"), choices=Approval.Reason.choices)
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class ShareForm(ReasonForm):
    room_id = forms.TypedChoiceField(label=_("Room to share"), coerce=int, choices=())

    def __init__(self, *args: Any, rooms: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room_id"].choices = rooms  # type: ignore[attr-defined]


class ExtendForm(forms.Form):
    days = forms.IntegerField(label=_("Days"), min_value=1, max_value=30)
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class TransferForm(forms.Form):
    destination = forms.ChoiceField(label=_("To"), choices=())
    bed_type = forms.ChoiceField(label=_("Bed"), choices=BedType.choices, initial="general")
    severity = forms.ChoiceField(
        label=_("Severity"), choices=Admission.Severity.choices, initial="mild"
    )
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )

    def __init__(self, *args: Any, destinations: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["destination"].choices = destinations  # type: ignore[attr-defined]


class DecisionForm(forms.Form):
    approve = forms.TypedChoiceField(
        coerce=lambda v: v == "yes", choices=[("yes", _("Approve")), ("no", _("Refuse"))]
    )
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)


class OrdersForm(forms.Form):
    stay_ids = forms.TypedMultipleChoiceField(
        coerce=int, choices=(), widget=forms.CheckboxSelectMultiple
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=[
            ("", _("Each person's own language")),
            ("zh-hans", _("Chinese")),
            ("en", _("English")),
        ],
        required=False,
    )

    def __init__(self, *args: Any, stays: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stay_ids"].choices = stays  # type: ignore[attr-defined]


class StaffForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("person", "Name"), max_length=100)
    role = forms.ChoiceField(label=_("Role"), choices=SiteStaff.Role.choices)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    employer = forms.CharField(label=_("Employer"), max_length=200, required=False)
    started_on = forms.DateField(label=_("On site from"), widget=DATE, required=False)


class RotateForm(forms.Form):
    left_on = forms.DateField(label=_("Left the site on"), widget=DATE)


class StaffCheckForm(forms.Form):
    """A rotated worker's check during the monitoring after rotation."""

    taken_on = forms.DateField(label=_("Day"), widget=DATE)
    slot = forms.ChoiceField(label=_("Time of day"), choices=HealthCheck.Slot.choices)
    temperature = forms.CharField(
        label=_("Temperature (°C)"),
        max_length=5,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )


class StaffTestForm(forms.Form):
    result = forms.ChoiceField(
        label=_("Result"),
        choices=[
            (StaffTest.Result.NEGATIVE, StaffTest.Result.NEGATIVE.label),
            (StaffTest.Result.POSITIVE, StaffTest.Result.POSITIVE.label),
        ],
    )


class BreachForm(forms.Form):
    site_id = forms.TypedChoiceField(
        label=pgettext_lazy("quarantine", "Site"), coerce=int, choices=(), required=False
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=BreachReport.Kind.choices)
    occurred_at = forms.DateTimeField(label=_("When"), widget=DATETIME)
    description = forms.CharField(
        label=_("What happened"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
    staff_ids = forms.TypedMultipleChoiceField(
        label=_("Workers involved"),
        coerce=int,
        required=False,
        help_text=_("Workers of the site named in the report (investigation sees them)."),
    )

    def __init__(
        self,
        *args: Any,
        sites: list[tuple[int, str]],
        workers: Sequence[tuple[int, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site_id"].choices = [("", "—"), *sites]  # type: ignore[attr-defined]
        self.fields["staff_ids"].choices = list(workers)  # type: ignore[attr-defined]


class BreachUpdateForm(forms.Form):
    state = forms.ChoiceField(
        choices=[
            (BreachReport.State.INVESTIGATING, BreachReport.State.INVESTIGATING.label),
            (BreachReport.State.CLOSED, BreachReport.State.CLOSED.label),
        ]
    )
    findings = forms.CharField(
        label=_("Findings"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=4000,
        required=False,
    )
    measures = forms.CharField(
        label=_("Measures taken"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=4000,
        required=False,
    )


class HospitalForm(forms.Form):
    name = forms.CharField(label=_("Name of the hospital"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Hospital.Kind.choices)
    jurisdiction_id = forms.TypedChoiceField(label=_("Area"), coerce=int, choices=())
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    general_beds = forms.IntegerField(label=_("General beds"), min_value=0, max_value=100_000)
    icu_beds = forms.IntegerField(label=_("ICU beds"), min_value=0, max_value=100_000)

    def __init__(self, *args: Any, areas: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction_id"].choices = areas  # type: ignore[attr-defined]


class PatientForm(forms.Form):
    person_id = forms.IntegerField(widget=forms.HiddenInput)
    bed_type = forms.ChoiceField(label=_("Bed"), choices=BedType.choices)
    severity = forms.ChoiceField(label=_("Severity"), choices=Admission.Severity.choices)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)


class SeverityForm(forms.Form):
    severity = forms.ChoiceField(label=_("Severity"), choices=Admission.Severity.choices)
    bed_type = forms.ChoiceField(label=_("Bed"), choices=BedType.choices)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)


class DischargeForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[(Admission.State.DISCHARGED, _("Discharged")), (Admission.State.DIED, _("Died"))],
    )
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)
