"""Forms of the supervision, accountability, duty and staff-care pages (choices
filled per user by the view)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.forms import area_choice_labels
from fangkong.core.templatetags.staff_ui import staff_name
from fangkong.headquarters.models import (
    Accountability,
    DutyShift,
    Finding,
    Recognition,
    TaskForce,
)
from fangkong.headquarters.selectors import ops

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (a finding's photos): a list, maybe empty."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        one = super().clean
        if isinstance(data, list | tuple):
            return [one(d, initial) for d in data if d]
        return [one(data, initial)] if data else []


def _people(users: list[Any], empty: Any = None) -> list[tuple[str, Any]]:
    head = [("", empty)] if empty is not None else []
    return head + [(str(u.pk), staff_name(u)) for u in users]


class PlanForm(forms.Form):
    title = forms.CharField(label=_("What is inspected"), max_length=200)
    area = forms.TypedChoiceField(label=_("Area"), coerce=int, choices=())
    checklist = forms.ChoiceField(label=_("Checklist"), choices=())
    starts_on = forms.DateField(label=_("From"), widget=DATE)
    ends_on = forms.DateField(label=_("Until"), widget=DATE)
    inspector = forms.TypedChoiceField(label=_("Inspector"), coerce=int, choices=())

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from fangkong.headquarters import selectors

        self.fields["area"].choices = area_choice_labels(selectors.unit_choices_for(user))  # type: ignore[attr-defined]
        self.fields["checklist"].choices = [(c.code, c.name) for c in ops.checklists_in_force()]  # type: ignore[attr-defined]
        self.fields["inspector"].choices = _people(ops.inspector_choices_for(user))  # type: ignore[attr-defined]


class VisitForm(forms.Form):
    """A visit; each checklist item's result, note, deadline and photos come as
    ``result_<item>``, ``note_<item>``, ``hours_<item>``, ``photos_<item>``."""

    unit = forms.TypedChoiceField(label=_("Unit inspected"), coerce=int, choices=())
    place = forms.CharField(label=_("Place"), max_length=200)
    visited_at = forms.DateTimeField(label=_("Visited at"), widget=DATETIME)
    summary = forms.CharField(
        label=_("Summary"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=4000,
    )

    def __init__(self, *args: Any, plan: Any, items: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from fangkong.core.models import Jurisdiction, path_upper_bound

        nodes = list(
            Jurisdiction.objects.exclude(level=Jurisdiction.Level.BUILDING)
            .filter(path__gte=plan.scope_path, path__lt=path_upper_bound(plan.scope_path))
            .order_by("path")[:2000]
        )
        self.fields["unit"].choices = area_choice_labels(nodes)  # type: ignore[attr-defined]
        self.items = items
        for item in items:
            self.fields[f"result_{item.pk}"] = forms.ChoiceField(
                label=item.text,
                choices=Finding.Result.choices,
                widget=forms.RadioSelect,
                initial=Finding.Result.PASSED,
            )
            self.fields[f"note_{item.pk}"] = forms.CharField(
                label=_("What was found"),
                required=False,
                max_length=4000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields[f"hours_{item.pk}"] = forms.IntegerField(
                label=_("Hours to rectify"), min_value=1, max_value=720, initial=72
            )
            self.fields[f"photos_{item.pk}"] = MultipleFileField(label=_("Photos"), required=False)

    def item_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "item": item,
                "result": self[f"result_{item.pk}"],
                "note": self[f"note_{item.pk}"],
                "hours": self[f"hours_{item.pk}"],
                "photos": self[f"photos_{item.pk}"],
            }
            for item in self.items
        ]


class ReinspectForm(forms.Form):
    rectified = forms.TypedChoiceField(
        label=_("Re-inspection"),
        coerce=lambda v: v == "1",
        choices=[("1", _("Rectified")), ("0", _("Not yet rectified"))],
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=4000)


class CloseForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=4000)


class ProposeForm(forms.Form):
    failure = forms.ChoiceField(label=_("Failure"), choices=())
    party_kind = forms.ChoiceField(
        label=_("Responsible party"), choices=Accountability.Party.choices
    )
    party_name = forms.CharField(label=_("Who is responsible"), max_length=200)
    measure = forms.ChoiceField(label=_("Measure proposed"), choices=Accountability.Measure.choices)
    grounds = forms.CharField(
        label=_("Grounds"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(Accountability.Failure.choices)
        self.fields["failure"].choices = [  # type: ignore[attr-defined]
            (f"{f.kind}:{f.id}", f"{labels[f.kind]} · {f.text}")
            for f in ops.failure_choices_for(user)
        ]

    def clean_failure(self) -> tuple[str, int]:
        kind, _sep, raw = self.cleaned_data["failure"].partition(":")
        return kind, int(raw)


class DecideForm(forms.Form):
    pursue = forms.TypedChoiceField(
        label=_("Decision"),
        coerce=lambda v: v == "1",
        choices=[("1", _("Pursue")), ("0", _("Do not pursue"))],
    )
    measure = forms.ChoiceField(label=_("Measure"), choices=Accountability.Measure.choices)
    decision = forms.CharField(
        label=_("Decision text"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
    document_number = forms.CharField(
        label=pgettext_lazy("official document", "Document number"), max_length=80, required=False
    )


class ShiftForm(forms.Form):
    area = forms.TypedChoiceField(label=_("Area"), coerce=int, choices=())
    user = forms.TypedChoiceField(label=_("On duty"), coerce=int, choices=())
    role = forms.ChoiceField(label=_("Role"), choices=DutyShift.Role.choices)
    starts_at = forms.DateTimeField(label=_("From"), widget=DATETIME)
    ends_at = forms.DateTimeField(label=_("Until"), widget=DATETIME)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = area_choice_labels(ops.duty_area_choices_for(user))  # type: ignore[attr-defined]
        self.fields["user"].choices = _people(ops.staff_choices_for(user))  # type: ignore[attr-defined]


class HandoverForm(forms.Form):
    area = forms.TypedChoiceField(label=_("Area"), coerce=int, choices=())
    text = forms.CharField(
        label=_("What the next shift must know"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )
    open_items = forms.CharField(
        label=_("Open items"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=4000,
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = area_choice_labels(ops.duty_area_choices_for(user))  # type: ignore[attr-defined]


class TaskForceForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("name of a thing", "Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Workstream"), choices=TaskForce.Kind.choices)
    area = forms.TypedChoiceField(label=_("Area"), coerce=int, choices=())
    leader = forms.TypedChoiceField(label=_("Leader"), coerce=int, choices=())
    members = forms.TypedMultipleChoiceField(
        label=_("Members"), coerce=int, choices=(), required=False
    )
    remit = forms.CharField(
        label=_("Remit"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=4000
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = _people(ops.staff_choices_for(user))
        self.fields["area"].choices = area_choice_labels(ops.duty_area_choices_for(user))  # type: ignore[attr-defined]
        self.fields["leader"].choices = people  # type: ignore[attr-defined]
        self.fields["members"].choices = people  # type: ignore[attr-defined]


class MemberForm(forms.Form):
    user = forms.TypedChoiceField(label=_("Member"), coerce=int, choices=())
    duty = forms.CharField(label=_("Duty in the task force"), max_length=120, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = _people(ops.staff_choices_for(user))  # type: ignore[attr-defined]


class RotationForm(forms.Form):
    user = forms.TypedChoiceField(label=_("Rotated off"), coerce=int, choices=())
    replacement = forms.TypedChoiceField(
        label=_("Stands in"), coerce=int, choices=(), required=False, empty_value=None
    )
    rest_from = forms.DateField(label=_("Rest from"), widget=DATE)
    rest_until = forms.DateField(label=_("Rest until"), widget=DATE)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=4000)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff = ops.staff_choices_for(user)
        self.fields["user"].choices = _people(staff)  # type: ignore[attr-defined]
        self.fields["replacement"].choices = _people(staff, _("Nobody: the shifts are dropped"))  # type: ignore[attr-defined]


class RecognitionForm(forms.Form):
    user = forms.TypedChoiceField(label=_("Recognised"), coerce=int, choices=())
    kind = forms.ChoiceField(label=_("Kind"), choices=Recognition.Kind.choices)
    citation = forms.CharField(label=_("For what"), max_length=4000)
    awarded_on = forms.DateField(label=_("On"), widget=DATE)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = _people(ops.staff_choices_for(user))  # type: ignore[attr-defined]
