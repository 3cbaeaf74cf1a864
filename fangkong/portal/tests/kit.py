"""Shared helpers of the portal tests."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from fangkong.conftest import make_staff
from fangkong.portal.models import Article, Channel
from fangkong.portal.services import article_create, article_publish, article_submit


def channels() -> tuple[Channel, Channel, Channel]:
    top = Channel.objects.create(
        slug="gsyl", name_zh="公示公告", name_en="Bulletins", copyright_notice="版权声明"
    )
    sub = Channel.objects.create(
        parent=top, slug="lzyl", name_zh="防控动态", name_en="Prevention news"
    )
    notices = Channel.objects.create(
        slug="tg", name_zh="通告", name_en="Notices", pinned=True, comments_enabled=False
    )
    return top, sub, notices


def _staff(username: str, city: Any, role: str) -> Any:
    from django.contrib.auth import get_user_model

    found = get_user_model().objects.filter(username=username).first()
    return found or make_staff(username, city.city, role)


def city_of(actor: User) -> Any:
    """Enough of a test city for ``_staff``: the (staff) actor's own top node."""
    from types import SimpleNamespace

    node = actor.staff.jurisdiction
    while node.parent is not None:
        node = node.parent
    return SimpleNamespace(city=node)


def editor(city: Any) -> Any:
    return _staff("editor", city, "portal_editor")


def reviewer(city: Any) -> Any:
    return _staff("reviewer", city, "portal_reviewer")


def published(
    channel: Channel,
    actor: User,
    *,
    title: str = "疫情防控工作会议",
    body: str = "<p>会议部署疫情防控工作。</p>",
    tags: tuple[str, ...] = ("疫情", "防控"),
) -> Article:
    # Written by an editor, published by ``actor``: nobody publishes their own text.
    writer = _staff("writer", city_of(actor), "portal_editor")
    article = article_create(
        actor=writer,
        channel=channel,
        title=title,
        body=body,
        tags=tags,
        author="网络编辑",
        place="太原",
    )
    article_submit(actor=writer, article=article)
    article_publish(actor=actor, article=article, at=None)
    article.refresh_from_db()
    assert article.published_at is not None and article.published_at <= timezone.now()
    return article
