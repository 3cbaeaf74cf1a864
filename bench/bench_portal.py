"""Figures of issue 7: the portal's article page and home page through the real
server (gunicorn), cached and uncached, against bare Django views served by the
same server in the same run.

Data: the demo portal (the seed bulletin /gsyl/lzyl/10077.html and its channels)
plus 2,000 published articles (quick: 200) spread over the channels with tags,
and 30 approved comments on the seed article, so the article page runs its real
queries (related articles by tag, comments with replies) and the home page its
per-channel lists.

Cached: the same address again and again (served from the per-language page
cache; the view count is still counted, in memory). Uncached: every request a
different query string (``?n=<i>``), so every one renders the page and stores it.
Floors, in the same gunicorn: ``empty`` — a bare Django view returning a fixed
response (Django + middleware alone); ``bare article`` — a bare view that reads
the same article with one query and writes its HTML with an f-string (no
template, no comments, no related articles). Ratios are taken within a round
(the machine is shared).

The cache is Django's LocMemCache (one per gunicorn worker) unless REDIS_URL is
set. Load: a separate process (asyncio, raw HTTP/1.1 GETs, keep-alive,
16 connections), bounded in time.

Run: ``fangkong bench --only portal_pages`` (``--quick``: one short round).
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
from pathlib import Path
from typing import Any

from bench.runner import Context, Figure, Server, benchmark, get, run_line, server_env
from bench.runner import best as best_run

BASE_DIR = Path(__file__).resolve().parent.parent
EMPTY_PATH = "/bench/floor/empty"
BARE_ARTICLE_PATH = "/bench/floor/article"
SEED_PATH = "/gsyl/lzyl/10077.html"
CONNECTIONS = 16


# --- Data --------------------------------------------------------------------------------


def ensure_portal(ctx: Context) -> int:
    """Demo content plus N published articles; returns the number of articles."""
    from django.db import transaction
    from django.utils import timezone

    from fangkong.portal import demo, search
    from fangkong.portal.models import Article, Channel, Comment, Tag
    from fangkong.portal.services.articles import _search_text

    demo.seed()
    wanted = ctx.size(2000, 200)
    have = Article.objects.count()
    if have >= wanted:
        return have
    channels = list(Channel.objects.exclude(slug="tzgg"))
    tags = [
        Tag.objects.get_or_create(name=n)[0]
        for n in ("疫情", "防控", "风险", "核酸", "健康", "出行")
    ]
    body = "".join(
        f"<p>第{i}段：按照“整体封控、分区切割、划小单元、网格管理”的要求，严格做好风险区安全管理。</p>"
        for i in range(12)
    )
    now = timezone.now()
    with transaction.atomic():
        for i in range(have, wanted):
            article = Article.objects.create(
                channel=channels[i % len(channels)],
                title=f"防控动态第{i}期：核酸检测与风险区管理",
                summary="全市疫情防控工作安排。",
                body=body,
                author="网络编辑",
                place="太原",
                state=Article.State.PUBLISHED,
                published_at=now - dt.timedelta(hours=i),
            )
            article.tags.set([tags[i % len(tags)], tags[(i + 1) % len(tags)]])
            article.search_text = _search_text(article)
            Article.objects.filter(pk=article.pk).update(search_text=article.search_text)
            search.index_article(article.pk, article.search_text)
        seed_article = Article.objects.get(pk=demo.SEED_ID)
        if not Comment.objects.filter(article=seed_article).exists():
            for i in range(30):
                Comment.objects.create(
                    article=seed_article,
                    name=f"市民{i}",
                    text="感谢一线工作人员！" * 3,
                    state=Comment.State.APPROVED,
                )
    return Article.objects.count()


def _ensure_static() -> None:
    """The server runs without DEBUG, so pages need the collected static manifest
    (what a deployment's ``fangkong collectstatic`` makes)."""
    from django.conf import settings
    from django.core.management import call_command

    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)


# --- The server --------------------------------------------------------------------------


def _floor_empty(request: Any) -> Any:
    from django.http import HttpResponse

    return HttpResponse(b"<!doctype html><title>ok</title><p>ok</p>", content_type="text/html")


def _floor_article(request: Any) -> Any:
    from django.http import HttpResponse
    from django.utils.html import escape

    from fangkong.portal.models import Article

    a = (
        Article.objects.filter(pk=10077, state="published")
        .values("title", "author", "place", "published_at", "body")
        .first()
    )
    if a is None:
        return HttpResponse(status=404)
    html = (
        "<!doctype html><html lang='zh-hans'><meta charset='utf-8'>"
        f"<title>{escape(a['title'])}</title>"
        f"<h1>{escape(a['title'])}</h1><p>{escape(a['author'])} {escape(a['place'])} "
        f"{a['published_at']:%Y-%m-%d %H:%M:%S}</p><div>{a['body']}</div>"
    )
    return HttpResponse(html)


