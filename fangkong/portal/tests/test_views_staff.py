import pytest

from fangkong.conftest import client_for
from fangkong.portal.models import Article, Comment, ServiceLink
from fangkong.portal.services import comment_post
from fangkong.portal.tests.kit import channels, editor, published, reviewer

pytestmark = pytest.mark.django_db


def test_an_editor_writes_sends_for_review_and_a_reviewer_publishes_through_the_pages(city):
    _top, sub, _n = channels()
    ed = client_for(editor(city))
    r = ed.post(
        "/editor/articles/new/",
        {
            "channel": sub.pk,
            "title": "新文章",
            "body": "<p>第一版</p><script>x()</script>",
            "tags": "疫情 防控",
        },
    )
    article = Article.objects.get(title="新文章")
    assert r.status_code == 302 and "<script" not in article.body
    ed.post(f"/editor/articles/{article.pk}/submit/")
    ed.post(f"/editor/articles/{article.pk}/publish/")  # not allowed: stays in review
    article.refresh_from_db()
    assert article.state == "review"
    rv = client_for(reviewer(city))
    rv.post(f"/editor/articles/{article.pk}/publish/")
    article.refresh_from_db()
    assert article.state == "published"
    rv.post(
        f"/editor/articles/{article.pk}/edit/",
        {"channel": sub.pk, "title": "新文章", "body": "<p>第二版</p>", "tags": "疫情"},
    )
    page = rv.get(f"/editor/articles/{article.pk}/").content.decode()
    assert "-&lt;p&gt;第一版&lt;/p&gt;" in page and "+&lt;p&gt;第二版&lt;/p&gt;" in page
    assert "文章已发布" in page and "portal.article.publish" not in page  # in words


def test_staff_pages_need_their_capability(city, grid_worker):
    c = client_for(grid_worker)
    for path in (
        "/editor/",
        "/editor/comments/",
        "/editor/links/",
        "/editor/feedback/",
        "/editor/articles/new/",
    ):
        assert c.get(path).status_code == 403, path
    assert client_for(editor(city)).get("/editor/comments/").status_code == 403


def test_a_moderator_rejects_and_bans_through_the_queue(city):
    _top, sub, _n = channels()
    article = published(sub, reviewer(city))
    one = comment_post(article=article, text="垃圾广告", address="10.9.9.9")
    two = comment_post(article=article, text="再来广告", address="10.9.9.8")
    rv = client_for(reviewer(city))
    queue = rv.get("/editor/comments/").content.decode()
    assert "垃圾广告" in queue and "10.9.9.9" in queue
    rv.post("/editor/comments/", {"comment": one.pk, "action": "reject", "reason": "广告"})
    rv.post("/editor/comments/", {"comment": two.pk, "action": "ban", "reason": "广告"})
    assert set(Comment.objects.values_list("state", flat=True)) == {"rejected"}
    assert "没有待审核的评论" in rv.get("/editor/comments/").content.decode()


def test_editors_keep_the_services_directory(city):
    ed = client_for(editor(city))
    r = ed.post(
        "/editor/links/",
        {
            "category": "hotline",
            "title_zh": "卫生健康热线",
            "title_en": "Health hotline",
            "phone": "12320",
            "position": 1,
        },
    )
    assert r.status_code == 302
    bad = ed.post(
        "/editor/links/", {"category": "health", "title_zh": "x", "title_en": "x", "position": 0}
    )
    assert bad.status_code == 200 and "field-error" in bad.content.decode()
    assert ServiceLink.objects.count() == 1
    from django.test import Client

    assert "12320" in Client().get("/services/").content.decode()


def test_a_channel_cannot_take_an_address_of_the_portals_own_pages(db):
    from django.core.exceptions import ValidationError

    from fangkong.portal.models import Channel

    with pytest.raises(ValidationError):
        Channel(slug="search", name_zh="搜索", name_en="Search").full_clean()
    top = Channel.objects.create(slug="gsyl", name_zh="要闻", name_en="News")
    sub = Channel.objects.create(parent=top, slug="lzyl", name_zh="动态", name_en="News")
    with pytest.raises(ValidationError):
        Channel(parent=sub, slug="deep", name_zh="深", name_en="Deep").full_clean()
    Channel(
        parent=top, slug="search", name_zh="子", name_en="Sub"
    ).full_clean()  # fine below a channel


def test_moving_a_published_article_to_another_channel_is_a_reviewed_audited_revision(city):
    """The edit page moved the channel around the service: the article stayed
    published in its new place, with no revision, no audit entry and no review."""
    from fangkong.core.models import AuditEntry

    top, sub, _n = channels()
    article = published(sub, reviewer(city))
    revisions = article.revisions.count()
    ed = client_for(editor(city))
    r = ed.post(
        f"/editor/articles/{article.pk}/edit/",
        {"channel": top.pk, "title": article.title, "body": article.body, "tags": "疫情 防控"},
    )
    assert r.status_code == 302
    article.refresh_from_db()
    assert article.channel_id == top.pk
    assert article.state == "review"  # off the public site until a reviewer publishes it
    assert article.revisions.count() == revisions + 1
    entry = AuditEntry.objects.filter(
        action="portal.article.update", object_id=str(article.pk)
    ).latest("id")
    assert entry.changes["channel"] == [str(sub), str(top)]
