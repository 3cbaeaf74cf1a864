import re
import xml.etree.ElementTree as ET

import pytest
from captcha.models import CaptchaStore
from django.core.cache import cache
from django.test import Client

from fangkong.conftest import client_for
from fangkong.portal.demo import SEED_ID, SEED_TITLE, seed
from fangkong.portal.models import Article, Comment
from fangkong.portal.tests.kit import reviewer

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SEED_PATH = "/gsyl/lzyl/10077.html"


def _captcha_key(form_html: str) -> str:
    found = re.search(r'name="captcha_0" value="([0-9a-f]+)"', form_html)
    assert found, form_html
    return found.group(1)


def _xml(body: bytes) -> ET.Element:
    return ET.fromstring(body)  # noqa: S314 - our own server's output


@pytest.fixture
def demo(db):
    cache.clear()
    seed()
    return Article.objects.get(pk=SEED_ID)


def test_the_seed_article_is_at_its_original_address(demo):
    r = Client().get("/gsyl/lzyl/10077.html")
    html = r.content.decode()
    assert r.status_code == 200
    assert (
        SEED_TITLE in html
        and "网络编辑" in html
        and "太原" in html
        and "2022-10-08 10:10:06" in html
    )
    for tag in ("疫情", "防控", "风险"):
        assert f'rel="tag">{tag}</a>' in html
    assert "共有 0 条评论" in html
    assert '<link rel="canonical" href="http://testserver/gsyl/lzyl/10077.html">' in html
    assert 'property="og:title"' in html
    assert "本文仅代表作者观点" in html


def test_the_article_page_is_small(demo):
    r = Client().get("/gsyl/lzyl/10077.html")
    assert len(r.content) < 100_000  # styles are inline: this is HTML + CSS


def test_a_wrong_channel_in_the_address_redirects_to_the_canonical_one(demo):
    r = Client().get(f"/fkzs/{SEED_ID}.html")
    assert r.status_code == 301 and r["Location"] == "/gsyl/lzyl/10077.html"


@pytest.mark.parametrize(
    ("path", "lang", "text"),
    [
        ("/nochannel/", "en", "Page not found"),
        ("/gsyl/lzyl/99999.html", "en", "Page not found"),
        ("/gsyl/lzyl/99999.html", "zh-hans", "页面没有找到"),
    ],
)
def test_unknown_channels_and_ids_are_404_in_the_readers_language(demo, path, lang, text):
    r = Client(HTTP_ACCEPT_LANGUAGE=lang).get(path)
    assert r.status_code == 404 and text in r.content.decode()


def test_home_shows_pinned_notices_and_latest_by_channel_cached_per_language(demo):
    zh = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    en = Client(HTTP_ACCEPT_LANGUAGE="en")
    first = zh.get("/")
    html = first.content.decode()
    assert "关于进一步做好核酸检测工作的通告" in html and SEED_TITLE in html
    assert first["X-Portal-Cache"] == "miss" and zh.get("/")["X-Portal-Cache"] == "hit"
    english = en.get("/")
    assert english["X-Portal-Cache"] == "miss" and 'lang="en"' in english.content.decode()


