"""Public portal: channels, articles (with revisions, tags, attachments), comments
and their moderation, the services directory and feedback (arrival reports
belong to entry control).

Images and attachments are stored in the database (small, size-limited), so the
portal needs no media storage of its own and backups carry everything.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.models import BaseModel, in_language

# First path segments the portal's own pages use: no top-level channel may take them.
RESERVED_SLUGS = frozenset(
    "api admin captcha comments console editor feeds i18n investigation lang like login logout "
    "me media people audit jurisdictions account risk-zones screening search services "
    "sitemap static statistics status testing-sites zones".split()
)


class Channel(BaseModel):
    """A nested category of articles; its slug path is part of article addresses."""

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    slug = models.SlugField(_("slug"), max_length=40)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=0)
    copyright_notice = models.TextField(_("copyright notice"), blank=True)
    comments_enabled = models.BooleanField(_("comments enabled"), default=True)
    comments_premoderated = models.BooleanField(
        _("every comment waits for a moderator"),
        default=True,
        help_text=_("Off: comments that pass the word filter appear at once."),
    )
    pinned = models.BooleanField(
        _("pinned on the home page"), default=False, help_text=_("Official notices (通告).")
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "slug"], name="portal_channel_slug_unique"),
            models.UniqueConstraint(
                fields=["slug"],
                condition=models.Q(parent__isnull=True),
                name="portal_channel_top_slug_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.parent_id is None and self.slug in RESERVED_SLUGS:
            raise ValidationError({"slug": _("This address is used by the portal's own pages.")})
        if self.parent is not None and self.parent.parent_id is not None:
            raise ValidationError({"parent": _("Channels are nested one level deep.")})

    @property
    def name(self) -> str:
        return in_language(self.name_zh, self.name_en)

    @property
    def slug_path(self) -> str:
        return f"{self.parent.slug}/{self.slug}" if self.parent is not None else self.slug

    def get_absolute_url(self) -> str:
        return f"/{self.slug_path}/"

    def notice(self) -> str:
        if self.copyright_notice:
            return self.copyright_notice
        return self.parent.copyright_notice if self.parent is not None else ""


class Tag(models.Model):
    name = models.CharField(_("tag"), max_length=40, unique=True)

    class Meta:
        ordering = ["id"]  # the order tags were first used in

    def __str__(self) -> str:
        return self.name


class Article(BaseModel):
    class State(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("article state", "Draft")
        REVIEW = "review", pgettext_lazy("article state", "In review")
        PUBLISHED = "published", pgettext_lazy("article state", "Published")
        WITHDRAWN = "withdrawn", pgettext_lazy("article state", "Withdrawn")

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="articles")
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(pgettext_lazy("article", "summary"), max_length=500, blank=True)
    body = models.TextField(_("body"), help_text=_("Sanitised HTML."))
    author = models.CharField(_("author"), max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True)
    place = models.CharField(_("place"), max_length=100, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    scheduled_at = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.DRAFT)
    tags = models.ManyToManyField(Tag, blank=True, related_name="articles")
    cover = models.BinaryField(null=True, blank=True, editable=False)
    cover_type = models.CharField(max_length=40, blank=True)
    view_count = models.PositiveIntegerField(default=0)
    like_count = models.PositiveIntegerField(default=0)
    # jieba-segmented title, summary and body text: what full-text search reads.
    search_text = models.TextField(blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["state", "channel", "-published_at"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return f"/{self.channel.slug_path}/{self.pk}.html"

    @property
    def is_public(self) -> bool:
        return self.state == self.State.PUBLISHED and (
            self.published_at is None or self.published_at <= timezone.now()
        )


class Revision(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=500, blank=True)
    body = models.TextField()
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["article", "number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="portal_revision_unique")
        ]

    def __str__(self) -> str:
        return f"{self.article_id} r{self.number}"


class Attachment(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    data = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.filename


class Comment(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", pgettext_lazy("comment state", "Waiting for moderation")
        APPROVED = "approved", pgettext_lazy("comment state", "Approved")
        REJECTED = "rejected", pgettext_lazy("comment state", "Rejected")

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    name = models.CharField(pgettext_lazy("commenter", "name"), max_length=40, blank=True)
    text = models.TextField(_("comment"), max_length=2000)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    flagged_words = models.CharField(max_length=200, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    moderated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["article", "state"]),
            models.Index(fields=["state", "created_at"]),
            models.Index(fields=["address", "created_at"]),
        ]

    def __str__(self) -> str:
        return self.text[:40]


class BannedAddress(models.Model):
    address = models.GenericIPAddressField(unique=True)
    reason = models.CharField(max_length=200, blank=True)
    banned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return str(self.address)


class SensitiveWord(models.Model):
    """The comment filter's word list (data, editable in the admin)."""

    word = models.CharField(max_length=50, unique=True)
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.word


class ServiceLink(BaseModel):
    class Category(models.TextChoices):
        HEALTH = "health", _("Health")
        TRANSPORT = "transport", pgettext_lazy("service directory", "Transport")
        SOCIAL = "social", _("Social security")
        EDUCATION = "education", _("Education")
        POLICE = "police", _("Police")
        HOTLINE = "hotline", _("Hotlines")

    category = models.CharField(_("category"), max_length=12, choices=Category.choices)
    title_zh = models.CharField(_("title (Chinese)"), max_length=100)
    title_en = models.CharField(_("title (English)"), max_length=100)
    url = models.URLField(pgettext_lazy("web address", "address"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    position = models.PositiveIntegerField(default=0)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=40, blank=True)
    dead = models.BooleanField(default=False)

    class Meta:
        ordering = ["category", "position", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return in_language(self.title_zh, self.title_en)


class Feedback(models.Model):
    person_id = models.BigIntegerField(null=True, db_index=True)
    subject = models.CharField(_("subject"), max_length=100)
    text = models.TextField(_("message"), max_length=4000)
    handled = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.subject
