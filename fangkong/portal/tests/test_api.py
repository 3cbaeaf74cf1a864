import json

import pytest
from captcha.models import CaptchaStore
from django.core.cache import cache
from django.test import Client

from fangkong.conftest import client_for
from fangkong.portal.demo import SEED_ID, seed
from fangkong.portal.models import Article, Comment
from fangkong.portal.tests.kit import editor, reviewer

pytestmark = pytest.mark.django_db
API = "/api/v1/portal"


@pytest.fixture
def demo(db):
    cache.clear()
    seed()


def test_public_reads_need_no_sign_in(demo):
    c = Client()
    article = c.get(f"{API}/articles/{SEED_ID}").json()
    assert article["url"] == "/gsyl/lzyl/10077.html" and sorted(article["tags"]) == sorted(
        ["疫情", "防控", "风险"]
    )
    listing = c.get(f"{API}/articles?channel=gsyl/lzyl").json()
    assert [a["id"] for a in listing["items"]] == [SEED_ID]
    hits = c.get(f"{API}/search?q=防控").json()
    assert hits and "<mark>防控</mark>" in hits[0]["excerpt_html"]
    assert c.get(f"{API}/articles/999999").json()["error"]["code"] == "not_found"
    assert c.get(f"{API}/statistics/daily?days=7").status_code == 200
    assert any(g["category"] == "hotline" for g in c.get(f"{API}/directory").json())


def test_a_comment_through_the_api_needs_the_captcha(demo):
    c = Client()
    cap = c.post(f"{API}/captcha").json()
    assert set(cap) == {"key", "image_url"}  # a picture, never the question in words
    assert cap["image_url"] == f"/captcha/image/{cap['key']}/"
    bad = c.post(
        f"{API}/articles/{SEED_ID}/comments",
        {"text": "好", "captcha_key": cap["key"], "captcha_answer": "nope"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "captcha_answer" in bad.json()["error"]["fields"]
    cap = c.post(f"{API}/captcha").json()
    answer = CaptchaStore.objects.get(hashkey=cap["key"]).response
    ok = c.post(
        f"{API}/articles/{SEED_ID}/comments",
        {"text": "好", "captcha_key": cap["key"], "captcha_answer": answer},
        content_type="application/json",
    )
    assert ok.status_code == 201 and ok.json()["state"] == "pending"
    again = c.post(
        f"{API}/articles/{SEED_ID}/comments",
        {"text": "再来", "captcha_key": cap["key"], "captcha_answer": answer},
        content_type="application/json",
    )
    assert again.status_code == 400  # a challenge answers once


def test_bad_input_gets_the_error_shape(demo, city):
    c = client_for(editor(city))
    r = c.post(
        f"{API}/articles",
        {"channel": "nochannel", "title": "t", "body": "x"},
        content_type="application/json",
    )
    assert r.status_code == 400 and "channel" in r.json()["error"]["fields"]
    r = c.post(
        f"{API}/articles", {"channel": "gsyl/lzyl", "body": "x"}, content_type="application/json"
    )
    assert r.status_code == 400 and "title" in r.json()["error"]["fields"]
    r = c.post(
        f"{API}/articles",
        {"channel": "gsyl/lzyl", "title": "t", "body": "<script>x</script>"},
        content_type="application/json",
    )
    assert r.status_code == 400 and "body" in r.json()["error"]["fields"]


def test_the_workflow_through_the_api(demo, city):
    ed, rv = client_for(editor(city)), client_for(reviewer(city))
    created = ed.post(
        f"{API}/articles",
        {
            "channel": "gsyl/lzyl",
            "title": "新通知",
            "body": "<p onclick='x'>正文</p>",
            "tags": ["防控"],
        },
        content_type="application/json",
    ).json()
    assert created["state"] == "draft" and "onclick" not in created["body"]
    assert ed.post(f"{API}/articles/{created['id']}/submit").json()["state"] == "review"
    denied = ed.post(f"{API}/articles/{created['id']}/publish", {}, content_type="application/json")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"
    published = rv.post(
        f"{API}/articles/{created['id']}/publish", {}, content_type="application/json"
    )
    assert published.json()["state"] == "published"
    assert Client().get(f"{API}/articles/{created['id']}").status_code == 200
    Comment.objects.create(
        article=Article.objects.get(pk=created["id"]), text="待审", address="10.1.1.1"
    )
    queue = rv.get(f"{API}/comments/queue").json()
    assert [q["text"] for q in queue] == ["待审"]
    assert ed.get(f"{API}/comments/queue").status_code == 403
    assert rv.post(f"{API}/comments/{queue[0]['id']}/approve").json()["state"] == "approved"
    assert Client().post(f"{API}/articles", {}, content_type="application/json").status_code == 401


def test_the_captcha_is_a_picture_for_every_client_and_limited_per_address(demo):
    from fangkong.portal.captcha import CHALLENGES_PER_WINDOW

    c = Client(REMOTE_ADDR="10.9.9.9")
    cap = c.post(f"{API}/captcha").json()
    store = CaptchaStore.objects.get(hashkey=cap["key"])
    picture = c.get(cap["image_url"])
    assert picture.status_code == 200 and picture["Content-Type"] == "image/png"
    assert store.challenge not in json.dumps(cap) and store.response not in json.dumps(cap)
    assert store.challenge.isalpha()  # characters drawn in the picture, not a sum
    for _ in range(CHALLENGES_PER_WINDOW - 1):
        assert c.post(f"{API}/captcha").status_code == 201
    over = c.post(f"{API}/captcha")
    assert over.status_code == 429 and over.json()["error"]["code"] == "rate_limited"
    assert CaptchaStore.objects.count() == CHALLENGES_PER_WINDOW
    assert Client(REMOTE_ADDR="10.9.9.10").post(f"{API}/captcha").status_code == 201
    # The library's own refresh view (unlimited challenges) is not served.
    refresh = c.get("/captcha/refresh/", HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert refresh.status_code == 404
