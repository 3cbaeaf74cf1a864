"""Issue 18: a new contact turned red gets the status-change SMS. The whole path:
the investigation fact (after its commit) → the status reason → the notice → the
worker's sending job → the SMS in the outbox (notify's locmem backend)."""

from __future__ import annotations

from typing import Any

from django.test import override_settings
from django.utils import translation

from fangkong.conftest import make_person
from fangkong.core.models import Fact
from fangkong.investigation.tests.casekit import new_case, new_contact
from fangkong.notify import backends
from fangkong.notify.models import Message
from fangkong.status.models import Reason
from fangkong.status.selectors import person_status


@override_settings(
    FANGKONG_SMS_BACKEND="fangkong.notify.backends.LocmemBackend", FANGKONG_SMS_QUIET_HOURS=""
)
def test_a_new_contact_turned_red_gets_the_status_sms(
    city: Any, investigator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    index = make_person(city.xd_building)
    contact = make_person(city.xd_building, name="陈静", phone="13811112222")
    case = new_case(investigator, index)
    sent_before = len(backends.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        new_contact(investigator, contact, case=case)
    # The fact was delivered once, the reason granted, the person is red.
    fact = Fact.objects.get(name="contact.categorised")
    assert fact.delivered_at is not None and fact.last_error == ""
    assert Reason.objects.get(person=contact).kind == "close_contact"
    assert person_status(contact.pk)["level"] == "red"
    # One status-change notice, sent by the worker's job: the SMS is in the outbox.
    notice = Message.objects.get(person=contact, purpose="status_change")
    assert notice.status == Message.Status.SENT
    texts = [sms.body for sms in backends.outbox[sent_before:] if sms.to == "+8613811112222"]
    assert len(texts) == 1
    assert "陈静" in texts[0] or "Chen" in texts[0]


@override_settings(
    FANGKONG_SMS_BACKEND="fangkong.notify.backends.LocmemBackend", FANGKONG_SMS_QUIET_HOURS=""
)
def test_the_status_sms_names_the_level_in_the_residents_language(
    city: Any, investigator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Seen in the running demo: an investigator reading English confirmed a
    contact, whose Chinese SMS then read "您的健康风险状态已变为Yellow"."""
    index = make_person(city.xd_building)
    chinese = make_person(city.xd_building, name="陈静", phone="13811113333")
    english = make_person(city.xd_building, name="Anna Li", phone="13811114444")
    english.language = "en"
    english.save(update_fields=["language"])
    case = new_case(investigator, index)
    sent_before = len(backends.outbox)
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        new_contact(investigator, chinese, case=case)
        new_contact(investigator, english, case=case)
    texts = {sms.to: sms.body for sms in backends.outbox[sent_before:]}
    assert "红码" in texts["+8613811113333"] and "Red" not in texts["+8613811113333"]
    assert "Red" in texts["+8613811114444"] and "红码" not in texts["+8613811114444"]


def test_a_batch_of_status_notices_is_split_by_the_residents_language(
    city: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from fangkong.notify.models import Batch
    from fangkong.status.services.reasons import notify_batches

    people = [make_person(city.xd_building, phone=f"1390001{i:04d}") for i in range(4)]
    people[0].language = "en"
    people[0].save(update_fields=["language"])
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        made = notify_batches({"red": [p.pk for p in people]}, "20261205")
    assert made == 2
    names = {b.context["level_name"] for b in Batch.objects.filter(purpose="status_change")}
    assert names == {"红码", "Red"}
