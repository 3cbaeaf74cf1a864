"""An action posted from a task page (``core.views.post_form``): back to the page
either way, with the success message, the rule's refusal or what is missing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from fangkong.conftest import client_for
from fangkong.headquarters import services
from fangkong.headquarters.models import Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(city, commander):
    return services.task_create(
        actor=commander,
        unit_id=city.xd_grid.pk,
        title="上门核查",
        deadline=timezone.now() + dt.timedelta(hours=3),
    )


def _said(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def _cancel(commander, task, reason: str):
    return client_for(commander).post(
        f"/hq/tasks/{task.pk}/cancel/", {"reason": reason}, HTTP_ACCEPT_LANGUAGE="en"
    )


def test_a_cancelled_task_goes_back_to_its_page_with_the_news(commander, task):
    response = _cancel(commander, task, "派错了")
    assert response.status_code == 302
    assert response["Location"] == f"/hq/tasks/{task.pk}/"
    assert _said(response) == [("success", "Task cancelled.")]
    task.refresh_from_db()
    assert task.state == Task.State.CANCELLED


def test_a_refused_action_goes_back_with_the_reason(commander, task):
    services.task_cancel(actor=commander, task_id=task.pk, reason="派错了")
    response = _cancel(commander, task, "再取消一次")
    assert response.status_code == 302
    assert response["Location"] == f"/hq/tasks/{task.pk}/"
    assert _said(response) == [("error", "This task is already closed.")]


def test_a_missing_field_is_named_by_its_label(commander, task):
    response = _cancel(commander, task, "")
    assert response.status_code == 302
    assert _said(response) == [("error", "Why it is cancelled: This field is required.")]
    task.refresh_from_db()
    assert task.state == Task.State.OPEN
