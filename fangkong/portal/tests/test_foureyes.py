"""Four eyes on what the public reads (issue 22): a reviewer who manages staff
cannot publish his own text through an account he created; a text changed after a
reviewer scheduled it is not published by the clock; a new cover is a change."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.conftest import client_for
from fangkong.core.errors import PermissionDenied
from fangkong.core.tests.foureyes_kit import create_account, managing_staff
from fangkong.portal.models import Article
from fangkong.portal.services import (
    article_create,
    article_publish,
    article_submit,
    article_update,
    articles_publish_due,
)
from fangkong.portal.tests.kit import channels, editor, reviewer

pytestmark = pytest.mark.django_db
API = "/api/v1/portal"


def post(user: Any, url: str, body: dict[str, Any] | None = None) -> Any:
    return client_for(user).post(url, json.dumps(body or {}), content_type="application/json")


def test_a_reviewer_cannot_publish_his_text_through_an_account_he_created(city: Any) -> None:
    channels()
    rv = managing_staff(reviewer(city))  # staff.manage, portal.edit and portal.review
    r = post(
        rv, f"{API}/articles", {"channel": "gsyl/lzyl", "title": "通告", "body": "<p>正文</p>"}
    )
    assert r.status_code == 201, r.content
    aid = r.json()["id"]
    assert post(rv, f"{API}/articles/{aid}/submit").json()["state"] == "review"
    own = post(rv, f"{API}/articles/{aid}/publish")
    assert own.status_code == 403 and own.json()["error"]["code"] == "own_article"
    status, second = create_account(rv, city.city, "portal_reviewer", username="reviewer-2")
    assert status == 201
    r = post(second, f"{API}/articles/{aid}/publish")
    assert r.status_code == 403, r.content
    assert r.json()["error"]["code"] == "linked_account"
    assert Article.objects.get(pk=aid).state == "review"
    assert Client().get(f"{API}/articles/{aid}").status_code == 404


def test_a_text_changed_after_it_was_scheduled_waits_for_a_new_review(city: Any) -> None:
    _top, sub, _n = channels()
    ed, rv = editor(city), reviewer(city)
    article = article_create(actor=ed, channel=sub, title="定时", body="<p>读过的正文</p>")
    article_submit(actor=ed, article=article)
    at = timezone.now() + dt.timedelta(hours=2)
    article_publish(actor=rv, article=article, at=at)
    article = article_update(actor=ed, article=article, body="<p>没人读过的正文</p>")
    assert article.scheduled_at is None
    assert articles_publish_due(now=at + dt.timedelta(minutes=1)) == 0
    article.refresh_from_db()
    assert article.state == Article.State.REVIEW


def test_a_reviewer_who_changed_the_cover_does_not_publish_it_himself(city: Any) -> None:
    import io

    from PIL import Image

    _top, sub, _n = channels()
    ed, rv = editor(city), reviewer(city)
    article = article_create(actor=ed, channel=sub, title="封面", body="<p>正文</p>")
    article_submit(actor=ed, article=article)
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buf, format="PNG")
    article_update(actor=rv, article=article, cover=buf.getvalue())
    with pytest.raises(PermissionDenied) as exc:
        article_publish(actor=rv, article=article)
    assert exc.value.code == "own_article"
