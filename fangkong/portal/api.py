"""API of the portal: public reads (no sign-in), comments (with the captcha),
and the editorial and moderation steps for staff."""

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router
from ninja.pagination import paginate
from ninja.params.functions import Query as QueryParam
from ninja.responses import Status

from fangkong.core.errors import ValidationFailed
from fangkong.core.middleware import client_ip
from fangkong.core.pagination import PageNumber
from fangkong.core.schema import Id, Schema
from fangkong.portal import captcha, search, selectors, services
from fangkong.portal.models import Article, Channel
from fangkong.portal.sanitise import html_text

router = Router(tags=["portal"])


# --- Schemas -------------------------------------------------------------------------------


class ChannelOut(Schema):
    id: int
    slug_path: str
    name_zh: str
    name_en: str
    pinned: bool
    comments_enabled: bool


class ArticleBrief(Schema):
    id: int
    title: str
    summary: str
    url: str
    published_at: dt.datetime | None
    state: str

    @staticmethod
    def resolve_url(obj: Article) -> str:
        return obj.get_absolute_url()


class ArticleOut(ArticleBrief):
    body: str
    author: str
    source: str
    place: str
    tags: list[str]
    view_count: int
    like_count: int
    comment_count: int = 0

    @staticmethod
    def resolve_tags(obj: Article) -> list[str]:
        return [t.name for t in obj.tags.all()]


class SearchHit(Schema):
    id: int
    title: str
    url: str
    score: float
    excerpt_html: str


class ArticleIn(Schema):
    channel: str = Field(..., description="Channel slug path, e.g. gsyl/lzyl")
    title: str = Field(..., max_length=200)
    body: str
    summary: str = Field("", max_length=500)
    author: str = Field("", max_length=100)
    source: str = Field("", max_length=200)
    place: str = Field("", max_length=100)
    tags: list[str] = []


class PublishIn(Schema):
    at: dt.datetime | None = None


class ReasonIn(Schema):
    reason: str = Field(..., max_length=200)


class CaptchaOut(Schema):
    key: str
    image_url: str


class CommentIn(Schema):
    text: str = Field(..., min_length=1, max_length=2000)
    name: str = Field("", max_length=40)
    parent: int | None = None
    captcha_key: str
    captcha_answer: str


class CommentOut(Schema):
    id: int
    state: str
    name: str
    text: str
    parent_id: int | None
    created_at: dt.datetime


class QueueItem(CommentOut):
    article_id: int
    flagged_words: str
    address: str | None


# --- Public reads ---------------------------------------------------------------------------


def _channel(path: str) -> Channel:
    parts = [p for p in path.strip("/").split("/") if p]
    if not 1 <= len(parts) <= 2:
        raise Http404
    return selectors.channel_by_slugs(parts[0], parts[1] if len(parts) == 2 else None)


@router.get("/channels", response=list[ChannelOut], auth=None)
def channel_list(request: HttpRequest) -> Any:
    return list(Channel.objects.select_related("parent"))


@router.get("/articles", response=list[ArticleBrief], auth=None)
@paginate(PageNumber)
def article_list(request: HttpRequest, channel: str | None = None) -> Any:
    if channel:
        return selectors.channel_articles(_channel(channel)).only(
            "id",
            "title",
            "summary",
            "published_at",
            "state",
            "channel__slug",
            "channel__parent__slug",
        )
    return (
        selectors.published_articles()
        .select_related("channel__parent")
        .defer("body", "search_text", "cover")
    )


@router.get("/articles/{int:article_id}", response=ArticleOut, auth=None)
def article_get(request: HttpRequest, article_id: int) -> Any:
    article = selectors.article_public(article_id)
    _threads, article.comment_count = selectors.approved_comments(article)  # type: ignore[attr-defined]
    return article


@router.get("/search", response=list[SearchHit], auth=None)
def article_search(
    request: HttpRequest, q: str = QueryParam(..., min_length=1, max_length=100)
) -> Any:
    hits = search.search_ids(q, limit=30)
    found = {
        a.pk: a
        for a in Article.objects.filter(pk__in=[h[0] for h in hits]).select_related(
            "channel__parent"
        )
    }
    return [
        {
            "id": a.pk,
            "title": a.title,
            "url": a.get_absolute_url(),
            "score": score,
            "excerpt_html": str(search.highlight(html_text(a.body), q)),
        }
        for pk, score in hits
        if (a := found.get(pk)) is not None
    ]


@router.get("/articles/{int:article_id}/comments", response=list[CommentOut], auth=None)
def comment_list(request: HttpRequest, article_id: int) -> Any:
    article = selectors.article_public(article_id)
    threads, _count = selectors.approved_comments(article)
    out = []
    for c in threads:
        out.append(c)
        out.extend(c.approved_replies)
    return out


