"""Forms of the zones pages: input validation at the edge, nothing else."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.forms import TreePickField, TreePickWidget
from fangkong.zones.models import ServiceKind, TeamMember, Zone, ZoneLevel, ZoneProposal

UNIT_LEVELS = "community,grid,building"  # what a zone is made of


def _level_choices() -> list[tuple[str, str]]:
    return [(lv.code, lv.name) for lv in ZoneLevel.objects.filter(active=True)]


def _ids(text: str) -> list[int]:
    out = []
    for part in (text or "").replace(",", " ").split():
        if not part.isdigit():
            raise forms.ValidationError(_("Unit ids are numbers separated by commas."))
        out.append(int(part))
    return out


class DeclareForm(forms.Form):
    name = forms.CharField(label=_("Name of the zone"), max_length=200)
    level = forms.ChoiceField(label=pgettext_lazy("risk level", "Level"), choices=())
    units = TreePickField(
        label=_("Units (buildings, grid units or communities)"),
        required=False,
        widget=TreePickWidget(levels=UNIT_LEVELS),
        help_text=_(
            "Open your area level by level and tick the units, or draw an area on the "
            "map: the buildings inside it are chosen."
        ),
    )
    polygon = forms.CharField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(
        label=_("Reason (linked cases, findings)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=4000,
    )
    case_ids = forms.CharField(label=_("Linked case ids"), required=False)
    decision_number = forms.CharField(
        label=_("Decision document number"), required=False, max_length=80
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = _level_choices()  # type: ignore[attr-defined]

    def clean_case_ids(self) -> list[int]:
        return _ids(self.cleaned_data.get("case_ids", ""))

    def clean_polygon(self) -> Any:
        raw = (self.cleaned_data.get("polygon") or "").strip()
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise forms.ValidationError(
                _("The drawn area could not be read; draw it again.")
            ) from None


class ChangeForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Change"),
        choices=[(k.value, k.label) for k in ZoneProposal.Kind if k != ZoneProposal.Kind.DECLARE],
    )
    level = forms.ChoiceField(label=_("New level"), choices=(), required=False)
    units = TreePickField(
        label=_("Units to add or remove"),
        required=False,
        widget=TreePickWidget(levels=UNIT_LEVELS),
    )
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=4000
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = [("", "—"), *_level_choices()]  # type: ignore[attr-defined]


class DecisionForm(forms.Form):
    decision_number = forms.CharField(
        label=_("Decision document number"), required=False, max_length=80
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class ZoneFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or document"), required=False, max_length=100)
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All")), *Zone.State.choices]
    )
    level = forms.ChoiceField(
        label=pgettext_lazy("risk level", "Level"), required=False, choices=()
    )
    district = forms.TypedChoiceField(
        label=_("District"), required=False, coerce=int, empty_value=None, choices=()
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, districts: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = [("", _("All")), *_level_choices()]  # type: ignore[attr-defined]
        self.fields["district"].choices = [("", _("All")), *districts]  # type: ignore[attr-defined]


class TeamMemberForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=TeamMember.Role.choices)
    name = forms.CharField(label=_("Name"), max_length=100)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    shift = forms.CharField(label=_("Shift"), max_length=60, required=False)


class RequestForm(forms.Form):
    person_id = forms.IntegerField(label=_("Resident"), widget=forms.HiddenInput)
    kind = forms.ChoiceField(label=_("Service"), choices=())
    text = forms.CharField(
        label=_("What is needed"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )
    items = forms.CharField(
        label=_("Items, one per line (name × quantity)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=4000,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k.code, k.name) for k in ServiceKind.objects.all()]  # type: ignore[attr-defined]

    def clean_items(self) -> list[dict[str, Any]]:
        out = []
        for line in (self.cleaned_data.get("items") or "").splitlines():
            line = line.strip()
            if not line:
                continue
            for sep in ("×", "x", "X", "*"):
                if sep in line:
                    name, _sep, qty = line.rpartition(sep)
                    if qty.strip().isdigit():
                        out.append({"name": name.strip(), "qty": int(qty.strip())})
                        break
            else:
                out.append({"name": line, "qty": 1})
        return out


class ResidentRequestForm(forms.Form):
    """A resident's own door-step request (the portal's self-service pages)."""

    kind = forms.ChoiceField(label=_("What do you need"), choices=())
    text = forms.CharField(
        label=_("Details"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k.code, k.name) for k in ServiceKind.objects.all()]  # type: ignore[attr-defined]


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)
