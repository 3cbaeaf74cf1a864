import datetime as dt

import pytest
from django.utils import timezone

from fangkong.core.errors import PermissionDenied, ValidationFailed
from fangkong.portal.models import BannedAddress, Comment, SensitiveWord
from fangkong.portal.selectors import approved_comments, moderation_queue
from fangkong.portal.services import address_ban, comment_approve, comment_post, comment_reject
from fangkong.portal.services.comments import RateLimited, Refused, words_changed
from fangkong.portal.tests.kit import channels, editor, published, reviewer

pytestmark = pytest.mark.django_db


@pytest.fixture
def article(city):
    _top, sub, _n = channels()
    return published(sub, reviewer(city))


def test_a_comment_waits_for_a_moderator_then_shows_with_the_count(city, article):
    comment = comment_post(article=article, text="支持！", name="市民", address="10.0.0.1")
    assert comment.state == Comment.State.PENDING
    assert approved_comments(article)[1] == 0
    comment_approve(actor=reviewer(city), comment_id=comment.pk)
    threads, count = approved_comments(article)
    assert count == 1 and threads[0].text == "支持！"


def test_replies_are_one_level_deep(city, article):
    rv = reviewer(city)
    top = comment_post(article=article, text="问题", address="10.0.0.1")
    reply = comment_post(article=article, text="回答", parent_id=top.pk, address="10.0.0.2")
    deeper = comment_post(article=article, text="再回答", parent_id=reply.pk, address="10.0.0.3")
    assert deeper.parent_id == top.pk
    for c in (top, reply, deeper):
        comment_approve(actor=rv, comment_id=c.pk)
    threads, count = approved_comments(article)
    assert count == 3 and len(threads) == 1 and len(threads[0].approved_replies) == 2


def test_markup_in_comments_is_removed(city, article):
    comment = comment_post(
        article=article, text='<script>alert(1)</script><b onclick="x()">你好</b>', name="<i>x</i>"
    )
    assert "<" not in comment.text and "script" not in comment.text and comment.text == "你好"
    assert comment.name == "x"


@pytest.mark.parametrize(
    "typed",
    [
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&#60;img src=x onerror=alert(1)&#62;",
        "1 < 2 & 3 > 2, x &amp; y",
    ],
)
def test_a_comment_keeps_the_text_as_typed_and_every_answer_escapes_it(city, article, typed):
    from django.test import Client

    comment = comment_post(article=article, text=typed, name=typed, address="10.0.0.1")
    assert comment.text == typed and comment.name == typed  # never decoded into markup
    comment_approve(actor=reviewer(city), comment_id=comment.pk)
    answer = Client().get(f"/api/v1/portal/articles/{article.pk}/comments").json()
    assert [c["text"] for c in answer] == [typed]
    assert "<script" not in answer[0]["text"] and "<img" not in answer[0]["text"]
    page = Client().get(article.get_absolute_url()).content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page


def test_the_word_filter_holds_comments_even_on_open_channels(city, article):
    article.channel.comments_premoderated = False
    article.channel.save()
    clean = comment_post(article=article, text="感谢辛苦付出", address="10.0.0.1")
    assert clean.state == Comment.State.APPROVED
    flagged = comment_post(article=article, text="这是谣 言吧", address="10.0.0.2")
    assert flagged.state == Comment.State.PENDING and "谣言" in flagged.flagged_words


def test_the_word_list_is_data(city, article):
    article.channel.comments_premoderated = False
    article.channel.save()
    SensitiveWord.objects.create(word="新敏感词")
    words_changed()
    assert comment_post(article=article, text="含新敏感词", address="10.0.0.1").state == "pending"


def test_flooding_from_one_address_is_refused(city, article):
    now = timezone.now()
    for i in range(3):
        comment_post(article=article, text=f"第{i}条", address="10.0.0.9", now=now)
    with pytest.raises(RateLimited):
        comment_post(article=article, text="第4条", address="10.0.0.9", now=now)
    comment_post(article=article, text="别处", address="10.0.0.8", now=now)
    comment_post(
        article=article, text="稍后", address="10.0.0.9", now=now + dt.timedelta(minutes=11)
    )


def test_a_moderator_rejects_with_a_reason_and_bans_an_address(city, article):
    rv = reviewer(city)
    first = comment_post(article=article, text="广告", address="10.0.0.5")
    second = comment_post(article=article, text="广告2", address="10.0.0.5")
    with pytest.raises(ValidationFailed):
        comment_reject(actor=rv, comment_id=first.pk, reason="")
    assert comment_reject(actor=rv, comment_id=first.pk, reason="广告").state == "rejected"
    address_ban(actor=rv, comment_id=second.pk, reason="广告")
    second.refresh_from_db()
    assert second.state == "rejected" and BannedAddress.objects.filter(address="10.0.0.5").exists()
    with pytest.raises(Refused):
        comment_post(article=article, text="又来", address="10.0.0.5")
    assert list(moderation_queue(rv)) == []


def test_an_editor_without_moderation_cannot_moderate(city, article):
    comment = comment_post(article=article, text="x", address="10.0.0.1")
    with pytest.raises(PermissionDenied):
        comment_approve(actor=editor(city), comment_id=comment.pk)


def test_comments_closed_on_the_notices_channel(city):
    _top, _sub, notices = channels()
    notice = published(notices, reviewer(city), title="通告")
    with pytest.raises(Refused):
        comment_post(article=notice, text="x")
