import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from fangkong.conftest import make_staff
from fangkong.core.errors import Conflict, PermissionDenied, ValidationFailed
from fangkong.core.models import AuditEntry
from fangkong.portal import search
from fangkong.portal.models import Article
from fangkong.portal.services import (
    article_create,
    article_publish,
    article_return,
    article_submit,
    article_update,
    article_withdraw,
    articles_publish_due,
    revision_diff,
)
from fangkong.portal.tests.kit import channels, editor, published, reviewer

pytestmark = pytest.mark.django_db

HOSTILE = [
    "<script>alert(1)</script><p>ok</p>",
    "<style>body{display:none}</style><p>ok</p>",
    '<p onclick="alert(1)" onmouseover="x()">ok</p>',
    '<a href="javascript:alert(1)">ok</a>',
    '<a href="JaVaScRiPt:alert(1)">ok</a>',
    "<img src=x onerror=alert(1)><p>ok</p>",
    '<iframe src="https://evil.example"></iframe><p>ok</p>',
    "<svg><script>alert(1)</script></svg><p>ok</p>",
    '<p style="background:url(javascript:alert(1))">ok</p>',
    '<form action="https://evil.example"><input name=x></form><p>ok</p>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">ok</a>',
]


def test_an_editor_drafts_and_a_reviewer_publishes(city):
    _top, sub, _n = channels()
    ed, rv = editor(city), reviewer(city)
    article = article_create(actor=ed, channel=sub, title="标题", body="<p>正文</p>", tags=["疫情"])
    assert article.state == Article.State.DRAFT and not article.is_public
    article_submit(actor=ed, article=article)
    with pytest.raises(PermissionDenied):
        article_publish(actor=ed, article=article)
    article = article_publish(actor=rv, article=article)
    assert article.state == Article.State.PUBLISHED and article.is_public
    article = article_withdraw(actor=rv, article=article, reason="过时")
    assert article.state == Article.State.WITHDRAWN
    actions = set(
        AuditEntry.objects.filter(object_id=str(article.pk)).values_list("action", flat=True)
    )
    assert {
        "portal.article.create",
        "portal.article.submit",
        "portal.article.publish",
        "portal.article.withdraw",
    } <= actions


def test_a_reviewer_returns_a_draft_with_a_reason(city):
    _top, sub, _n = channels()
    ed, rv = editor(city), reviewer(city)
    article = article_create(actor=ed, channel=sub, title="标题", body="<p>正文</p>")
    article_submit(actor=ed, article=article)
    with pytest.raises(ValidationFailed):
        article_return(actor=rv, article=article, reason=" ")
    assert article_return(actor=rv, article=article, reason="补充来源").state == Article.State.DRAFT
    with pytest.raises(Conflict):
        article_publish(actor=rv, article=article)


def test_someone_without_the_role_cannot_write(city, nobody):
    _top, sub, _n = channels()
    with pytest.raises(PermissionDenied):
        article_create(actor=nobody, channel=sub, title="x", body="<p>x</p>")


def test_a_scheduled_article_is_published_by_the_job_when_its_time_comes(city):
    _top, sub, _n = channels()
    ed, rv = editor(city), reviewer(city)
    article = article_create(actor=ed, channel=sub, title="定时", body="<p>正文</p>")
    article_submit(actor=ed, article=article)
    at = timezone.now() + dt.timedelta(hours=2)
    article = article_publish(actor=rv, article=article, at=at)
    assert article.state == Article.State.REVIEW and article.scheduled_at == at
    assert articles_publish_due() == 0
    assert articles_publish_due(now=at + dt.timedelta(minutes=1)) == 1
    article.refresh_from_db()
    assert article.state == Article.State.PUBLISHED


def test_an_editor_changing_a_published_article_sends_it_back_to_review(city):
    _top, sub, _n = channels()
    ed = editor(city)
    article = published(sub, reviewer(city))
    article = article_update(
        actor=ed, article=article, body="<p>会议部署疫情防控工作。</p><p>新增一段。</p>"
    )
    assert article.state == Article.State.REVIEW
    diff = revision_diff(article, 1, 2)
    assert any(line.startswith("+") and "新增一段" in line for line in diff)
    assert article.revisions.count() == 2


