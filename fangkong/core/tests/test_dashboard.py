"""The command centre lists what waits on people of the user's area."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from fangkong.conftest import client_for, make_person
from fangkong.core.crypto import decrypt
from fangkong.status.models import Appeal
from fangkong.status.services.appeals import appeal_create
from fangkong.status.services.manual import manual_request_create

pytestmark = pytest.mark.django_db


def _page(user) -> str:
    return client_for(user).get(reverse("core:home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_pending_approvals_and_overdue_appeals_reach_the_command_of_that_area_only(
    city, commander, xiaodian_officer, yingze_officer, auditor
):
    person = make_person(city.xd_building)
    manual_request_create(
        actor=xiaodian_officer,
        action="grant",
        basis="epidemiological_investigation",
        source_ref="Case 2022-0117",
        text="Shared a car with a confirmed case for two hours",
        person_ids=[person.pk],
        level="yellow",
        ends_at=timezone.now() + dt.timedelta(days=3),
    )
    appeal = appeal_create(
        person_id=person.pk,
        doc_number=decrypt(person.doc_number_encrypted),
        text="I was at home all week; the venue scan was my neighbour's phone.",
    )
    page = _page(commander)
    assert "Needs attention" in page
    assert "Manual status changes waiting for a second approver" in page
    assert "Status appeals past their deadline" not in page  # not overdue yet

    Appeal.objects.filter(pk=appeal.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    page = _page(commander)
    assert "Status appeals past their deadline" in page
    assert reverse("status:appeals") in page

    # Another district's officer sees nothing of Xiaodian's queue.
    other = _page(yingze_officer)
    assert "second approver" not in other and "past their deadline" not in other
    # The auditor has no approval or appeal duties: no such items.
    assert "second approver" not in _page(auditor)
