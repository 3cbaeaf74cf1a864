from __future__ import annotations

from typing import Any

from captcha.fields import CaptchaField
from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.portal.models import Channel, ServiceLink


class CommentForm(forms.Form):
    name = forms.CharField(
        label=_("Name (leave empty to comment anonymously)"), max_length=40, required=False
    )
    text = forms.CharField(
        label=_("Comment"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)
    captcha = CaptchaField(label=_("Verification code"))


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)


class ArticleForm(forms.Form):
    channel = forms.ModelChoiceField(label=_("Channel"), queryset=Channel.objects.all())
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(label=_("Summary"), max_length=500, required=False)
    body = forms.CharField(
        label=_("Body"),
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=_(
            "Kept: paragraphs, headings, lists, links, tables, images; the rest is removed."
        ),
    )
    author = forms.CharField(label=_("Author"), max_length=100, required=False)
    source = forms.CharField(label=_("Source"), max_length=200, required=False)
    place = forms.CharField(label=_("Place"), max_length=100, required=False)
    tags = forms.CharField(label=_("Tags (separated by spaces)"), max_length=200, required=False)
    cover = forms.FileField(label=_("Cover image"), required=False)
    attachment = forms.FileField(label=_("Attachment"), required=False)

    def tag_list(self) -> list[str]:
        return [t for t in self.cleaned_data.get("tags", "").replace(",", " ").split() if t]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)
    publish_at = forms.DateTimeField(label=_("Publish at (empty: now)"), required=False)


class LinkForm(forms.ModelForm):
    url = forms.URLField(label=_("Address"), required=False, assume_scheme="https")

    class Meta:
        model = ServiceLink
        fields = ["category", "title_zh", "title_en", "url", "phone", "position"]


class ArrivalForm(forms.Form):
    from_place = forms.CharField(label=_("Coming from"), max_length=100)
    arrival_date = forms.DateField(
        label=_("Arrival date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    transport = forms.CharField(
        label=_("Transport (flight, train, car…)"), max_length=60, required=False
    )
    destination = forms.CharField(label=_("Where you will stay in the city"), max_length=200)


class FeedbackForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=100, required=False)
    text = forms.CharField(
        label=_("Message"), max_length=4000, widget=forms.Textarea(attrs={"rows": 5})
    )


class RequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("What do you need"), choices=())
    text = forms.CharField(
        label=_("Details"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self, *args: Any, kinds: list[tuple[str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds or []  # type: ignore[attr-defined]


def field_errors(form: forms.Form) -> dict[str, Any]:
    return {k: [str(e) for e in v] for k, v in form.errors.items()}