@pytest.mark.parametrize("raw", HOSTILE)
def test_hostile_bodies_are_sanitised(city, raw):
    _top, sub, _n = channels()
    article = article_create(actor=editor(city), channel=sub, title="<b>t</b>", body=raw)
    low = article.body.lower()
    for bad in (
        "<script",
        "<style",
        "onclick",
        "onerror",
        "onmouseover",
        "javascript:",
        "<iframe",
        "<form",
        "<input",
        "style=",
        "data:text",
    ):
        assert bad not in low, (raw, article.body)
    assert "ok" in article.body
    assert article.title == "t"


def test_a_body_that_is_only_script_is_refused(city):
    _top, sub, _n = channels()
    with pytest.raises(ValidationFailed) as exc:
        article_create(actor=editor(city), channel=sub, title="t", body="<script>alert(1)</script>")
    assert "body" in exc.value.fields


def test_a_two_character_chinese_query_finds_the_article(city):
    _top, sub, _n = channels()
    rv = reviewer(city)
    published(
        sub,
        rv,
        title="韦韬主持召开市疫情防控工作领导小组会议",
        body="<p>安排部署我市疫情应急处置和常态化防控工作。</p>",
    )
    published(sub, rv, title="天气预报", body="<p>明天晴。</p>")
    hits = search.search_ids("防控")
    assert len(hits) == 1
    article = Article.objects.get(pk=hits[0][0])
    assert "防控" in article.title
    assert "<mark>防控</mark>" in search.highlight(article.title, "防控")
    assert search.search_ids("晴") == [] or len(search.search_ids("天气")) == 1


def test_search_does_not_show_drafts_or_withdrawn(city):
    _top, sub, _n = channels()
    rv = reviewer(city)
    article = published(sub, rv, title="防控通知")
    article_create(actor=rv, channel=sub, title="防控草稿", body="<p>草稿</p>")
    assert [a for a, _ in search.search_ids("防控")] == [article.pk]
    article_withdraw(actor=rv, article=article, reason="x")
    assert search.search_ids("防控") == []


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "<script>",
                "</script>",
                "<style>",
                "<img src=x onerror=alert(1)>",
                "<a href='",
                "javascript:",
                "JAVASCRIPT&colon;",
                "'>",
                "<p onclick=x>",
                "<svg onload=x>",
                "<iframe>",
                "<p>",
                "</p>",
                '"',
                "'",
                " ",
                "文字",
                "<!--",
                "-->",
                "<math>",
                '<a href="java\nscript:x">',
                "&#106;avascript:",
                "<object>",
                "<embed>",
            ]
        ),
        max_size=30,
    )
)
def test_no_combination_of_fragments_survives_as_active_markup(parts):
    from html.parser import HTMLParser

    from fangkong.portal.sanitise import BODY_ATTRIBUTES, BODY_TAGS, clean_body

    seen: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            seen.append((tag, attrs))

    Collect().feed(clean_body("".join(parts)))
    for tag, attrs in seen:
        assert tag in BODY_TAGS, tag
        for name, value in attrs:
            assert name in BODY_ATTRIBUTES.get(tag, set()) or name == "rel", (tag, name)
            if name in ("href", "src"):
                assert (
                    not (value or "").strip().lower().startswith(("javascript", "data", "vbscript"))
                )


def test_nobody_publishes_their_own_text(city):
    _top, sub, _n = channels()
    rv = reviewer(city)
    second = make_staff("reviewer2", city.city, "portal_reviewer")
    article = article_create(actor=rv, channel=sub, title="自己写的", body="<p>正文</p>")
    article_submit(actor=rv, article=article)
    with pytest.raises(PermissionDenied) as refused:
        article_publish(actor=rv, article=article)
    assert refused.value.code == "own_article"
    article.refresh_from_db()
    assert article.state == Article.State.REVIEW and not article.is_public
    article = article_publish(actor=second, article=article)
    assert article.state == Article.State.PUBLISHED
    # A reviewer's own change to a published article goes back to review too,
    # and someone else publishes it.
    article = article_update(actor=second, article=article, body="<p>正文</p><p>更正。</p>")
    assert article.state == Article.State.REVIEW
    with pytest.raises(PermissionDenied):
        article_publish(actor=second, article=article)
    assert article_publish(actor=rv, article=article).state == Article.State.PUBLISHED
    # Saving without any change does not take it off the site.
    article = article_update(actor=rv, article=article, body="<p>正文</p><p>更正。</p>")
    assert article.state == Article.State.PUBLISHED
