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


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("What is it for?"),
        max_length=100,
        help_text=_("For example the device or script that will use it (“lane 3 scanner”)."),
    )
    expires_on = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave empty for the standard lifetime."),
    )

    def expires_at(self) -> dt.datetime | None:
        """The end of the chosen day, local time (``None``: the standard lifetime)."""
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        end = dt.datetime.combine(day, dt.time(23, 59, 59))
        return timezone.make_aware(end)


class UnmaskForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you need the full numbers?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "autofocus": True}),
        help_text=_("Recorded in the audit trail with your name."),
    )


def _by_label(option: tuple[str, str]) -> tuple[str, str]:
    return (option[1].casefold(), option[0])


class AuditFilterForm(forms.Form):
    person_id = forms.IntegerField(label=_("Person id"), required=False, min_value=1)
    actor = forms.CharField(label=_("Staff user name"), required=False, max_length=150)
    # Chosen by their labels (stored codes stay in the query string); a code
    # without a label, from an older release, is still accepted as typed.
    object_type = forms.CharField(
        label=_("Object type"), required=False, max_length=64, widget=forms.Select
    )
    object_id = forms.CharField(label=_("Object id"), required=False, max_length=64)
    action = forms.CharField(
        label=pgettext_lazy("audit", "Action"), required=False, max_length=64, widget=forms.Select
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from fangkong.core import labels

        super().__init__(*args, **kwargs)
        labels.discover()
        for name, registry in (("action", labels.ACTIONS), ("object_type", labels.OBJECTS)):
            options = sorted(
                ((code, str(label)) for code, label in registry.items()), key=_by_label
            )
            chosen = str(self.data.get(name) or "") if self.is_bound else ""
            if chosen and chosen not in registry:
                options.insert(0, (chosen, chosen))
            self.fields[name].widget.choices = [("", _("Any")), *options]

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


# --- Picking areas from the jurisdiction tree (never typing internal ids) -------------


class TreePickWidget(forms.Widget):
    """Checkboxes in the jurisdiction tree: the user's area opens level by level
    (htmx, ``core:tree_pick``); the chosen nodes are listed first, checked."""

    template_name = "core/_tree_pick.html"

    def __init__(self, attrs: dict[str, Any] | None = None, *, levels: str = "") -> None:
        super().__init__(attrs)
        self.levels = levels  # the levels that may be chosen ("" = any)

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.getlist(name) if hasattr(data, "getlist") else data.get(name, [])

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False  # no box checked is a value too (an empty choice)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        ids = [int(v) for v in (value or []) if str(v).isdigit()]
        context["widget"]["chosen"] = list(
            Jurisdiction.objects.filter(pk__in=ids).only("id", "name_zh", "name_en", "level")
        )
        context["widget"]["levels"] = self.levels
        return context


class TreePickField(forms.Field):
    """Jurisdiction nodes chosen in the tree (a list of ids; scope is checked by the
    service that uses them)."""

    widget = TreePickWidget

    def to_python(self, value: Any) -> list[int]:
        if value in (None, "", []):
            return []
        values = value if isinstance(value, list | tuple) else [value]
        out = []
        for v in values:
            text = str(v).strip()
            if not text:
                continue
            if not text.isdigit():
                raise forms.ValidationError(_("Choose the areas in the tree."))
            out.append(int(text))
        return list(dict.fromkeys(out))
