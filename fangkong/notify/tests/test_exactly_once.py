"""Exactly once toward the gateway when a worker dies (issue 22).

A worker's messages are claimed under its lease; each is marked handed over before
the gateway sees it. These tests leave messages as a killed worker would and check
that ``recover_stranded`` sends each exactly once, at once for a worker gone from
this host and when the lease lapses for one elsewhere.
"""

import datetime as dt
import os
import socket
import subprocess
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from fangkong.notify import backends
from fangkong.notify.backends import HttpGatewayBackend, LookupUnsupported, Sms
from fangkong.notify.jobs import recover_stranded, send_chunk
from fangkong.notify.models import Message, SendLease
from fangkong.notify.services import message_delivery_report, notify_person
from fangkong.notify.tests.fakegateway import FakeGateway
from fangkong.notify.tests.helpers import resident, run_due_tasks

pytestmark = pytest.mark.django_db

NOTICE: dict[str, Any] = {
    "purpose": "registry",
    "template_code": "registry_notice",
    "context": {"text": "x"},
}


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])  # noqa: S607
    child.wait()
    return child.pid


def _left_by_a_dead_worker(
    message: Message, *, handed_over: bool, host: str = "", pid: int = 0, lease_s: float = 30
) -> SendLease:
    """The state a worker killed mid-chunk leaves: its lease, the message claimed."""
    now = timezone.now()
    lease = SendLease.objects.create(
        host=host or socket.gethostname(),
        pid=pid or _dead_pid(),
        expires_at=now + dt.timedelta(seconds=lease_s),
    )
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.SENDING,
        attempts=1,
        lease_id=lease.pk,
        handed_over_at=now if handed_over else None,
    )
    return lease


@pytest.fixture
def message(city, xiaodian_officer) -> Message:
    person = resident(city.xd_building)
    # No on_commit capture: the message waits, queued, as a worker would find it.
    return notify_person(actor=xiaodian_officer, person_id=person.pk, **NOTICE)


def test_a_message_is_marked_handed_over_before_the_gateway_sees_it(message, outbox):
    seen: list[tuple[str, Any, Any]] = []

    class Watching(backends.LocmemBackend):
        def send(self, sms: Sms) -> str:
            row = Message.objects.get(reference=sms.reference)
            seen.append((row.status, row.handed_over_at, row.lease_id))
            return super().send(sms)

    assert send_chunk([message.pk], Watching()) == {"sent": 1}
    [(status, handed_over_at, lease_id)] = seen
    assert status == Message.Status.SENDING and handed_over_at is not None and lease_id
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.lease_id is None
    assert not SendLease.objects.exists()  # the lease ends with the chunk


def test_claimed_but_never_handed_over_is_sent_at_once_by_a_restarted_worker(message, outbox):
    _left_by_a_dead_worker(message, handed_over=False)
    # The lease has not lapsed, but its process is gone from this host.
    assert recover_stranded() == {"requeued": 1}
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.attempts == 1
    assert [sms.reference for sms in outbox] == [message.reference]
    assert not SendLease.objects.exists()


def test_handed_over_and_accepted_is_recorded_sent_not_sent_again(message, outbox):
    backends.LocmemBackend().send(Sms(to="+8613900000000", body="x", reference=message.reference))
    _left_by_a_dead_worker(message, handed_over=True)
    assert recover_stranded() == {"requeued": 0, "reconciled_sent": 1}
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.provider_message_id == f"locmem-{message.reference}"
    assert len(outbox) == 1 and message.sent_at == message.handed_over_at


def test_handed_over_but_unknown_to_the_gateway_is_sent_once(message, outbox):
    _left_by_a_dead_worker(message, handed_over=True)
    assert recover_stranded() == {"requeued": 1}
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert [sms.reference for sms in outbox] == [message.reference]


def test_a_live_workers_messages_are_left_alone(message, outbox):
    _left_by_a_dead_worker(message, handed_over=True, pid=os.getpid())
    assert recover_stranded() == {}
    message.refresh_from_db()
    assert message.status == Message.Status.SENDING and outbox == []


def test_another_hosts_worker_is_taken_over_when_its_lease_lapses(message, outbox, time_machine):
    _left_by_a_dead_worker(message, handed_over=False, host="worker-b.internal", pid=4242)
    assert recover_stranded() == {}  # its heartbeat may still come
    time_machine.shift(dt.timedelta(seconds=31))
    assert recover_stranded() == {"requeued": 1}
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and len(outbox) == 1


