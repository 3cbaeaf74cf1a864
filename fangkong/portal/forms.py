from __future__ import annotations

from typing import TYPE_CHECKING, Any

from captcha.fields import CaptchaField
from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.portal.models import Channel, ServiceLink

if TYPE_CHECKING:
    LinkFormBase = forms.ModelForm[ServiceLink]
else:
    LinkFormBase = forms.ModelForm


class CommentForm(forms.Form):
    name = forms.CharField(
        label=_("Name (leave empty to comment anonymously)"), max_length=40, required=False
    )
    text = forms.CharField(
        label=_("Comment"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # Our own words for a wrong code (the library's Chinese says 认证码 where the
    # field says 验证码).
    captcha = CaptchaField(
        label=_("Verification code"),
        error_messages={"invalid": _("The verification code is wrong.")},
    )


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)


class ArticleForm(forms.Form):
    channel = forms.ModelChoiceField(label=_("Channel"), queryset=Channel.objects.all())
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(
        label=pgettext_lazy("article", "Summary"), max_length=500, required=False
    )
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


class LinkForm(LinkFormBase):
    url = forms.URLField(
        label=pgettext_lazy("web", "Address"), required=False, assume_scheme="https"
    )

    class Meta:
        model = ServiceLink
        fields = ["category", "title_zh", "title_en", "url", "phone", "position"]
        labels = {
            "phone": pgettext_lazy("hotline", "Phone number"),
            "position": _("Place in its category (smaller first)"),
        }


class FeedbackForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=100, required=False)
    text = forms.CharField(
        label=_("Message"), max_length=4000, widget=forms.Textarea(attrs={"rows": 5})
    )


def field_errors(form: forms.Form) -> dict[str, Any]:
    return {k: [str(e) for e in v] for k, v in form.errors.items()}
