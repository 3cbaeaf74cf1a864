from typing import Any

import pytest
from django.db import transaction

from fangkong.core.errors import NotFound, PermissionDenied, ValidationFailed
from fangkong.core.models import AuditEntry
from fangkong.notify.models import Message
from fangkong.notify.services import notify_person, notify_system, optout_set
from fangkong.notify.tests.helpers import resident

pytestmark = pytest.mark.django_db

NOTICE: dict[str, Any] = {"purpose": "registry", "template_code": "registry_notice"}


def test_it_sends_in_the_persons_language(
    city, xiaodian_officer, outbox, django_capture_on_commit_callbacks
):
    alice = resident(city.xd_building, name="Alice Smith", language="en", phone="13900001234")
    with django_capture_on_commit_callbacks(execute=True):
        message = notify_person(
            actor=xiaodian_officer,
            person_id=alice.pk,
            context={"text": "please call us."},
            **NOTICE,
        )
    assert [sms.body for sms in outbox] == ["[Fangkong] Dear Alice Smith, please call us."]
    assert outbox[0].to == "+8613900001234"
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.language == "en"
    assert message.attempts == 1 and message.provider_message_id


def test_it_falls_back_to_simplified_chinese(city, xiaodian_officer, outbox):
    from fangkong.notify.models import MessageTemplate

    MessageTemplate.objects.filter(code="registry_notice", language="en").delete()
    bob = resident(city.xd_building, name="Bob", language="en")
    message = notify_person(
        actor=xiaodian_officer, person_id=bob.pk, context={"text": "请回电。"}, **NOTICE
    )
    assert message.language == "zh-hans"
    assert message.body == "【防控】Bob您好：请回电。"


def test_it_refuses_a_missing_placeholder_and_writes_nothing(city, xiaodian_officer):
    person = resident(city.xd_building)
    with pytest.raises(ValidationFailed) as exc:
        notify_person(actor=xiaodian_officer, person_id=person.pk, context={}, **NOTICE)
    assert "text" in exc.value.fields["context"]
    assert not Message.objects.exists()


def test_it_refuses_an_unknown_template(city, xiaodian_officer):
    person = resident(city.xd_building)
    with pytest.raises(ValidationFailed) as exc:
        notify_person(
            actor=xiaodian_officer,
            person_id=person.pk,
            purpose="registry",
            template_code="no_such_template",
        )
    assert "template_code" in exc.value.fields


def test_nothing_is_sent_when_the_transaction_rolls_back(
    city, xiaodian_officer, outbox, django_capture_on_commit_callbacks
):
    person = resident(city.xd_building)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            notify_person(
                actor=xiaodian_officer, person_id=person.pk, context={"text": "x"}, **NOTICE
            )
            assert outbox == []  # queued, not sent, while the transaction is open
            raise RuntimeError("the caller's work failed")
    assert callbacks == []
    assert outbox == []
    assert not Message.objects.exists()


def test_a_person_of_another_district_does_not_exist(city, yingze_officer):
    person = resident(city.xd_building)
    with pytest.raises(NotFound):
        notify_person(actor=yingze_officer, person_id=person.pk, context={"text": "x"}, **NOTICE)


def test_staff_without_the_capability_may_not_send(city, grid_worker):
    person = resident(city.xd_building)
    with pytest.raises(PermissionDenied):
        notify_person(actor=grid_worker, person_id=person.pk, context={"text": "x"}, **NOTICE)


def test_the_same_dedup_key_queues_nothing_twice(
    city, xiaodian_officer, outbox, django_capture_on_commit_callbacks
):
    person = resident(city.xd_building)
    kwargs = {"actor": xiaodian_officer, "person_id": person.pk, "context": {"text": "x"}}
    with django_capture_on_commit_callbacks(execute=True):
        first = notify_person(dedup_key="round-7", **kwargs, **NOTICE)
        again = notify_person(dedup_key="round-7", **kwargs, **NOTICE)
    assert again.pk == first.pk
    assert len(outbox) == 1
    assert AuditEntry.objects.filter(action="notify.notice").count() == 1


