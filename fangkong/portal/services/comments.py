"""Comments: posting (rate limit, banned addresses, sensitive-word filter) and
moderation (approve, reject with reason, ban an address)."""

from __future__ import annotations

import datetime as dt

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import ApplicationError, Conflict, NotFound, ValidationFailed
from fangkong.core.types import Actor, acting_user
from fangkong.portal import pagecache
from fangkong.portal.models import Article, BannedAddress, Comment, SensitiveWord
from fangkong.portal.sanitise import plain_text

# Per address: at most RATE_MAX comments in RATE_WINDOW.
RATE_MAX = 3
RATE_WINDOW = dt.timedelta(minutes=10)
WORDS_CACHE_KEY = "portal:sensitive-words"


class RateLimited(ApplicationError):
    status = 429
    code = "rate_limited"


class Refused(ApplicationError):
    status = 403
    code = "refused"


def sensitive_words() -> list[str]:
    words: list[str] | None = cache.get(WORDS_CACHE_KEY)
    if words is None:
        words = list(SensitiveWord.objects.filter(active=True).values_list("word", flat=True))
        cache.set(WORDS_CACHE_KEY, words, 300)
    return words


def words_changed() -> None:
    cache.delete(WORDS_CACHE_KEY)


def flagged_words(text: str) -> list[str]:
    low = text.lower()
    # Also catch words split by spaces or punctuation (敏 感, 敏-感).
    squeezed = "".join(ch for ch in low if ch.isalnum())
    return [w for w in sensitive_words() if w.lower() in low or w.lower() in squeezed]


def comment_post(
    *,
    article: Article,
    text: str,
    name: str = "",
    address: str | None = None,
    parent_id: int | None = None,
    now: dt.datetime | None = None,
) -> Comment:
    """A resident's comment. It is shown only once it passed the word filter and,
    on pre-moderated channels (the default), a moderator approved it."""
    now = now or timezone.now()
    if not article.is_public:
        raise NotFound()
    if not article.channel.comments_enabled:
        raise Refused(_("Comments are closed on this channel."))
    text = plain_text(text)[:2000]
    name = plain_text(name)[:40]
    if not text:
        raise ValidationFailed(fields={"text": _("Write a comment first.")})
    if address and BannedAddress.objects.filter(address=address).exists():
        raise Refused(_("Comments from this address are not accepted."))
    with transaction.atomic():
        if address:
            recent = Comment.objects.filter(
                address=address, created_at__gte=now - RATE_WINDOW
            ).count()
            if recent >= RATE_MAX:
                raise RateLimited(
                    _("Too many comments from your address; please try again in a few minutes.")
                )
        parent = None
        if parent_id:
            parent = Comment.objects.filter(pk=parent_id, article=article).first()
            if parent is None:
                raise ValidationFailed(fields={"parent": _("That comment does not exist.")})
            if parent.parent_id:  # replies are one level deep: answer the thread
                parent = parent.parent
        flagged = flagged_words(text + " " + name)
        state = Comment.State.PENDING
        if not flagged and not article.channel.comments_premoderated:
            state = Comment.State.APPROVED
        comment = Comment.objects.create(
            article=article,
            parent=parent,
            name=name,
            text=text,
            state=state,
            flagged_words=",".join(flagged)[:200],
            address=address,
            created_at=now,
        )
        if state == Comment.State.APPROVED:
            pagecache.bump()
    return comment


def _moderate(actor: Actor, comment_id: int) -> Comment:
    permissions.require(actor, "portal.moderate")
    comment = Comment.objects.select_for_update().filter(pk=comment_id).first()
    if comment is None:
        raise NotFound()
    return comment


@transaction.atomic
def comment_approve(*, actor: Actor, comment_id: int) -> Comment:
    comment = _moderate(actor, comment_id)
    if comment.state == Comment.State.APPROVED:
        raise Conflict(_("This comment is already approved."))
    before = comment.state
    comment.state = Comment.State.APPROVED
    comment.moderated_by, comment.moderated_at = acting_user(actor), timezone.now()
    comment.save(update_fields=["state", "moderated_by", "moderated_at"])
    audit_record(
        actor=actor,
        action="portal.comment.approve",
        obj=comment,
        changes={"state": [before, "approved"]},
    )
    pagecache.bump()
    return comment


@transaction.atomic
def comment_reject(*, actor: Actor, comment_id: int, reason: str) -> Comment:
    comment = _moderate(actor, comment_id)
    if not reason.strip():
        raise ValidationFailed(fields={"reason": _("Give the reason for rejecting.")})
    before = comment.state
    comment.state = Comment.State.REJECTED
    comment.reason = plain_text(reason)[:200]
    comment.moderated_by, comment.moderated_at = acting_user(actor), timezone.now()
    comment.save(update_fields=["state", "reason", "moderated_by", "moderated_at"])
    audit_record(
        actor=actor,
        action="portal.comment.reject",
        obj=comment,
        changes={"state": [before, "rejected"]},
        reason=comment.reason,
    )
    pagecache.bump()
    return comment


@transaction.atomic
def address_ban(*, actor: Actor, comment_id: int, reason: str) -> BannedAddress:
    """Ban the address a comment came from; its waiting comments are rejected."""
    comment = _moderate(actor, comment_id)
    if not comment.address:
        raise ValidationFailed(fields={"address": _("This comment has no address.")})
    reason = plain_text(reason)[:200] or _("Banned by a moderator.")
    ban, _created = BannedAddress.objects.get_or_create(
        address=comment.address, defaults={"reason": reason, "banned_by": acting_user(actor)}
    )
    Comment.objects.filter(address=comment.address, state=Comment.State.PENDING).update(
        state=Comment.State.REJECTED, reason=reason, moderated_by=actor, moderated_at=timezone.now()
    )
    audit_record(
        actor=actor,
        action="portal.address.ban",
        obj=ban,
        changes={"address": [None, comment.address]},
        reason=reason,
    )
    pagecache.bump()
    return ban
