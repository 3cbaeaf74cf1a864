"""Demo portal: the seed article as the first bulletin at its original address
(/gsyl/lzyl/10077.html), channels, a few notices, and the services directory;
work for the portal logins: residents' comments (some approved, some waiting for
the moderator), a district bulletin sent for review, residents' feedback."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from fangkong.portal import search
from fangkong.portal.models import Article, Channel, Comment, Feedback, ServiceLink, Tag
from fangkong.portal.sanitise import clean_body, text_to_paragraphs
from fangkong.portal.services.articles import _search_text, article_create, article_submit
from fangkong.portal.services.comments import comment_approve, comment_post
from fangkong.portal.services.selfservice import feedback_create

SEED_ID = 10077
SEED_TITLE = "韦韬主持召开市疫情防控工作领导小组第139次会议"
SEED_TIME = dt.datetime(2022, 10, 8, 10, 10, 6, tzinfo=ZoneInfo("Asia/Shanghai"))
SEED_BODY = Path(__file__).resolve().parent / "fixtures" / "demo_article_10077.txt"
NOTICE = "本文仅代表作者观点，不代表本站立场。\n本文系作者授权发表，未经许可，不得转载。"

CHANNELS = [
    # (parent slug, slug, name zh, name en, pinned, comments)
    (None, "tzgg", "通告", "Official notices", True, False),
    (None, "gsyl", "要闻", "News", False, True),
    ("gsyl", "lzyl", "防控动态", "Prevention news", False, True),
    ("gsyl", "qxdt", "区县动态", "District news", False, True),
    (None, "fkzs", "防控知识", "Health advice", False, True),
]

NOTICES = [
    (
        "关于进一步做好核酸检测工作的通告",
        "全市范围内继续开展常态化核酸检测。请广大市民就近到便民核酸采样点检测，"
        "检测时全程佩戴口罩，保持一米以上距离。",
    ),
    (
        "关于调整部分区域风险等级的通告",
        "根据疫情防控需要，经市疫情防控工作领导小组研究决定，调整部分区域风险等级。"
        "具体区域以风险区页面公布为准。",
    ),
    (
        "关于外地来（返）人员报备的通告",
        "所有外地来（返）人员请提前通过本站“我的服务—抵达报备”如实报备行程，抵达后按要求进行核酸检测。",
    ),
]

ADVICE = [
    (
        "科学佩戴口罩，做好个人防护",
        "在人员密集场所请正确佩戴口罩，勤洗手，常通风。",
        ["防控", "健康"],
    ),
    (
        "出现发热等症状怎么办",
        "出现发热、干咳等症状，请及时到就近发热门诊就诊，途中做好防护。",
        ["健康", "风险"],
    ),
]

LINKS = [
    ("hotline", "政务服务便民热线", "Government service hotline", "", "12345"),
    ("hotline", "卫生健康服务热线", "Health service hotline", "", "12320"),
    (
        "health",
        "山西省卫生健康委员会",
        "Shanxi Health Commission",
        "https://wjw.shanxi.gov.cn/",
        "",
    ),
    (
        "health",
        "国家政务服务平台",
        "National government service platform",
        "https://gjzwfw.www.gov.cn/",
        "",
    ),
    (
        "transport",
        "太原市交通运输局",
        "Taiyuan Transport Bureau",
        "https://jtj.taiyuan.gov.cn/",
        "",
    ),
    (
        "social",
        "山西省人力资源和社会保障厅",
        "Shanxi Human Resources and Social Security",
        "https://rst.shanxi.gov.cn/",
        "",
    ),
    ("education", "太原市教育局", "Taiyuan Education Bureau", "https://jyj.taiyuan.gov.cn/", ""),
    (
        "police",
        "太原市公安局",
        "Taiyuan Public Security Bureau",
        "https://gaj.taiyuan.gov.cn/",
        "110",
    ),
]


def _channel(
    parent: Channel | None, slug: str, zh: str, en: str, pinned: bool, comments: bool
) -> Channel:
    channel, _ = Channel.objects.get_or_create(
        parent=parent,
        slug=slug,
        defaults={
            "name_zh": zh,
            "name_en": en,
            "pinned": pinned,
            "comments_enabled": comments,
            "copyright_notice": NOTICE if parent is None else "",
            "position": len(CHANNELS),
        },
    )
    return channel


def _article(
    channel: Channel,
    title: str,
    body: str,
    *,
    author: str,
    place: str,
    when: dt.datetime,
    tags: list[str],
    pk: int | None = None,
) -> Article:
    article = Article.objects.create(
        pk=pk,
        channel=channel,
        title=title,
        body=clean_body(body),
        author=author,
        place=place,
        published_at=when,
        state=Article.State.PUBLISHED,
    )
    article.tags.set([Tag.objects.get_or_create(name=t)[0] for t in tags])
    article.search_text = _search_text(article)
    article.save(update_fields=["search_text"])
    search.index_article(article.pk, article.search_text)
    article.revisions.create(
        number=1, title=article.title, summary="", body=article.body, note="demo"
    )
    return article


# (name, comment, approved by the moderator)
COMMENTS = [
    ("市民李女士", "感谢各位工作人员的辛苦付出，我们小区一定配合做好核酸检测。", True),
    ("小店区居民", "请问封控区内需要买药的老人，可以通过哪个电话联系社区？", True),
    ("", "建议在便民采样点增加夜间采样时段，上班族白天没有时间。", False),
    ("王先生", "我们楼的生活物资已经送到了，谢谢网格员和志愿者！", False),
    ("", "外地返并人员报备后多久能收到落地检的通知？", False),
]
FEEDBACK = [
    ("采样点排队时间长", "坞城路便民采样点今天上午排队超过一个小时，希望增加采样通道。"),
    ("上门服务", "家里有行动不便的老人，希望社区能安排上门采样。"),
]
DISTRICT_NEWS = (
    "小店区开展重点区域全员核酸筛查",
    "12月2日，小店区在坞城街道等重点区域开展全员核酸筛查，共设便民采样点8个，"
    "对行动不便人员安排上门采样。请区域内居民按社区通知错峰有序参加检测。",
)


def _work() -> str:
    """Work waiting for the portal logins (once): comments to moderate, a
    bulletin to review, feedback to read."""
    users = {
        u.username: u
        for u in get_user_model().objects.filter(username__in=["portal_editor", "portal_reviewer"])
    }
    editor, reviewer = users.get("portal_editor"), users.get("portal_reviewer")
    seed_article = Article.objects.filter(pk=SEED_ID).first()
    if editor is None or reviewer is None or seed_article is None:
        return ""
    if not Comment.objects.exists():
        for name, text, approved in COMMENTS:
            comment = comment_post(article=seed_article, text=text, name=name)
            if approved and comment.state == Comment.State.PENDING:
                comment_approve(actor=reviewer, comment_id=comment.pk)
    if not Article.objects.filter(state=Article.State.REVIEW).exists():
        channel = Channel.objects.filter(slug="qxdt").first()
        if channel is not None:
            title, body = DISTRICT_NEWS
            article = article_create(
                actor=editor,
                channel=channel,
                title=title,
                body=text_to_paragraphs(body),
                author="小店区融媒体中心",
                place="小店区",
                tags=["核酸"],
            )
            article_submit(actor=editor, article=article)
    if not Feedback.objects.exists():
        for subject, text in FEEDBACK:
            feedback_create(person_id=None, subject=subject, text=text)
    pending = Comment.objects.filter(state=Comment.State.PENDING).count()
    review = Article.objects.filter(state=Article.State.REVIEW).count()
    return (
        f", {pending} comments waiting for moderation, {review} article in review, "
        f"{Feedback.objects.count()} feedback messages"
    )


@transaction.atomic
def seed() -> str:
    if Article.objects.filter(pk=SEED_ID).exists():
        return "portal: demo content already present" + _work()
    by_slug: dict[str, Channel] = {}
    for i, (parent, slug, zh, en, pinned, comments) in enumerate(CHANNELS):
        ch = _channel(by_slug.get(parent) if parent else None, slug, zh, en, pinned, comments)
        if ch.position != i:
            Channel.objects.filter(pk=ch.pk).update(position=i)
        by_slug[slug] = ch
    body = text_to_paragraphs(SEED_BODY.read_text(encoding="utf-8"))
    _article(
        by_slug["lzyl"],
        SEED_TITLE,
        body,
        author="网络编辑",
        place="太原",
        when=SEED_TIME,
        tags=["疫情", "防控", "风险"],
        pk=SEED_ID,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Article]):
                cur.execute(sql)
    now = timezone.now()
    for i, (title, text) in enumerate(NOTICES):
        _article(
            by_slug["tzgg"],
            title,
            text_to_paragraphs(text),
            author="市疫情防控工作领导小组办公室",
            place="太原",
            when=now - dt.timedelta(days=i, hours=2),
            tags=["疫情", "防控"],
        )
    for i, (title, text, tags) in enumerate(ADVICE):
        _article(
            by_slug["fkzs"],
            title,
            text_to_paragraphs(text),
            author="市卫健委",
            place="太原",
            when=now - dt.timedelta(days=3 + i),
            tags=tags,
        )
    for i, (cat, zh, en, url, phone) in enumerate(LINKS):
        ServiceLink.objects.get_or_create(
            category=cat,
            title_zh=zh,
            defaults={"title_en": en, "url": url, "phone": phone, "position": i},
        )
    work = _work()
    return (
        f"portal: {Article.objects.count()} articles in {Channel.objects.count()} channels "
        f"(seed bulletin at /gsyl/lzyl/{SEED_ID}.html), "
        f"{ServiceLink.objects.count()} directory links" + work
    )
