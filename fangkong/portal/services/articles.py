"""Articles: writing, the editorial workflow (draft -> review -> published ->
withdrawn), scheduled publishing, revisions, covers and attachments."""

from __future__ import annotations

import datetime as dt
import difflib
import io
import threading
import time
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import foureyes, permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, PermissionDenied, ValidationFailed
from fangkong.core.types import Actor, acting_user
from fangkong.portal import pagecache, search
from fangkong.portal.models import Article, Attachment, Channel, Revision, Tag
from fangkong.portal.sanitise import clean_body, html_text, plain_text

State = Article.State

COVER_MAX_BYTES = 5 * 1024 * 1024
COVER_BOX = (1200, 800)
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
# Accepted attachments: name suffix -> (content type, what the file must start with).
ATTACHMENT_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    ".xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (b"PK\x03\x04",),
    ),
}


def _require_edit(actor: Actor) -> None:
    permissions.require(actor, "portal.edit")


def _require_review(actor: Actor) -> None:
    permissions.require(actor, "portal.review")


def _tags(names: Iterable[str]) -> list[Tag]:
    out = []
    for name in names:
        name = plain_text(name)[:40]
        if name:
            out.append(Tag.objects.get_or_create(name=name)[0])
    return out


def _search_text(article: Article) -> str:
    return search.segment(
        " ".join([article.title, article.summary, html_text(article.body), article.place])
    )


def _reindex(article: Article) -> None:
    article.search_text = _search_text(article)
    article.save(update_fields=["search_text", "updated_at"])
    search.index_article(article.pk, article.search_text)


def _revision(article: Article, actor: Actor, note: str = "") -> Revision:
    last = article.revisions.order_by("-number").values_list("number", flat=True).first() or 0
    return Revision.objects.create(
        article=article,
        number=last + 1,
        title=article.title,
        summary=article.summary,
        body=article.body,
        editor=acting_user(actor),
        note=note,
    )


def _validate(title: str, body: str) -> None:
    fields = {}
    if not title.strip():
        fields["title"] = _("A title is needed.")
    if not html_text(body):
        fields["body"] = _("The body is empty (after removing what is not allowed).")
    if fields:
        raise ValidationFailed(fields=fields)