def test_an_opted_out_person_is_skipped_but_a_legally_required_notice_is_sent(
    city, xiaodian_officer, outbox, django_capture_on_commit_callbacks
):
    person = resident(city.xd_building)
    optout_set(actor=xiaodian_officer, person_id=person.pk, purpose="registry")
    kwargs = {"actor": xiaodian_officer, "person_id": person.pk, "context": {"text": "x"}}
    with django_capture_on_commit_callbacks(execute=True):
        skipped = notify_person(**kwargs, **NOTICE)
        legal = notify_person(legally_required=True, **kwargs, **NOTICE)
    assert skipped.status == Message.Status.SKIPPED
    assert skipped.skip_reason == Message.SkipReason.OPT_OUT
    legal.refresh_from_db()
    assert legal.status == Message.Status.SENT and legal.legally_required
    assert len(outbox) == 1


def test_an_opt_out_of_everything_covers_every_purpose(city, xiaodian_officer, outbox):
    person = resident(city.xd_building)
    optout_set(actor=xiaodian_officer, person_id=person.pk)
    message = notify_person(
        actor=xiaodian_officer, person_id=person.pk, context={"text": "x"}, **NOTICE
    )
    assert message.skip_reason == Message.SkipReason.OPT_OUT


def test_a_one_time_code_ignores_opt_outs(city, xiaodian_officer):
    person = resident(city.xd_building)
    optout_set(actor=xiaodian_officer, person_id=person.pk)
    message = notify_system(
        person=person,
        purpose="login",
        template_code="one_time_code",
        context={"code": "482913", "minutes": 5},
    )
    assert message.status == Message.Status.QUEUED


def test_a_person_without_a_phone_is_skipped(city, xiaodian_officer):
    from fangkong.conftest import make_person

    person = make_person(city.xd_building)
    message = notify_person(
        actor=xiaodian_officer, person_id=person.pk, context={"text": "x"}, **NOTICE
    )
    assert message.skip_reason == Message.SkipReason.NO_PHONE


def test_each_notice_is_audited_without_phone_numbers_or_context_values(city, xiaodian_officer):
    person = resident(city.xd_building, phone="13900005678")
    message = notify_person(
        actor=xiaodian_officer,
        person_id=person.pk,
        context={"text": "secret-value-42"},
        **NOTICE,
    )
    entry = AuditEntry.objects.get(action="notify.notice")
    assert entry.actor_username == "xiaodian"
    assert entry.person_id == person.pk and entry.object_id == str(message.pk)
    assert entry.changes["context_keys"] == [None, ["text"]]
    dump = str(entry.changes)
    assert "13900005678" not in dump and "secret-value-42" not in dump


def test_a_system_notice_is_audited_as_the_system(city, outbox, django_capture_on_commit_callbacks):
    person = resident(city.xd_building)
    with django_capture_on_commit_callbacks(execute=True):
        message = notify_system(
            person=person,
            purpose="status_change",
            template_code="registry_notice",
            context={"text": "您的状态已变更。"},
            legally_required=True,
        )
    entry = AuditEntry.objects.get(action="notify.notice")
    assert entry.actor is None and entry.actor_username == "system"
    assert entry.scope_path == person.scope_path
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and len(outbox) == 1


def test_staff_may_not_send_a_template_meant_for_the_persons_own_requests(city, xiaodian_officer):
    person = resident(city.xd_building)
    with pytest.raises(ValidationFailed) as exc:
        notify_person(
            actor=xiaodian_officer,
            person_id=person.pk,
            purpose="registry",
            template_code="one_time_code",
            context={"code": "1", "minutes": 1},
        )
    assert "template_code" in exc.value.fields
    assert not Message.objects.exists()
