"""Reads of the public portal. Everything here is public (published articles,
approved comments, aggregate figures, places) — except the queues, which take
the staff actor and check the capability."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from fangkong.core import permissions
from fangkong.core.types import Actor
from fangkong.investigation.selectors.shared import daily_public_case_counts
from fangkong.portal.models import Article, Attachment, Channel, Comment, Feedback, ServiceLink
from fangkong.screening.selectors import shared as screening_shared
from fangkong.zones.selectors import shared as zones_shared

State = Article.State


def published_articles() -> QuerySet[Article]:
    return Article.objects.filter(state=State.PUBLISHED, published_at__lte=timezone.now())


def channel_by_slugs(top: str, sub: str | None = None) -> Channel:
    qs = Channel.objects.select_related("parent")
    if sub is None:
        found = qs.filter(parent__isnull=True, slug=top).first()
    else:
        found = qs.filter(parent__parent__isnull=True, parent__slug=top, slug=sub).first()
    if found is None:
        raise Http404("no such channel")
    return found


def channel_articles(channel: Channel) -> QuerySet[Article]:
    """Published articles of a channel and its sub-channels, newest first."""
    return (
        published_articles()
        .filter(Q(channel=channel) | Q(channel__parent=channel))
        .select_related("channel__parent")
        .only("id", "title", "summary", "published_at", "channel__slug", "channel__parent__slug")
    )


def article_public(article_id: int) -> Article:
    article = (
        published_articles()
        .select_related("channel__parent")
        .prefetch_related(
            "tags", Prefetch("attachments", queryset=Attachment.objects.defer("data"))
        )
        .defer("search_text", "cover")
        .filter(pk=article_id)
        .first()
    )
    if article is None:
        raise Http404("no such article")
    return article


def related_articles(article: Article, limit: int = 5) -> list[Article]:
    """Published articles sharing tags with this one, most shared tags first."""
    tag_ids = [t.pk for t in article.tags.all()]
    if not tag_ids:
        return []
    return list(
        published_articles()
        .filter(tags__in=tag_ids)
        .exclude(pk=article.pk)
        .annotate(shared=Count("tags"))
        .select_related("channel__parent")
        .only("id", "title", "published_at", "channel__slug", "channel__parent__slug")
        .order_by("-shared", "-published_at")[:limit]
    )


def approved_comments(article: Article) -> tuple[list[Any], int]:
    """Approved top-level comments with their approved replies, and the count of all
    approved comments (replies included)."""
    approved = Comment.objects.filter(state=Comment.State.APPROVED)
    threads: list[Any] = list(
        approved.filter(article=article, parent__isnull=True).prefetch_related(
            Prefetch(
                "replies", queryset=approved.order_by("created_at"), to_attr="approved_replies"
            )
        )
    )
    count = sum(1 + len(c.approved_replies) for c in threads)
    return threads, count


def home_sections(per_channel: int = 6) -> dict[str, Any]:
    tops = list(Channel.objects.filter(parent__isnull=True))
    pinned = [c for c in tops if c.pinned]
    notices = list(
        published_articles()
        .filter(Q(channel__in=pinned) | Q(channel__parent__in=pinned))
        .select_related("channel__parent")
        .only("id", "title", "published_at", "channel__slug", "channel__parent__slug")[:5]
    )
    sections = []
    for channel in tops:
        if channel.pinned:
            continue
        items = list(channel_articles(channel)[:per_channel])
        if items:
            sections.append({"channel": channel, "articles": items})
    return {"notices": notices, "sections": sections}


def sitemap_articles() -> QuerySet[Article]:
    return (
        published_articles()
        .select_related("channel__parent")
        .only("id", "updated_at", "channel__slug", "channel__parent__slug")
    )


def directory() -> list[dict[str, Any]]:
    groups: dict[str, list[ServiceLink]] = defaultdict(list)
    for link in ServiceLink.objects.all():
        groups[link.category].append(link)
    return [
        {"code": code, "label": label, "links": groups[code]}
        for code, label in ServiceLink.Category.choices
        if groups.get(code)
    ]


# --- Staff queues -------------------------------------------------------------------


def moderation_queue(actor: Actor) -> QuerySet[Comment]:
    permissions.require(actor, "portal.moderate")
    return (
        Comment.objects.filter(state=Comment.State.PENDING)
        .select_related("article__channel__parent")
        .order_by("created_at")
    )


def feedback_list(actor: Actor) -> QuerySet[Feedback]:
    permissions.require(actor, "portal.feedback")
    return Feedback.objects.all()


def editor_articles(actor: Actor) -> QuerySet[Article]:
    permissions.require(actor, "portal.edit")
    return Article.objects.select_related("channel__parent").defer("body", "search_text", "cover")


# --- Public information over the other apps' selectors --------------------------------


def public_zones(district_id: int | None = None) -> list[dict[str, Any]]:
    return zones_shared.public_zones(district_id=district_id)


def public_zone_map() -> dict[str, Any]:
    return zones_shared.public_zone_map()


def zones_by_level() -> list[dict[str, Any]]:
    return zones_shared.zones_count_by_level()


def public_sites(
    *, now: dt.datetime | None = None, district_id: int | None = None
) -> list[dict[str, Any]]:
    return screening_shared.public_sites(now=now, district_id=district_id)


def sites_open_count() -> int:
    return screening_shared.sites_open_count()


def daily_new_cases(days: int = 30, today: dt.date | None = None) -> dict[str, Any]:
    """City-wide new confirmed and asymptomatic cases per report day (aggregates
    only: no person, no place)."""
    today = today or timezone.localdate()
    since = today - dt.timedelta(days=days - 1)
    rows = daily_public_case_counts(since, today)
    by: dict[str, dict[dt.date, int]] = defaultdict(dict)
    for day, classification, n in rows:
        by[classification][day] = n
    all_days = [since + dt.timedelta(days=i) for i in range(days)]
    return {
        "days": all_days,
        "confirmed": [by["confirmed"].get(d, 0) for d in all_days],
        "asymptomatic": [by["asymptomatic"].get(d, 0) for d in all_days],
    }


def today_figures() -> dict[str, Any]:
    daily = daily_new_cases(days=1)
    return {
        "new_confirmed": daily["confirmed"][-1],
        "new_asymptomatic": daily["asymptomatic"][-1],
        "zones": zones_by_level(),
        "sites_open": sites_open_count(),
    }


# --- Distance from a community ----------------------------------------------------------


def _centroid(geometry: Any) -> tuple[float, float] | None:
    """Mean of a GeoJSON geometry's vertices, as (lat, lon)."""
    points: list[tuple[float, float]] = []

    def walk(coords: Any) -> None:
        if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
            points.append((float(coords[1]), float(coords[0])))
        elif isinstance(coords, (list, tuple)):
            for c in coords:
                walk(c)

    if isinstance(geometry, dict):
        walk(geometry.get("coordinates"))
    if not points:
        return None
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


def communities() -> list[dict[str, Any]]:
    from fangkong.core.models import Jurisdiction

    out = []
    for node in Jurisdiction.objects.filter(level="community", boundary__isnull=False).only(
        "id", "name_zh", "name_en", "boundary"
    )[:2000]:
        centre = _centroid(node.boundary)
        if centre:
            out.append({"id": node.pk, "name": node.name, "lat": centre[0], "lon": centre[1]})
    return out


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 6371.0 * 2 * math.asin(math.sqrt(h))
