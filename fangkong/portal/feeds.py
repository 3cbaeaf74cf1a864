"""RSS and Atom per channel, and the sitemap."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.contrib.sitemaps import Sitemap
from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from fangkong.portal import selectors
from fangkong.portal.models import Article, Channel
from fangkong.portal.sanitise import html_text

if TYPE_CHECKING:
    ChannelFeedBase = Feed[Article, Channel]
    ArticleSitemapBase = Sitemap[Article]
    ChannelSitemapBase = Sitemap[Channel]
    PagesSitemapBase = Sitemap[str]
else:
    ChannelFeedBase = Feed
    ArticleSitemapBase = ChannelSitemapBase = PagesSitemapBase = Sitemap


class ChannelRss(ChannelFeedBase):
    def get_object(self, request: HttpRequest, top: str, sub: str | None = None) -> Channel:
        return selectors.channel_by_slugs(top, sub)

    def title(self, obj: Channel) -> str:
        return obj.name

    def link(self, obj: Channel) -> str:
        return obj.get_absolute_url()

    def description(self, obj: Channel) -> str:
        return _("Latest articles of %(channel)s") % {"channel": obj.name}

    def items(self, obj: Channel) -> list[Article]:
        return list(
            selectors.published_articles()
            .filter(channel__in=[obj, *obj.children.all()])
            .select_related("channel__parent")
            .defer("search_text", "cover")[:30]
        )

    def item_title(self, item: Article) -> str:
        return item.title

    def item_description(self, item: Article) -> str:
        return item.summary or html_text(item.body)[:200]

    def item_pubdate(self, item: Article) -> dt.datetime | None:
        return item.published_at

    def item_author_name(self, item: Article) -> str:
        return item.author

    def item_categories(self, item: Article) -> list[str]:
        return [t.name for t in item.tags.all()]


class ChannelAtom(ChannelRss):
    feed_type = Atom1Feed

    def subtitle(self, obj: Channel) -> str:
        return self.description(obj)


class ArticleSitemap(ArticleSitemapBase):
    changefreq = "daily"
    priority = 0.6
    limit = 5000

    def items(self) -> Any:
        return selectors.sitemap_articles().order_by("id")

    def lastmod(self, item: Article) -> dt.datetime:
        return item.updated_at


class ChannelSitemap(ChannelSitemapBase):
    changefreq = "hourly"
    priority = 0.8

    def items(self) -> Any:
        return Channel.objects.select_related("parent").order_by("id")


class PagesSitemap(PagesSitemapBase):
    priority = 0.7

    def items(self) -> list[str]:
        return ["/", "/risk-zones/", "/testing-sites/", "/services/", "/statistics/"]

    def location(self, item: str) -> str:
        return item


SITEMAPS = {"pages": PagesSitemap, "channels": ChannelSitemap, "articles": ArticleSitemap}
