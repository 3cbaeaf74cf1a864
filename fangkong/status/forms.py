"""Forms of the status pages (validation at the edge only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.status.models import Appeal, ManualBasis


class DocumentForm(forms.Form):
    doc_number = forms.CharField(
        label=_("ID document number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )


class CodeForm(DocumentForm):
    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*"}
        ),
    )


class AppealForm(forms.Form):
    doc_number = forms.CharField(
        label=_("Your ID document number (to confirm it is you)"), max_length=40
    )
    text = forms.CharField(
        label=_("Why is your status wrong?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class ManualRequestForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Change"),
        choices=[("grant", _("Manual status")), ("end", _("Early end of the chosen reasons"))],
    )
    level = forms.ChoiceField(label=_("Level"), required=False, choices=[])
    reason_ids = forms.MultipleChoiceField(
        label=_("Reasons to end"), required=False, choices=[], widget=forms.CheckboxSelectMultiple
    )
    basis = forms.ModelChoiceField(
        label=_("Legal or health basis"),
        queryset=ManualBasis.objects.filter(active=True),
        to_field_name="code",
        required=False,
    )
    text = forms.CharField(
        label=_("Written reason"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    ends_at = forms.DateTimeField(
        label=_("Ends at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(
        self,
        *args: Any,
        levels: list[tuple[str, str]],
        reasons: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = [("", "—"), *levels]  # type: ignore[attr-defined]
        self.fields["reason_ids"].choices = reasons  # type: ignore[attr-defined]


class DecisionForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=4000)


class AppealDecisionForm(forms.Form):
    state = forms.ChoiceField(
        label=_("Decision"),
        choices=[(Appeal.State.UPHELD, _("Upheld")), (Appeal.State.REJECTED, _("Rejected"))],
    )
    text = forms.CharField(label=_("Reason (sent to the person)"), max_length=2000, required=False)