def cover_resize(data: bytes) -> bytes:
    """An uploaded image as a JPEG no larger than the cover box; refuses non-images."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > COVER_MAX_BYTES:
        raise ValidationFailed(
            fields={"cover": _("The image is larger than %(mb)d MB.") % {"mb": 5}}
        )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image: Image.Image = Image.open(io.BytesIO(data))
        if image.format not in {"JPEG", "PNG", "WEBP", "GIF"}:
            raise ValidationFailed(fields={"cover": _("Use a JPEG, PNG, WebP or GIF image.")})
        if image.width * image.height > 40_000_000:
            raise ValidationFailed(fields={"cover": _("The image has too many pixels.")})
        image = image.convert("RGB")
        image.thumbnail(COVER_BOX)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=82, optimize=True)
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValidationFailed(fields={"cover": _("This file is not an image.")}) from exc
    return out.getvalue()


@transaction.atomic
def article_create(
    *,
    actor: Actor,
    channel: Channel,
    title: str,
    body: str,
    summary: str = "",
    author: str = "",
    source: str = "",
    place: str = "",
    tags: Iterable[str] = (),
    cover: bytes | None = None,
) -> Article:
    _require_edit(actor)
    body = clean_body(body)
    _validate(title, body)
    article = Article.objects.create(
        channel=channel,
        title=plain_text(title)[:200],
        summary=plain_text(summary)[:500],
        body=body,
        author=plain_text(author)[:100],
        source=plain_text(source)[:200],
        place=plain_text(place)[:100],
        cover=cover_resize(cover) if cover else None,
        cover_type="image/jpeg" if cover else "",
        created_by=acting_user(actor),
    )
    article.tags.set(_tags(tags))
    _revision(article, actor, note="created")
    _reindex(article)
    audit_record(
        actor=actor,
        action="portal.article.create",
        obj=article,
        changes={"title": [None, article.title]},
    )
    return article


EDITABLE = ("title", "summary", "body", "author", "source", "place")


@transaction.atomic
def article_update(
    *,
    actor: Actor,
    article: Article,
    channel: Channel | None = None,
    tags: Iterable[str] | None = None,
    cover: bytes | None = None,
    **fields: str,
) -> Article:
    """Edit an article, its channel too. A changed published article goes back to
    review (and off the public site) until a reviewer publishes it; every change
    is a revision and an audit entry."""
    _require_edit(actor)
    article = Article.objects.select_for_update().select_related("channel").get(pk=article.pk)
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    before = {k: getattr(article, k) for k in EDITABLE}
    for key, value in fields.items():
        value = clean_body(value) if key == "body" else plain_text(value)
        setattr(article, key, value)
    _validate(article.title, article.body)
    if cover:
        article.cover = cover_resize(cover)
        article.cover_type = "image/jpeg"
    after = {k: getattr(article, k) for k in EDITABLE}
    changed = {k: [before[k], after[k]] for k in EDITABLE if before[k] != after[k]}
    if channel is not None and channel.pk != article.channel_id:
        # Moving an article changes where the public reads it: a change like any other.
        changed["channel"] = [str(article.channel), str(channel)]
        article.channel = channel
    if article.state == State.PUBLISHED and (changed or cover):
        # Four eyes on what the public reads: changed text goes back to review,
        # whoever changed it, and is published by someone else.
        article.state = State.REVIEW
    audited = {k: ["…", "…"] if k == "body" else v for k, v in changed.items()}
    if cover:
        audited["cover"] = ["…", "…"]
    if article.scheduled_at is not None and (changed or cover):
        # A reviewer scheduled the text they read: a changed text is reviewed
        # again, never published by the clock unread.
        audited["scheduled_at"] = [article.scheduled_at.isoformat(), None]
        article.scheduled_at = None
    article.save()
    if tags is not None:
        article.tags.set(_tags(tags))
    if changed or cover:
        # A new cover is a change too: its author is the last editor, whom the
        # second-person rule keeps from publishing it.
        _revision(article, actor, note="" if changed else "cover")
    if changed:
        _reindex(article)
    audit_record(
        actor=actor,
        action="portal.article.update",
        obj=article,
        changes=audited,
    )
    pagecache.bump()
    return article


def _transition(article: Article, allowed: set[str], to: str) -> Article:
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.state not in allowed:
        raise Conflict(
            _("This article is %(state)s; that step is not possible now.")
            % {"state": article.get_state_display()}
        )
    article.state = to
    return article


@transaction.atomic
def article_submit(*, actor: Actor, article: Article) -> Article:
    """Draft (or withdrawn) -> review."""
    _require_edit(actor)
    article = _transition(article, {State.DRAFT, State.WITHDRAWN}, State.REVIEW)
    article.save(update_fields=["state", "updated_at"])
    audit_record(
        actor=actor,
        action="portal.article.submit",
        obj=article,
        changes={"state": ["draft", "review"]},
    )
    return article


@transaction.atomic
def article_return(*, actor: Actor, article: Article, reason: str) -> Article:
    """Review -> draft, with the reviewer's reason."""
    _require_review(actor)
    if not reason.strip():
        raise ValidationFailed(fields={"reason": _("Say what needs to change.")})
    article = _transition(article, {State.REVIEW}, State.DRAFT)
    article.scheduled_at = None
    article.save(update_fields=["state", "scheduled_at", "updated_at"])
    audit_record(
        actor=actor,
        action="portal.article.return",
        obj=article,
        changes={"state": ["review", "draft"]},
        reason=reason,
    )
    return article


@transaction.atomic
def article_publish(*, actor: Actor, article: Article, at: dt.datetime | None = None) -> Article:
    """Review -> published now, or scheduled for ``at`` (published by the
    ``portal_publish_due`` job when the time comes)."""
    _require_review(actor)
    now = timezone.now()
    article = _transition(article, {State.REVIEW}, State.REVIEW)
    _require_second_person(actor, article)
    if at is not None and at > now:
        article.scheduled_at = at
        article.save(update_fields=["scheduled_at", "updated_at"])
        audit_record(
            actor=actor,
            action="portal.article.schedule",
            obj=article,
            changes={"scheduled_at": [None, at.isoformat()]},
        )
        return article
    _publish(article, now)
    audit_record(
        actor=actor,
        action="portal.article.publish",
        obj=article,
        changes={"state": ["review", "published"]},
    )
    return article


def _require_second_person(actor: Actor, article: Article) -> None:
    """Nobody publishes text they wrote or changed last, nor text last changed by
    an account linked to theirs (``core.foureyes``): a second person reviews it."""
    last = article.revisions.order_by("-number").values_list("editor_id", flat=True).first()
    foureyes.require_second_person(
        actor=actor,
        first_id=last,
        own_message=_("You changed this article last; another reviewer must publish it."),
        own_code="own_article",
    )


