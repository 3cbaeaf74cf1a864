"""Forms of the screening set-up and review pages: input validation at the edge.

Field names are the services' keyword names, so a domain error naming a field
(``ApplicationError.fields``) lands next to it. Area fields accept any node id:
the service decides, and a node outside the user's area is a 404, as everywhere.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.forms import area_choice_labels
from fangkong.core.models import Jurisdiction, KeyGroup
from fangkong.screening.models import Exclusion, Lab, Round, Site

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class AreaField(forms.TypedChoiceField):
    """One area offered from the user's subtree; any id passes to the service."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(coerce=int, empty_value=None, **kwargs)

    def valid_value(self, value: Any) -> bool:
        return str(value).isdigit()


class AreasField(forms.TypedMultipleChoiceField):
    """Several areas; as ``AreaField``, the service checks that each is in scope."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(coerce=int, **kwargs)

    def valid_value(self, value: Any) -> bool:
        return str(value).isdigit()


class RoundForm(forms.Form):
    name = forms.CharField(label=_("Name of the round"), max_length=200)
    area_ids = AreasField(
        label=_("Areas"),
        help_text=_("Hold Ctrl (or Cmd) to choose several."),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    target = forms.ChoiceField(
        label=_("Target population"),
        choices=[(k, v) for k, v in Round.Target.choices if k != Round.Target.ARRIVALS],
    )
    key_group_codes = forms.MultipleChoiceField(
        label=_("Key groups"),
        required=False,
        help_text=_("Only for a round of key groups."),
        widget=forms.CheckboxSelectMultiple,
    )
    starts_at = forms.DateTimeField(
        label=_("Starts"),
        input_formats=[DATETIME_FORMAT],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
    )
    ends_at = forms.DateTimeField(
        label=_("Ends"),
        input_formats=[DATETIME_FORMAT],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
    )
    pooling_ratio = forms.TypedChoiceField(
        label=_("Pooling (people per tube)"), coerce=int, choices=()
    )
    lab_ids = forms.TypedMultipleChoiceField(
        label=_("Labs"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(
        self,
        *args: Any,
        areas: list[Jurisdiction],
        ratios: list[int],
        labs: list[Lab],
        key_groups: list[KeyGroup],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["area_ids"].choices = area_choice_labels(areas)
        fields["pooling_ratio"].choices = [(r, f"{r}:1") for r in ratios]
        fields["lab_ids"].choices = [(lab.pk, lab.name) for lab in labs]
        fields["key_group_codes"].choices = [(g.code, g.name) for g in key_groups]


class SiteForm(forms.Form):
    name = forms.CharField(label=_("Name of the site"), max_length=200)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    jurisdiction_id = AreaField(label=_("Area"))
    lat = forms.FloatField(label=_("Latitude"), widget=forms.NumberInput(attrs={"step": "any"}))
    lon = forms.FloatField(label=_("Longitude"), widget=forms.NumberInput(attrs={"step": "any"}))
    opens_at = forms.TimeField(
        label=_("Opens at"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    closes_at = forms.TimeField(
        label=_("Closes at"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    lanes = forms.IntegerField(label=_("Lanes"), initial=1)
    hours_text = forms.CharField(
        label=_("Opening hours as shown to the public"),
        max_length=200,
        required=False,
        help_text=_("Leave empty to show the opening and closing times."),
    )

    def __init__(self, *args: Any, areas: list[Jurisdiction], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        area: Any = self.fields["jurisdiction_id"]
        area.choices = area_choice_labels(areas)


class LabForm(forms.Form):
    name = forms.CharField(label=_("Name of the lab"), max_length=200)
    code = forms.SlugField(
        label=pgettext_lazy("identifier", "Code"),
        max_length=40,
        help_text=_("Short unique code: letters, digits, hyphens."),
    )
    capacity_per_day = forms.IntegerField(label=_("Tubes per day"))
    jurisdiction_id = AreaField(label=_("Area"))

    def __init__(self, *args: Any, areas: list[Jurisdiction], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        area: Any = self.fields["jurisdiction_id"]
        area.choices = area_choice_labels(areas)


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Name of the team"), max_length=200)
    area_id = AreaField(label=_("Area covered"))
    door_to_door = forms.BooleanField(
        label=_("Door-to-door team (visits people who cannot come to a site)"), required=False
    )

    def __init__(self, *args: Any, areas: list[Jurisdiction], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        area: Any = self.fields["area_id"]
        area.choices = area_choice_labels(areas)


class SiteEditForm(SiteForm):
    """A site's details; its area stays (a site moved elsewhere is a new site)."""

    active = forms.BooleanField(
        label=_("In use (shown on the portal, takes new tubes)"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, areas=[], **kwargs)
        del self.fields["jurisdiction_id"]


class LabEditForm(forms.Form):
    name = forms.CharField(label=_("Name of the lab"), max_length=200)
    capacity_per_day = forms.IntegerField(label=_("Tubes per day"))
    active = forms.BooleanField(label=_("In use (offered to new rounds)"), required=False)


class TeamEditForm(forms.Form):
    name = forms.CharField(label=_("Name of the team"), max_length=200)
    door_to_door = forms.BooleanField(
        label=_("Door-to-door team (visits people who cannot come to a site)"), required=False
    )
    active = forms.BooleanField(label=_("In use (given new tasks)"), required=False)


class QueueForm(forms.Form):
    queue_state = forms.ChoiceField(label=_("Queue"), choices=Site.Queue.choices)


class ReviewForm(forms.Form):
    note = forms.CharField(
        label=_("Decision"),
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("What you checked and decided; recorded in the audit trail."),
    )


class ExclusionForm(forms.Form):
    person_id = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.ChoiceField(label=_("Reason"), choices=Exclusion.Reason.choices)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