@router.post("/captcha", response={201: CaptchaOut}, auth=None)
def captcha_new(request: HttpRequest) -> Status[Any]:
    """A new challenge: its key and the address of its picture (never the answer's
    question as text). A client may ask for a limited number in a few minutes (429)."""
    key = captcha.challenge_new(client_ip(request))
    return Status(201, {"key": key, "image_url": captcha.image_url(key)})


@router.post("/articles/{int:article_id}/comments", response={201: CommentOut}, auth=None)
def comment_create(request: HttpRequest, article_id: int, payload: CommentIn) -> Status[Any]:
    article = selectors.article_public(article_id)
    if not captcha.challenge_passed(payload.captcha_key, payload.captcha_answer):
        raise ValidationFailed(fields={"captcha_answer": _("The verification code is wrong.")})
    comment = services.comment_post(
        article=article,
        text=payload.text,
        name=payload.name,
        parent_id=payload.parent,
        address=client_ip(request),
    )
    return Status(201, comment)


@router.get("/zones", auth=None)
def zones(request: HttpRequest, district_id: Id | None = None) -> Any:
    return {
        "zones": selectors.public_zones(district_id=district_id),
        "levels": selectors.zones_by_level(),
    }


@router.get("/sites", auth=None)
def sites(request: HttpRequest, district_id: Id | None = None, open_now: bool = False) -> Any:
    rows = selectors.public_sites(district_id=district_id)
    if rows is not None and open_now:
        rows = [r for r in rows if r.get("open_now")]
    return {"sites": rows}


@router.get("/statistics/daily", auth=None)
def statistics_daily(request: HttpRequest, days: int = QueryParam(30, ge=1, le=366)) -> Any:
    daily = selectors.daily_new_cases(days=days)
    return {
        "days": [
            {"date": d.isoformat(), "new_confirmed": c, "new_asymptomatic": a}
            for d, c, a in zip(
                daily["days"], daily["confirmed"], daily["asymptomatic"], strict=True
            )
        ],
        "today": {k: v for k, v in selectors.today_figures().items()},
    }


@router.get("/directory", auth=None)
def directory(request: HttpRequest) -> Any:
    return [
        {
            "category": g["code"],
            "label": str(g["label"]),
            "links": [
                {"title": link.title, "url": link.url, "phone": link.phone, "dead": link.dead}
                for link in g["links"]
            ],
        }
        for g in selectors.directory()
    ]


# --- Staff ---------------------------------------------------------------------------------


@router.post("/articles", response={201: ArticleOut})
def article_create(request: HttpRequest, payload: ArticleIn) -> Status[Any]:
    try:
        channel = _channel(payload.channel)
    except Http404 as exc:
        raise ValidationFailed(fields={"channel": _("No such channel.")}) from exc
    data = payload.dict()
    data.pop("channel")
    article = services.article_create(actor=request.user, channel=channel, **data)
    return Status(201, article)


def _staff_article(article_id: int) -> Article:
    article = Article.objects.filter(pk=article_id).first()
    if article is None:
        raise Http404
    return article


@router.post("/articles/{int:article_id}/submit", response=ArticleOut)
def article_submit(request: HttpRequest, article_id: int) -> Any:
    return services.article_submit(actor=request.user, article=_staff_article(article_id))


@router.post("/articles/{int:article_id}/publish", response=ArticleOut)
def article_publish(request: HttpRequest, article_id: int, payload: PublishIn) -> Any:
    return services.article_publish(
        actor=request.user, article=_staff_article(article_id), at=payload.at
    )


@router.post("/articles/{int:article_id}/return", response=ArticleOut)
def article_return(request: HttpRequest, article_id: int, payload: ReasonIn) -> Any:
    return services.article_return(
        actor=request.user, article=_staff_article(article_id), reason=payload.reason
    )


@router.post("/articles/{int:article_id}/withdraw", response=ArticleOut)
def article_withdraw(request: HttpRequest, article_id: int, payload: ReasonIn) -> Any:
    return services.article_withdraw(
        actor=request.user, article=_staff_article(article_id), reason=payload.reason
    )


@router.get("/comments/queue", response=list[QueueItem])
def comment_queue(request: HttpRequest) -> Any:
    return list(selectors.moderation_queue(request.user)[:200])


@router.post("/comments/{int:comment_id}/approve", response=CommentOut)
def comment_approve(request: HttpRequest, comment_id: int) -> Any:
    return services.comment_approve(actor=request.user, comment_id=comment_id)


@router.post("/comments/{int:comment_id}/reject", response=CommentOut)
def comment_reject(request: HttpRequest, comment_id: int, payload: ReasonIn) -> Any:
    return services.comment_reject(actor=request.user, comment_id=comment_id, reason=payload.reason)


@router.post("/comments/{int:comment_id}/ban", response={201: dict})
def address_ban(request: HttpRequest, comment_id: int, payload: ReasonIn) -> Status[Any]:
    ban = services.address_ban(actor=request.user, comment_id=comment_id, reason=payload.reason)
    return Status(201, {"address": ban.address, "reason": ban.reason})