def test_the_heartbeat_keeps_a_lease_held(message, outbox, time_machine):
    from fangkong.notify.jobs import Lease

    lease = Lease()
    time_machine.shift(dt.timedelta(seconds=25))
    SendLease.objects.filter(pk=lease.pk).update(
        expires_at=timezone.now() + dt.timedelta(seconds=30)  # what a beat writes
    )
    Message.objects.filter(pk=message.pk).update(status=Message.Status.SENDING, lease_id=lease.pk)
    SendLease.objects.filter(pk=lease.pk).update(host="worker-b.internal")
    time_machine.shift(dt.timedelta(seconds=25))
    assert recover_stranded() == {}
    time_machine.shift(dt.timedelta(seconds=10))
    assert recover_stranded() == {"requeued": 1}


class NoLookup(backends.LocmemBackend):
    def lookup(self, reference: str) -> str | None:
        raise LookupUnsupported("this gateway cannot be asked")


class IdempotentNoLookup(NoLookup):
    idempotent = True


def test_a_gateway_that_cannot_be_asked_leaves_the_message_unconfirmed(message, outbox):
    _left_by_a_dead_worker(message, handed_over=True)
    assert recover_stranded(NoLookup())["unconfirmed"] == 1
    message.refresh_from_db()
    assert message.status == Message.Status.UNCONFIRMED and outbox == []
    assert "not re-sent" in message.error
    # The gateway's delivery report settles it.
    message_delivery_report(reference=message.reference, delivered=True)
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED


def test_a_gateway_that_drops_repeats_gets_the_same_reference_again(message, outbox):
    _left_by_a_dead_worker(message, handed_over=True)
    with override_settings(
        FANGKONG_SMS_BACKEND="fangkong.notify.tests.test_exactly_once.IdempotentNoLookup"
    ):
        assert recover_stranded()["resent_idempotent"] == 1
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert [sms.reference for sms in outbox] == [message.reference]


def test_a_failed_lookup_waits_for_the_next_sweep(message, outbox):
    class Down(backends.LocmemBackend):
        def lookup(self, reference: str) -> str | None:
            raise backends.TransientError("gateway unreachable")

    _left_by_a_dead_worker(message, handed_over=True)
    assert recover_stranded(Down())["lookup_failed"] == 1
    message.refresh_from_db()
    assert message.status == Message.Status.SENDING and message.lease_id is None
    assert recover_stranded() == {"requeued": 1}  # the gateway answers: it has none
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and len(outbox) == 1


def test_the_http_gateway_gets_the_reference_as_idempotency_key_and_is_asked_by_it():
    with FakeGateway() as gateway:
        backend = HttpGatewayBackend(url=gateway.send_url, lookup_url=gateway.lookup_url)
        assert backend.lookup("abc123") is None
        assert backend.send(Sms(to="+8613900001234", body="x", reference="abc123")) == "gw-abc123"
        assert gateway.idempotency_keys == ["abc123"]
        assert backend.lookup("abc123") == "gw-abc123"
    with pytest.raises(LookupUnsupported):
        HttpGatewayBackend(url="http://127.0.0.1:9/send", lookup_url="").lookup("abc123")


def test_a_dead_workers_batch_chunk_is_finished_without_a_repeat(
    city, xiaodian_officer, outbox, django_capture_on_commit_callbacks
):
    """Three messages of one chunk: one sent and recorded, one handed over with its
    answer lost, one never reached; the restarted worker completes the chunk."""
    people = [resident(city.xd_building) for _ in range(3)]
    messages = [notify_person(actor=xiaodian_officer, person_id=p.pk, **NOTICE) for p in people]
    done, in_doubt, waiting = messages
    send_chunk([done.pk], backends.LocmemBackend())
    lease = _left_by_a_dead_worker(in_doubt, handed_over=True)
    backends.LocmemBackend().send(Sms(to="+8613900000000", body="x", reference=in_doubt.reference))
    Message.objects.filter(pk=waiting.pk).update(
        status=Message.Status.SENDING, attempts=1, lease_id=lease.pk
    )
    recover_stranded()
    run_due_tasks()
    assert Message.objects.filter(status=Message.Status.SENT).count() == 3
    sent = [sms.reference for sms in outbox]
    assert sorted(sent) == sorted(m.reference for m in messages)
