import http.server
import io
import threading

import pytest
from PIL import Image

from fangkong.core.errors import ValidationFailed
from fangkong.portal.models import ServiceLink
from fangkong.portal.services import article_create, attachment_add, link_save, links_check
from fangkong.portal.services.articles import ATTACHMENT_MAX_BYTES, COVER_MAX_BYTES
from fangkong.portal.tests.kit import channels, editor

pytestmark = pytest.mark.django_db


def _png(w: int, h: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (w, h), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_a_cover_is_resized_to_a_jpeg(city):
    _top, sub, _n = channels()
    article = article_create(
        actor=editor(city), channel=sub, title="t", body="<p>x</p>", cover=_png(3000, 2000)
    )
    assert article.cover is not None
    with Image.open(io.BytesIO(bytes(article.cover))) as img:
        assert img.format == "JPEG" and img.width <= 1200 and img.height <= 800


@pytest.mark.parametrize(
    "data",
    [b"<script>alert(1)</script>", b"%PDF-1.4 not an image", b"\x89PNG\r\n\x1a\nbroken"],
)
def test_a_cover_that_is_not_an_image_is_refused(city, data):
    _top, sub, _n = channels()
    with pytest.raises(ValidationFailed) as exc:
        article_create(actor=editor(city), channel=sub, title="t", body="<p>x</p>", cover=data)
    assert "cover" in exc.value.fields


def test_an_oversized_cover_is_refused(city):
    _top, sub, _n = channels()
    with pytest.raises(ValidationFailed):
        article_create(
            actor=editor(city),
            channel=sub,
            title="t",
            body="<p>x</p>",
            cover=b"\0" * (COVER_MAX_BYTES + 1),
        )


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("virus.exe", b"MZ\x90\x00"),
        ("page.html", b"<html><script>alert(1)</script>"),
        ("fake.pdf", b"<html>not a pdf</html>"),
        ("image.png", b"%PDF-1.4 a pdf named png"),
        ("big.pdf", b"%PDF-" + b"0" * ATTACHMENT_MAX_BYTES),
    ],
)
def test_wrong_or_oversized_attachments_are_refused(city, name, data):
    _top, sub, _n = channels()
    ed = editor(city)
    article = article_create(actor=ed, channel=sub, title="t", body="<p>x</p>")
    with pytest.raises(ValidationFailed):
        attachment_add(actor=ed, article=article, filename=name, data=data)


def test_a_pdf_attachment_is_kept_with_a_safe_name(city):
    _top, sub, _n = channels()
    ed = editor(city)
    article = article_create(actor=ed, channel=sub, title="t", body="<p>x</p>")
    att = attachment_add(
        actor=ed, article=article, filename="../../通知<b>.pdf", data=b"%PDF-1.4\n"
    )
    assert (
        att.content_type == "application/pdf"
        and "/" not in att.filename
        and "<" not in att.filename
    )


def test_the_upload_form_shows_the_error(city, client):
    from fangkong.conftest import client_for

    _top, sub, _n = channels()
    c = client_for(editor(city))
    r = c.post(
        "/editor/articles/new/",
        {"channel": sub.pk, "title": "t", "body": "<p>x</p>", "cover": io.BytesIO(b"not an image")},
    )
    assert r.status_code == 200 and "field-error" in r.content.decode()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:  # noqa: N802
        self.send_response(200 if self.path == "/ok" else 404)
        self.end_headers()

    do_GET = do_HEAD  # noqa: N815

    def log_message(self, *args: object) -> None:
        pass


def test_the_link_checker_flags_dead_links_on_a_local_server(city):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        ed = editor(city)
        alive = link_save(
            actor=ed, category="health", title_zh="卫健委", title_en="Health", url=f"{base}/ok"
        )
        dead = link_save(
            actor=ed, category="health", title_zh="旧站", title_en="Old", url=f"{base}/gone"
        )
        link_save(actor=ed, category="hotline", title_zh="热线", title_en="Hotline", phone="12345")
        gone = link_save(
            actor=ed, category="police", title_zh="无", title_en="None", url="http://127.0.0.1:9/"
        )
        assert links_check() == {"checked": 3, "dead": 2}
    finally:
        server.shutdown()
    flags = dict(ServiceLink.objects.values_list("pk", "dead"))
    assert flags[alive.pk] is False and flags[dead.pk] is True and flags[gone.pk] is True
    assert ServiceLink.objects.get(pk=dead.pk).last_status == "404"


def test_links_need_an_address_or_phone_and_a_web_scheme(city):
    ed = editor(city)
    with pytest.raises(ValidationFailed):
        link_save(actor=ed, category="health", title_zh="x", title_en="x")
    with pytest.raises(ValidationFailed):
        link_save(
            actor=ed, category="health", title_zh="x", title_en="x", url="javascript:alert(1)"
        )


def test_attachments_and_covers_are_served_only_for_public_articles(city):
    from django.test import Client

    from fangkong.portal.services import article_publish, article_submit
    from fangkong.portal.tests.kit import reviewer

    _top, sub, _n = channels()
    ed, rv = editor(city), reviewer(city)
    article = article_create(actor=ed, channel=sub, title="t", body="<p>x</p>", cover=_png(100, 80))
    att = attachment_add(actor=ed, article=article, filename="防控通知.pdf", data=b"%PDF-1.4\n")
    c = Client()
    assert c.get(f"/media/attachment/{att.pk}/").status_code == 404
    assert c.get(f"/media/cover/{article.pk}.jpg").status_code == 404
    article_submit(actor=ed, article=article)
    article_publish(actor=rv, article=article)
    r = c.get(f"/media/attachment/{att.pk}/")
    assert r.status_code == 200 and r.content == b"%PDF-1.4\n"
    assert r["Content-Type"] == "application/pdf" and "attachment" in r["Content-Disposition"]
    assert r["X-Content-Type-Options"] == "nosniff"
    assert c.get(f"/media/cover/{article.pk}.jpg")["Content-Type"] == "image/jpeg"


def test_a_like_counts_once_per_address(city):
    from django.test import Client

    from fangkong.portal.tests.kit import published, reviewer

    _top, sub, _n = channels()
    article = published(sub, reviewer(city))
    c = Client()
    c.post(f"/like/{article.pk}/", HTTP_REFERER="https://evil.example/")
    r = c.post(f"/like/{article.pk}/")
    article.refresh_from_db()
    assert article.like_count == 1 and r["Location"] == "/"
