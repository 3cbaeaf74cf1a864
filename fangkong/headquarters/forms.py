"""Forms of the headquarters pages (choices filled per user by the view)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.forms import area_choice_labels
from fangkong.core.templatetags.staff_ui import staff_name
from fangkong.headquarters import selectors
from fangkong.headquarters.models import Priority


def _assignee_choices(user: Any) -> list[tuple[str, Any]]:
    return [("", _("By the assignment rules"))] + [
        (str(u.pk), staff_name(u)) for u in selectors.assignee_choices_for(user)
    ]


class TaskForm(forms.Form):
    title = forms.CharField(label=_("What is to be done"), max_length=200)
    unit = forms.TypedChoiceField(
        label=pgettext_lazy("organisation", "Unit"), coerce=int, choices=()
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial="normal")
    deadline = forms.DateTimeField(
        label=_("Deadline"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    assignee = forms.TypedChoiceField(
        label=_("Given to"), coerce=int, choices=(), required=False, empty_value=None
    )
    details = forms.CharField(
        label=_("Details"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=4000,
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = area_choice_labels(selectors.unit_choices_for(user))  # type: ignore[attr-defined]
        self.fields["assignee"].choices = _assignee_choices(user)  # type: ignore[attr-defined]


class AssignForm(forms.Form):
    assignee = forms.TypedChoiceField(
        label=_("Give to"), coerce=int, choices=(), required=False, empty_value=None
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = _assignee_choices(user)  # type: ignore[attr-defined]


class CompleteForm(forms.Form):
    note = forms.CharField(
        label=_("What was done"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=4000,
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why it is cancelled"), max_length=2000)


class RectifyForm(forms.Form):
    unit = forms.IntegerField(min_value=1, max_value=2**31 - 1)
    hours = forms.IntegerField(label=_("Hours to rectify"), min_value=1, max_value=720, initial=24)
    details = forms.CharField(label=_("Details"), required=False, max_length=4000)