def _publish(article: Article, now: dt.datetime) -> None:
    article.state = State.PUBLISHED
    article.published_at = article.published_at or now
    article.scheduled_at = None
    article.save(update_fields=["state", "published_at", "scheduled_at", "updated_at"])
    search.index_article(article.pk, article.search_text)
    pagecache.bump()


@transaction.atomic
def articles_publish_due(*, now: dt.datetime | None = None) -> int:
    """Publish the reviewed articles whose scheduled time has come (Huey job)."""
    now = now or timezone.now()
    due = list(
        Article.objects.select_for_update().filter(state=State.REVIEW, scheduled_at__lte=now)
    )
    for article in due:
        _publish(article, now)
        audit_record(
            actor=None,
            action="portal.article.publish",
            obj=article,
            changes={"state": ["review", "published"]},
            reason="scheduled",
        )
    return len(due)


@transaction.atomic
def article_withdraw(*, actor: Actor, article: Article, reason: str) -> Article:
    _require_review(actor)
    if not reason.strip():
        raise ValidationFailed(fields={"reason": _("Give the reason for withdrawing.")})
    article = _transition(article, {State.PUBLISHED}, State.WITHDRAWN)
    article.save(update_fields=["state", "updated_at"])
    audit_record(
        actor=actor,
        action="portal.article.withdraw",
        obj=article,
        changes={"state": ["published", "withdrawn"]},
        reason=reason,
    )
    pagecache.bump()
    return article


def revision_diff(article: Article, old: int, new: int) -> list[str]:
    """Unified diff (lines) of two revisions' title, summary and body."""
    revs = {r.number: r for r in article.revisions.filter(number__in=[old, new])}
    if old not in revs or new not in revs:
        raise ValidationFailed(fields={"revision": _("No such revision.")})

    def lines(r: Revision) -> list[str]:
        body = r.body.replace("</p>", "</p>\n").replace("<br>", "<br>\n")
        return [f"# {r.title}", f"> {r.summary}", *body.splitlines()]

    return list(
        difflib.unified_diff(
            lines(revs[old]), lines(revs[new]), f"r{old}", f"r{new}", lineterm="", n=1
        )
    )


@transaction.atomic
def attachment_add(*, actor: Actor, article: Article, filename: str, data: bytes) -> Attachment:
    """Attach a file; refuses big files and types not on the list, checking the
    file's first bytes, not only its name."""
    _require_edit(actor)
    name = plain_text(filename).replace("/", "_").replace("\\", "_")[:200] or "file"
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if len(data) > ATTACHMENT_MAX_BYTES:
        raise ValidationFailed(
            fields={"file": _("The file is larger than %(mb)d MB.") % {"mb": 10}}
        )
    kind = ATTACHMENT_TYPES.get(suffix)
    if kind is None or not data.startswith(kind[1]):
        raise ValidationFailed(
            fields={"file": _("Only PDF, PNG, JPEG, DOCX and XLSX files can be attached.")}
        )
    if not permissions.has_capability(actor, "portal.edit"):
        raise PermissionDenied()
    att = Attachment.objects.create(
        article=article, filename=name, content_type=kind[0], size=len(data), data=data
    )
    audit_record(
        actor=actor, action="portal.attachment.add", obj=att, changes={"filename": [None, name]}
    )
    pagecache.bump()
    return att


# Views are counted in memory and written in one UPDATE per article every few
# seconds, so reading an article (even from the page cache) costs no write.
_pending_views: dict[int, int] = {}
_views_lock = threading.Lock()
_last_flush = [0.0]
VIEWS_FLUSH_SECONDS = 10.0


def article_view(article_id: int) -> None:
    with _views_lock:
        _pending_views[article_id] = _pending_views.get(article_id, 0) + 1
        due = time.monotonic() - _last_flush[0] >= VIEWS_FLUSH_SECONDS
    if due:
        views_flush()


def views_flush() -> int:
    """Write the counted views; returns how many were written."""
    with _views_lock:
        pending = dict(_pending_views)
        _pending_views.clear()
        _last_flush[0] = time.monotonic()
    for article_id, n in pending.items():
        Article.objects.filter(pk=article_id).update(view_count=F("view_count") + n)
    return sum(pending.values())


def article_like(article_id: int) -> int:
    Article.objects.filter(pk=article_id, state=State.PUBLISHED).update(
        like_count=F("like_count") + 1
    )
    pagecache.bump()
    return Article.objects.filter(pk=article_id).values_list("like_count", flat=True).first() or 0
