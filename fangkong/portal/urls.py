from django.contrib.sitemaps.views import sitemap
from django.urls import path

from fangkong.portal import feeds, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("lang/<str:code>/", views.set_language, name="set_language"),
    path("search/", views.search_page, name="search"),
    path("risk-zones/", views.risk_zones, name="zones"),
    path("testing-sites/", views.testing_sites, name="sites"),
    path("services/", views.services_directory, name="directory"),
    path("statistics/", views.statistics, name="statistics"),
    path("statistics.csv", views.statistics_csv, name="statistics_csv"),
    path("sitemap.xml", sitemap, {"sitemaps": feeds.SITEMAPS}, name="sitemap"),
    path("feeds/<slug:top>/rss.xml", feeds.ChannelRss(), name="rss"),
    path("feeds/<slug:top>/<slug:sub>/rss.xml", feeds.ChannelRss(), name="rss_sub"),
    path("feeds/<slug:top>/atom.xml", feeds.ChannelAtom(), name="atom"),
    path("feeds/<slug:top>/<slug:sub>/atom.xml", feeds.ChannelAtom(), name="atom_sub"),
    path("media/cover/<int:article_id>.jpg", views.article_cover, name="cover"),
    path("media/attachment/<int:attachment_id>/", views.attachment_download, name="attachment"),
    path("comments/<int:article_id>/form/", views.comment_form, name="comment_form"),
    path("comments/<int:article_id>/", views.comment_submit, name="comment_submit"),
    path("like/<int:article_id>/", views.article_like, name="like"),
    # Self-service
    path("me/", views.me_hub, name="me"),
    path("me/feedback/", views.me_feedback, name="me_feedback"),
    # Staff (editors, reviewers, moderators)
    path("editor/", views.overview, name="overview"),
    path("editor/articles/new/", views.article_edit, name="article_new"),
    path("editor/articles/<int:article_id>/", views.article_detail, name="article_detail"),
    path("editor/articles/<int:article_id>/edit/", views.article_edit, name="article_edit"),
    path(
        "editor/articles/<int:article_id>/<str:action>/",
        views.article_action,
        name="article_action",
    ),
    path("editor/comments/", views.moderation, name="moderation"),
    path("editor/links/", views.links, name="links"),
    path("editor/links/<int:link_id>/", views.links, name="link_edit"),
    path("editor/feedback/", views.feedback, name="feedback"),
    # Channels and article addresses, as in /gsyl/lzyl/10077.html (last: they match widely)
    path("<slug:top>/<int:article_id>.html", views.article_page, name="article_top"),
    path("<slug:top>/<slug:sub>/<int:article_id>.html", views.article_page, name="article"),
    path("<slug:top>/", views.channel_page, name="channel"),
    path("<slug:top>/<slug:sub>/", views.channel_page, name="channel_sub"),
]