def test_publishing_invalidates_the_cached_pages(demo, city, django_capture_on_commit_callbacks):
    from fangkong.portal.services import article_withdraw

    c = Client()
    assert SEED_TITLE in c.get("/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        article_withdraw(actor=reviewer(city), article=demo, reason="test")
    assert SEED_TITLE not in c.get("/").content.decode()
    assert c.get("/gsyl/lzyl/10077.html").status_code == 404


def test_a_comment_through_the_captcha(demo, city):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    form = c.get(f"/comments/{SEED_ID}/form/").content.decode()
    key = _captcha_key(form)
    wrong = c.post(
        f"/comments/{SEED_ID}/", {"text": "谢谢", "captcha_0": key, "captcha_1": "wrong"}
    )
    assert wrong.status_code == 400 and Comment.objects.count() == 0
    assert (
        "Invalid CAPTCHA" in wrong.content.decode() or "captcha" in wrong.content.decode().lower()
    )
    form = c.get(f"/comments/{SEED_ID}/form/").content.decode()
    key = _captcha_key(form)
    answer = CaptchaStore.objects.get(hashkey=key).response
    ok = c.post(f"/comments/{SEED_ID}/", {"text": "谢谢", "captcha_0": key, "captcha_1": answer})
    assert ok.status_code == 302
    comment = Comment.objects.get()
    assert comment.state == "pending"
    moderator = client_for(reviewer(city))
    moderator.post("/editor/comments/", {"comment": comment.pk, "action": "approve"})
    page = Client().get("/gsyl/lzyl/10077.html").content.decode()
    assert "共有 1 条评论" in page and "谢谢" in page


def test_the_captcha_is_a_picture_and_another_one_keeps_what_was_typed(demo):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    form = c.get(f"/comments/{SEED_ID}/form/").content.decode()
    key = _captcha_key(form)
    store = CaptchaStore.objects.get(hashkey=key)
    assert f'src="/captcha/image/{key}/"' in form and store.challenge not in form
    assert "?alt=text" not in form and "What is" not in form
    again = c.post(
        f"/comments/{SEED_ID}/",
        {"name": "老王", "text": "已经写好的评论", "captcha_0": key, "new_code": "1"},
        HTTP_HX_REQUEST="true",
    )
    body = again.content.decode()
    assert again.status_code == 200 and "已经写好的评论" in body and 'value="老王"' in body
    new_key = _captcha_key(body)
    assert new_key != key and "errorlist" not in body and not Comment.objects.exists()
    answer = CaptchaStore.objects.get(hashkey=new_key).response
    ok = c.post(
        f"/comments/{SEED_ID}/",
        {"text": "已经写好的评论", "captcha_0": new_key, "captcha_1": answer.upper()},
    )
    assert ok.status_code == 302 and Comment.objects.filter(text="已经写好的评论").exists()


def test_a_wrong_code_says_verification_code_as_the_field_does(demo):
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    key = _captcha_key(c.get(f"/comments/{SEED_ID}/form/").content.decode())
    wrong = c.post(
        f"/comments/{SEED_ID}/", {"text": "谢谢", "captcha_0": key, "captcha_1": "nope"}
    ).content.decode()
    assert "验证码不正确" in wrong and "认证码" not in wrong and "谢谢" in wrong


def test_too_many_pictures_from_one_address_are_refused_in_words(demo):
    from fangkong.portal.captcha import CHALLENGES_PER_WINDOW

    c = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="10.8.8.8")
    for _ in range(CHALLENGES_PER_WINDOW):
        assert c.get(f"/comments/{SEED_ID}/form/").status_code == 200
    page = c.get(f"/comments/{SEED_ID}/form/")
    body = page.content.decode()
    assert page.status_code == 429 and 'data-testid="captcha-limited"' in body
    assert "wait a few minutes" in body and "captcha_0" not in body
    fragment = c.get(f"/comments/{SEED_ID}/form/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and "wait a few minutes" in fragment.content.decode()


def test_search_page_highlights_a_two_character_query(demo):
    html = Client().get("/search/?q=防控").content.decode()
    assert "<mark>防控</mark>" in html and "10077.html" in html


def test_feeds_and_sitemap_are_valid_xml(demo):
    c = Client()
    rss = _xml(c.get("/feeds/gsyl/rss.xml").content)
    assert rss.tag == "rss"
    titles = [i.findtext("title") for i in rss.iter("item")]
    assert SEED_TITLE in titles
    assert any(i.findtext("link", "").endswith("/gsyl/lzyl/10077.html") for i in rss.iter("item"))
    atom = _xml(c.get("/feeds/gsyl/lzyl/atom.xml").content)
    assert atom.tag == f"{ATOM}feed" and atom.findtext(f"{ATOM}entry/{ATOM}title") == SEED_TITLE
    assert c.get("/feeds/nochannel/rss.xml").status_code == 404
    sm = _xml(c.get("/sitemap.xml").content)
    locs = [e.text for e in sm.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert "http://testserver/gsyl/lzyl/10077.html" in locs and "http://testserver/" in locs


def test_statistics_csv(demo):
    r = Client().get("/statistics.csv?days=7")
    lines = b"".join(r.streaming_content).decode("utf-8-sig").strip().splitlines()  # type: ignore[attr-defined]
    assert lines[0] == "date,new_confirmed,new_asymptomatic" and len(lines) == 8


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/risk-zones/",
        "/testing-sites/",
        "/services/",
        "/statistics/",
        "/me/",
        "/me/arrival/",
        "/me/feedback/",
        "/search/",
        "/gsyl/",
        "/tzgg/",
    ],
)
def test_public_pages_render(demo, path):
    assert Client().get(path).status_code == 200


def test_arrival_report_and_feedback(demo, city):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    bad = c.post(
        "/me/arrival/", {"from_place": "", "arrival_date": "2020-01-01", "destination": ""}
    )
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()
    from django.utils import timezone

    r = c.post(
        "/me/arrival/",
        {
            "from_place": "北京",
            "arrival_date": timezone.localdate().isoformat(),
            "destination": "小店区",
        },
    )
    assert r.status_code == 302
    r = c.post("/me/feedback/", {"subject": "建议", "text": "增加采样点"})
    assert r.status_code == 302
    staff = client_for(reviewer(city))
    assert "增加采样点" in staff.get("/editor/feedback/").content.decode()
    from fangkong.conftest import make_staff

    assert (
        client_for(make_staff("someone", city.city, "grid_worker"))
        .get("/editor/feedback/")
        .status_code
        == 403
    )


def test_a_readers_own_message_is_never_cached_for_others(demo):
    from captcha.models import CaptchaStore

    reader = Client()
    form = reader.get(f"/comments/{SEED_ID}/form/").content.decode()
    key = _captcha_key(form)
    answer = CaptchaStore.objects.get(hashkey=key).response
    reader.post(
        f"/comments/{SEED_ID}/", {"text": "我的评论", "captcha_0": key, "captcha_1": answer}
    )
    assert "审核通过后将会显示" in reader.get(SEED_PATH).content.decode()
    assert "审核通过后将会显示" not in Client().get(SEED_PATH).content.decode()