def __getattr__(name: str) -> Any:
    if name != "urlpatterns":
        raise AttributeError(name)
    from django.urls import include, path

    return [
        path(EMPTY_PATH.lstrip("/"), _floor_empty),
        path(BARE_ARTICLE_PATH.lstrip("/"), _floor_article),
        path("", include("fangkong.urls")),
    ]


def floor_wsgi() -> Any:
    """gunicorn ``bench.bench_portal:floor_wsgi()``: the application with the floor
    views in front of its own URLs."""
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    settings.ROOT_URLCONF = "bench.bench_portal"
    return application


TARGETS = [
    # (key, path, unique query string per request)
    ("empty", EMPTY_PATH, False),
    ("bare_article", BARE_ARTICLE_PATH, False),
    ("article_cached", SEED_PATH, False),
    ("article_uncached", SEED_PATH, True),
    ("home_cached", "/", False),
    ("home_uncached", "/", True),
]


@benchmark("portal_pages")
def bench_portal_pages(ctx: Context) -> list[Figure]:
    articles = ensure_portal(ctx)
    _ensure_static()
    rounds = ctx.size(3, 1)
    seconds = 1.5 if ctx.quick else 8.0
    runs: dict[str, list[dict[str, Any]]] = {key: [] for key, _p, _u in TARGETS}
    sizes: dict[str, int] = {}
    workers = int(os.environ.get("FANGKONG_BENCH_GUNICORN_WORKERS", "2"))
    with Server("bench.bench_portal:floor_wsgi()", env=server_env(), workers=workers) as server:

        def drive(path: str, unique: bool, seconds: float) -> dict[str, Any]:
            return server.load(
                [get(path)],
                seconds=seconds,
                connections=CONNECTIONS,
                cycle=True,
                unique=unique,
                headers=("Accept-Language: zh-hans",),
            )

        for _key, path, unique in TARGETS:  # warm-up: every worker loaded, caches filled
            drive(path, unique, 1.0)
        for r in range(rounds):
            for key, path, unique in TARGETS:
                result = drive(path, unique, seconds)
                runs[key].append(result)
                sizes[key] = result["bytes"]
                ctx.say(run_line(f"round {r + 1} {key:16}", result))
        shape = server.shape

    def best(key: str) -> dict[str, Any]:
        return best_run(runs[key])

    def round_ratios(key: str, floor: str) -> str:
        pairs = zip(runs[key], runs[floor], strict=True)
        return ", ".join(f"{f['rps'] / v['rps']:.1f}" for v, f in pairs if v["rps"])

    note = (
        f"{shape}, {CONNECTIONS} connections, {rounds} round(s) of "
        f"{seconds:g} s, {articles} articles; best round"
    )
    figures = []
    for key, label in (
        ("article_cached", "article page, cached"),
        ("article_uncached", "article page, uncached"),
        ("home_cached", "home page, cached"),
        ("home_uncached", "home page, uncached"),
    ):
        floor_key = (
            "bare_article" if key.startswith("article") and key.endswith("uncached") else "empty"
        )
        figures.append(
            Figure(
                f"{label} (req/s)",
                best(key)["rps"],
                "req/s",
                floor=best(floor_key)["rps"],
                higher_is_better=True,
                note=f"{note}; floor: {floor_key.replace('_', ' ')} view, same server; per-round "
                f"floor/value {round_ratios(key, floor_key)}; {sizes[key]:,} bytes",
            )
        )
        figures.append(
            Figure(
                f"{label} p99",
                best(key)["p99_ms"],
                "ms",
                floor=best(floor_key)["p99_ms"],
                note=f"floor: the {floor_key.replace('_', ' ')} view's p99 in its best round",
            )
        )
    figures.append(
        Figure(
            "article page size (HTML + inline CSS)",
            sizes["article_cached"] / 1024,
            "KB",
            target=100.0,
            note="the seed article with 30 comments; before images; issue: < 100 KB",
        )
    )
    figures.append(
        Figure(
            "bare views (floors)",
            best("empty")["rps"],
            "req/s",
            higher_is_better=True,
            note=f"empty view median {statistics.median(x['rps'] for x in runs['empty']):.0f}/s; "
            f"bare article view best {best('bare_article')['rps']:.0f}/s",
        )
    )
    return figures
