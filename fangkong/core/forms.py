"""Forms of the staff pages: input validation at the edge, nothing else."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.errors import ApplicationError, NotFound
from fangkong.core.models import Jurisdiction, KeyGroup


def add_application_errors(form: forms.Form, exc: ApplicationError) -> None:
    """Show a domain error on the form: per field where it names one, else on top."""
    if not exc.fields:
        form.add_error(None, str(exc.message))
    for name, message in exc.fields.items():
        form.add_error(name if name in form.fields else None, message)


def area_choice_labels(nodes: list[Jurisdiction]) -> list[tuple[int, str]]:
    """Choices for an area picker: each node indented under its parent."""
    indent = min((n.depth for n in nodes), default=0)
    return [(n.pk, "\u2003" * (n.depth - indent) + n.name) for n in nodes]


@dataclass
class Outcome:
    ok: bool = True


@contextmanager
def errors_onto(form: forms.Form) -> Iterator[Outcome]:
    """Run a service call; a domain error lands on the form (``outcome.ok`` turns
    False). NotFound still propagates: outside the user's area it is a 404."""
    outcome = Outcome()
    try:
        yield outcome
    except NotFound:
        raise
    except ApplicationError as exc:
        add_application_errors(form, exc)
        outcome.ok = False


class OtpTokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=8,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
            }
        ),
    )


class PeopleFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=64,
        help_text=_("Name (beginning), or a full ID or phone number."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    jurisdiction = forms.TypedChoiceField(
        label=_("Area"), required=False, coerce=int, empty_value=None
    )
    key_group = forms.ChoiceField(label=_("Key group"), required=False)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        nodes: list[Jurisdiction],
        key_groups: list[KeyGroup],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        area: Any = self.fields["jurisdiction"]
        area.choices = [("", _("Everywhere I can see")), *area_choice_labels(nodes)]
        group: Any = self.fields["key_group"]
        group.choices = [("", _("Any"))] + [(g.code, g.name) for g in key_groups]


class UnmaskForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you need the full numbers?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "autofocus": True}),
        help_text=_("Recorded in the audit trail with your name."),
    )


class AuditFilterForm(forms.Form):
    person_id = forms.IntegerField(label=_("Person id"), required=False, min_value=1)
    actor = forms.CharField(label=_("Staff user name"), required=False, max_length=150)
    object_type = forms.CharField(
        label=_("Object type"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"placeholder": "core.person"}),
    )
    object_id = forms.CharField(label=_("Object id"), required=False, max_length=64)
    action = forms.CharField(
        label=pgettext_lazy("audit", "Action"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"placeholder": "person.unmask"}),
    )
    since = forms.DateTimeField(
        label=_("From"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    until = forms.DateTimeField(
        label=_("Until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since >= until:
            self.add_error("until", _("The end must come after the start."))
        return data

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for ``selectors.audit_list_for``."""
        data = self.cleaned_data
        out: dict[str, Any] = {
            k: (data.get(k) or "").strip() for k in ("actor", "object_type", "object_id", "action")
        }
        out["person_id"] = data.get("person_id")
        for k in ("since", "until"):
            value: dt.datetime | None = data.get(k)
            if value is not None and timezone.is_naive(value):
                value = timezone.make_aware(value)
            out[k] = value
        return out
