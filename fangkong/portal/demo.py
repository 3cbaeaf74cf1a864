"""Demo portal: the seed article as the first bulletin at its original address
(/gsyl/lzyl/10077.html), channels, a few notices, and the services directory."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from fangkong.portal import search
from fangkong.portal.models import Article, Channel, ServiceLink, Tag
from fangkong.portal.sanitise import clean_body, text_to_paragraphs
from fangkong.portal.services.articles import _search_text

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


@transaction.atomic
def seed() -> str:
    if Article.objects.filter(pk=SEED_ID).exists():
        return "portal: demo content already present"
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
    return (
        f"portal: {Article.objects.count()} articles in {Channel.objects.count()} channels "
        f"(seed bulletin at /gsyl/lzyl/{SEED_ID}.html), "
        f"{ServiceLink.objects.count()} directory links"
    )
