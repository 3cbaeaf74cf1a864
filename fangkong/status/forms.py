"""Forms of the status pages (validation at the edge only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.status.models import Appeal, ManualBasis

if TYPE_CHECKING:
    BasisChoiceFieldBase = forms.ModelChoiceField[ManualBasis]
else:
    BasisChoiceFieldBase = forms.ModelChoiceField


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


class BasisChoiceField(BasisChoiceFieldBase):
    """Bases in words, saying which ones are health facts and what source they need."""

    def label_from_instance(self, obj: Any) -> str:
        if obj.health:
            kind = _("health basis")
        else:
            kind = _("only ends or lowers a status")
        label = f"{obj.name} ({kind})"
        if obj.source_label:
            label += " · " + str(_("source: %(what)s") % {"what": obj.source_label})
        return label


class ManualRequestForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Change"),
        choices=[("grant", _("Manual status")), ("end", _("Early end of the chosen reasons"))],
    )
    level = forms.ChoiceField(
        label=pgettext_lazy("risk level", "Level"), required=False, choices=[]
    )
    reason_ids = forms.MultipleChoiceField(
        label=_("Reasons to end"), required=False, choices=[], widget=forms.CheckboxSelectMultiple
    )
    basis = BasisChoiceField(
        label=_("Legal or health basis"),
        queryset=ManualBasis.objects.filter(active=True),
        to_field_name="code",
        required=False,
        help_text=_(
            "A manual status needs a health basis (a case, a contact, a test, an arrival "
            "from a listed area, a clinical decision) and its source; other bases can only "
            "end reasons."
        ),
    )
    source_ref = forms.CharField(
        label=_("Source of the basis"),
        required=False,
        max_length=120,
        help_text=_("For example the case number, the tube barcode or the appeal number."),
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
