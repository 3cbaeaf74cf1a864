"""A resident on a phone reads the seed bulletin and comments through the captcha;
a moderator approves the comment; the article shows it with the count updated.
Screenshots go to ``test-artifacts/``."""

import pytest
from django.core.cache import cache
from django.db import transaction

from fangkong.conftest import ARTIFACTS, BROWSER_TEST, CHROMIUM, CHROMIUM_ARGS, PASSWORD, make_staff

SEED_URL = "/gsyl/lzyl/10077.html"

pytestmark = BROWSER_TEST


@pytest.fixture
def scene(transactional_db):
    """Made before the browser starts (see the investigation browser test)."""
    from fangkong.conftest import load_shipped_defaults
    from fangkong.core.services import jurisdiction_build
    from fangkong.portal.demo import seed

    load_shipped_defaults()
    cache.clear()
    with transaction.atomic():
        province = jurisdiction_build(
            parent=None, level="province", name_zh="山西省", name_en="Shanxi", code="140000"
        )
        taiyuan = jurisdiction_build(
            parent=province, level="city", name_zh="太原市", name_en="Taiyuan", code="140100"
        )
    make_staff("moderator", taiyuan, "portal_reviewer")
    seed()


@pytest.fixture
def browser(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def _answer(key: str) -> str:
    from captcha.models import CaptchaStore

    return str(CaptchaStore.objects.get(hashkey=key).response)


def test_a_resident_comments_on_the_seed_article_and_a_moderator_approves_it(
    live_server, scene, browser
):
    from playwright.sync_api import expect

    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
    )
    page = phone.new_page()
    page.set_default_timeout(15_000)

    page.goto(f"{live_server.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", name="通告")).to_be_visible()
    # Nothing wider than the phone: no sideways scrolling of the page.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=ARTIFACTS / "portal-home-phone.png", full_page=True)

    page.get_by_role("link", name="韦韬主持召开市疫情防控工作领导小组第139次会议").first.click()
    expect(page).to_have_url(f"{live_server.url}{SEED_URL}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "韦韬主持召开市疫情防控工作领导小组第139次会议"
    )
    expect(page.locator("article .meta")).to_contain_text("网络编辑")
    expect(page.locator("#comments-h")).to_contain_text("共有 0 条评论")

    form = page.locator("form#comment-form")
    expect(form).to_be_visible()  # loaded by htmx with a fresh captcha
    page.get_by_label("昵称（留空则匿名评论）").fill("小店居民")
    page.get_by_label("评论内容").fill("感谢一线工作人员的辛苦付出！")
    key = form.locator("input[name=captcha_0]").get_attribute("value")
    assert key
    expect(form.get_by_test_id("captcha-image")).to_be_visible()
    assert form.get_by_test_id("captcha-image").evaluate("img => img.naturalWidth") > 0
    # Another picture keeps what was typed (issue 18).
    page.get_by_role("button", name="换一张").click()
    expect(form.locator("input[name=captcha_0]")).not_to_have_value(key)
    expect(page.get_by_label("评论内容")).to_have_value("感谢一线工作人员的辛苦付出！")
    expect(page.get_by_label("昵称（留空则匿名评论）")).to_have_value("小店居民")
    page.screenshot(path=ARTIFACTS / "portal-comment-another-picture-phone.png", full_page=True)
    page.get_by_label("验证码").fill("999999")  # wrong first
    page.get_by_role("button", name="提交评论").click()
    expect(page.locator("form#comment-form [role=alert]")).to_be_visible()
    key = page.locator("form#comment-form input[name=captcha_0]").get_attribute("value")
    assert key
    page.get_by_label("评论内容").fill("感谢一线工作人员的辛苦付出！")
    page.get_by_label("验证码").fill(_answer(key))
    page.get_by_role("button", name="提交评论").click()
    expect(page.get_by_role("status")).to_contain_text("审核通过后将会显示")
    page.screenshot(path=ARTIFACTS / "portal-article-phone.png", full_page=True)

    staff = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    desk = staff.new_page()
    desk.set_default_timeout(15_000)
    desk.goto(f"{live_server.url}/editor/comments/")
    desk.fill("#id_username", "moderator")
    desk.fill("#id_password", PASSWORD)
    desk.locator("form[action='/login/'] button[type=submit]").click()
    expect(desk.locator(".comment-item")).to_contain_text("感谢一线工作人员的辛苦付出！")
    desk.get_by_role("button", name="通过").click()
    expect(desk.get_by_text("没有待审核的评论。")).to_be_visible()
    staff.close()

    page.goto(f"{live_server.url}{SEED_URL}")
    expect(page.locator("#comments-h")).to_contain_text("共有 1 条评论")
    expect(page.locator("#comments")).to_contain_text("小店居民")
    expect(page.locator("#comments")).to_contain_text("感谢一线工作人员的辛苦付出！")
    page.screenshot(path=ARTIFACTS / "portal-article-approved-phone.png", full_page=True)
    phone.close()
