"""The Huey side of notifications: the only place messages leave the system.

- ``prepare_batch``: a large batch's messages, made by the worker chunk by chunk
  (``services.batch_prepare``), then dispatched.
- ``dispatch_batch``: cut a batch's queued messages into chunks that respect its
  rate limit and schedule each chunk (``eta``).
- ``send_messages``: send a chunk. Each message is claimed (queued → sending)
  under a row lock, so a message scheduled twice is sent once; one that reaches
  its slot inside quiet hours is deferred to their end.
  Transient failures are retried with exponential backoff
  (``FANGKONG_SMS_RETRY_BASE_SECONDS`` × 2ⁿ) up to ``FANGKONG_SMS_MAX_ATTEMPTS``;
  permanent ones fail at once.
- ``release_deferred`` (every minute): messages whose quiet hours have ended are
  queued and scheduled; queued messages whose task was lost (worker restart) are
  scheduled again, and so is the preparation of a batch whose worker stopped.
- ``recover_stranded`` (at a worker's start and every minute): the "sending"
  messages of a worker that died (its lease lapsed, or its process is gone from
  this host) are queued again if never handed over, else reconciled with the
  gateway by reference: exactly once toward the gateway.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import socket
import threading
from collections import defaultdict
from collections.abc import Iterable

from django import db
from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, on_startup

from fangkong.core.crypto import decrypt, mask
from fangkong.notify import conf
from fangkong.notify.backends import (
    BaseBackend,
    LookupUnsupported,
    PermanentError,
    Sms,
    get_backend,
)
from fangkong.notify.models import Batch, Message, SendLease
from fangkong.notify.sql import update_many

logger = logging.getLogger(__name__)

# A queued message this late lost its task; so did a batch being prepared whose
# progress stood still this long. ("Sending" messages of a dead worker are taken
# up when its lease lapses: ``recover_stranded``.)
STALE_QUEUED = dt.timedelta(minutes=5)
STALE_PREPARING = dt.timedelta(minutes=5)


def plan_slots(count: int, rate_per_minute: int, start: dt.datetime) -> list[dt.datetime]:
    """Send times for ``count`` messages at ``rate_per_minute``.

    Messages go in chunks of about rate/6 (about six chunks a minute), chunk *k* at
    ``start + k × 60·chunk/rate`` seconds. The chunk size divides the rate, so no
    60-second window ever holds more than ``rate`` messages, and no chunk is a
    minute-long burst.
    """
    rate = max(1, rate_per_minute)
    chunk = math.ceil(rate / 6)
    while rate % chunk:
        chunk -= 1
    interval = dt.timedelta(seconds=60 * chunk / rate)
    return [start + (i // chunk) * interval for i in range(count)]


def _schedule(message_ids: list[int], rate_per_minute: int, start: dt.datetime) -> int:
    """Give each message its slot, then schedule one task per slot."""
    slots = plan_slots(len(message_ids), rate_per_minute, start)
    by_slot: dict[dt.datetime, list[int]] = defaultdict(list)
    for message_id, slot in zip(message_ids, slots, strict=True):
        by_slot[slot].append(message_id)
    now = timezone.now()
    for slot, ids in sorted(by_slot.items()):
        Message.objects.filter(pk__in=ids, status=Message.Status.QUEUED).update(
            not_before=slot, updated_at=now
        )
        if slot <= now:
            send_messages(message_ids=ids)
        else:
            send_messages.schedule(kwargs={"message_ids": ids}, eta=slot)
    return len(by_slot)


@db_task()
def prepare_batch(batch_id: int) -> int:
    """Make the messages of a batch too large to prepare in the request that
    created it; it is dispatched when all are made. Returns recipients prepared."""
    from fangkong.notify.services import batch_prepare

    batch = batch_prepare(batch_id=batch_id)
    return batch.prepared if batch is not None else 0


@db_task()
def dispatch_batch(batch_id: int) -> int:
    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is None:
        return 0
    now = timezone.now()
    ids = list(
        Message.objects.filter(batch_id=batch_id, status=Message.Status.QUEUED, not_before__lte=now)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    if ids and batch.status == Batch.Status.QUEUED:
        Batch.objects.filter(pk=batch_id).update(status=Batch.Status.SENDING, updated_at=now)
    return _schedule(ids, batch.rate_per_minute, now)


def _scrub(text: str, phone: str) -> str:
    """Gateways sometimes echo the number in errors; never store it in clear."""
    if phone:
        national = phone[3:] if phone.startswith("+86") else phone.lstrip("+")
        for variant in (phone, phone.lstrip("+"), national):
            if variant:
                text = text.replace(variant, mask(phone, 3, 4))
    return text[:500]


HANDOVER_GROUP = 50  # messages marked "handed over" together, then sent, then recorded


class Lease:
    """This worker's claim on the messages it sends: a ``SendLease`` row whose
    ``expires_at`` a heartbeat thread moves forward every third of the lease while
    the process lives. A killed worker stops beating; its messages are taken up when
    the lease lapses, or at once by a worker started on the same host
    (``recover_stranded`` sees the process is gone)."""

    def __init__(self) -> None:
        self.seconds = conf.lease_seconds()
        now = timezone.now()
        self.row = SendLease.objects.create(
            host=socket.gethostname()[:255],
            pid=os.getpid(),
            expires_at=now + dt.timedelta(seconds=self.seconds),
        )
        self.pk: int = self.row.pk
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"sms-lease-{self.pk}", daemon=True)

    def _beat(self) -> None:
        used_db = False
        try:
            while not self._stop.wait(self.seconds / 3):
                used_db = True
                try:
                    SendLease.objects.filter(pk=self.pk).update(
                        expires_at=timezone.now() + dt.timedelta(seconds=self.seconds)
                    )
                except DatabaseError:
                    # Logged, and tried again at the next beat; if the database stays
                    # away the lease lapses and another worker takes the messages up.
                    logger.exception("sending lease %s: heartbeat failed", self.pk)
        finally:
            if used_db:
                db.connection.close()

    def __enter__(self) -> Lease:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        SendLease.objects.filter(pk=self.pk).delete()


def _claim(message_ids: list[int], now: dt.datetime, lease: Lease) -> list[int]:
    """Mark the due, queued messages among ``message_ids`` as ours (queued → sending,
    under our lease).

    Rows another worker holds are skipped (PostgreSQL ``SKIP LOCKED``; SQLite
    serialises writers), so a message scheduled twice is sent once.
    """
    with transaction.atomic():
        ids = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(
                pk__in=message_ids,
                status=Message.Status.QUEUED,
                not_before__lte=now + dt.timedelta(seconds=1),
            )
            .values_list("pk", flat=True)
        )
        Message.objects.filter(pk__in=ids).update(
            status=Message.Status.SENDING,
            attempts=F("attempts") + 1,
            lease_id=lease.pk,
            handed_over_at=None,
            updated_at=now,
        )
    return ids


def _hand_over(ids: list[int], lease: Lease) -> list[int]:
    """Record, before the gateway sees them, that these messages are being handed
    over (committed at once); returns the ones still ours."""
    now = timezone.now()
    ours = Message.objects.filter(pk__in=ids, status=Message.Status.SENDING, lease_id=lease.pk)
    if ours.update(handed_over_at=now, updated_at=now) == len(ids):
        return ids
    return list(ours.filter(handed_over_at=now).order_by("pk").values_list("pk", flat=True))


class _Outcomes:
    """Collects what happened to each claimed message and writes it in bulk."""

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        self.sent: list[Message] = []
        self.failed: list[Message] = []
        self.retry: list[Message] = []
        self.deferred: list[Message] = []
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, kind: str, message: Message) -> None:
        getattr(self, kind).append(message)
        self.counts[kind] += 1

    def flush(self) -> None:
        # Only rows still "sending" under our lease change: a delivery report that
        # overtook us wins.
        lease = self.lease.pk
        _update_sending(self.sent, ["status", "provider_message_id", "sent_at", "error"], lease)
        _update_sending(self.failed, ["status", "error", "failed_at"], lease)
        _update_sending(self.retry, ["status", "not_before", "error", "handed_over_at"], lease)
        _update_sending(self.deferred, ["status", "not_before", "attempts"], lease)
        if self.retry:
            by_eta: dict[dt.datetime, list[int]] = defaultdict(list)
            for m in self.retry:
                assert m.not_before is not None
                by_eta[m.not_before.replace(microsecond=0)].append(m.pk)
            for eta, ids in sorted(by_eta.items()):
                send_messages.schedule(kwargs={"message_ids": ids}, eta=eta)
        self.sent, self.failed, self.retry, self.deferred = [], [], [], []


def _update_sending(messages: list[Message], fields: list[str], lease_id: int) -> None:
    rows = [
        {"id": m.pk, **{f: getattr(m, f) for f in [*fields, "updated_at"]}, "lease_id": None}
        for m in messages
    ]
    update_many(Message, rows, where={"status": Message.Status.SENDING, "lease_id": lease_id})


def send_chunk(message_ids: list[int], backend: BaseBackend) -> dict[str, int]:
    """Send the due, queued messages among ``message_ids``; returns counts by outcome
    (``sent``, ``failed``, ``retry``, ``deferred``).

    Exactly once toward the gateway: the messages are claimed under this worker's
    lease; each group of ``HANDOVER_GROUP`` is marked handed over (committed)
    before the first of them reaches the gateway, and their answers are recorded
    after; a worker killed in between leaves "sending" messages that
    ``recover_stranded`` queues again (never handed over) or reconciles by
    reference (handed over).

    Quiet hours are checked again here: a batch whose rate-limited tail runs into
    the night waits for the morning like any other non-urgent message.
    """
    with Lease() as lease:
        return _send_claimed(message_ids, backend, lease)


def _send_claimed(message_ids: list[int], backend: BaseBackend, lease: Lease) -> dict[str, int]:
    from fangkong.notify.services import QuietHoursResolver

    claimed = _claim(message_ids, timezone.now(), lease)
    rows = (
        Message.objects.filter(pk__in=claimed)
        .order_by("pk")
        .values_list(
            "pk",
            "body",
            "reference",
            "attempts",
            "legally_required",
            "template__transactional",
            "person__scope_path",
            "person__phone_encrypted",
        )
    )
    outcomes = _Outcomes(lease)
    quiet = QuietHoursResolver()
    max_attempts, base = conf.max_attempts(), conf.retry_base_seconds()
    sendable: list[tuple[int, str, str, int, str]] = []
    for row in list(rows):
        pk, body, reference, attempts, legal, transactional, path, phone_encrypted = row
        release = (
            None if legal or transactional else quiet.for_path(path).release_time(timezone.now())
        )
        if release is not None:
            message = Message(pk=pk, status=Message.Status.DEFERRED, not_before=release)
            message.attempts, message.updated_at = attempts - 1, timezone.now()
            outcomes.add("deferred", message)
            continue
        sendable.append((pk, body, reference, attempts, phone_encrypted))
    outcomes.flush()
    for start in range(0, len(sendable), HANDOVER_GROUP):
        group = sendable[start : start + HANDOVER_GROUP]
        ours = set(_hand_over([item[0] for item in group], lease))
        for pk, body, reference, attempts, phone_encrypted in group:
            if pk not in ours:
                continue
            message = Message(pk=pk, attempts=attempts)
            phone = decrypt(phone_encrypted) if phone_encrypted else ""
            try:
                if not phone:
                    raise PermanentError("no phone number")
                provider_id = backend.send(Sms(to=phone, body=body, reference=reference))
            except PermanentError as exc:
                message.error = _scrub(str(exc), phone)
                kind = "failed"
            except Exception as exc:  # TransientError, or a backend bug: try again later
                message.error = _scrub(f"{type(exc).__name__}: {exc}", phone)
                kind = "failed" if attempts >= max_attempts else "retry"
            else:
                message.provider_message_id = provider_id[:128]
                message.sent_at = timezone.now()
                message.error = ""
                kind = "sent"
            now = timezone.now()
            message.updated_at = now
            if kind == "sent":
                message.status = Message.Status.SENT
            elif kind == "failed":
                message.status, message.failed_at = Message.Status.FAILED, now
            else:
                message.status, message.handed_over_at = Message.Status.QUEUED, None
                message.not_before = now + dt.timedelta(seconds=base * 2 ** (attempts - 1))
                logger.info(
                    "message %s: attempt %s failed, retry at %s", pk, attempts, message.not_before
                )
            outcomes.add(kind, message)
        outcomes.flush()
    return dict(outcomes.counts)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _forget_dead_leases(now: dt.datetime) -> None:
    """Delete lapsed leases and those of processes gone from this host: their
    messages are free at once."""
    host = socket.gethostname()[:255]
    dead = [
        pk
        for pk, lease_host, pid, expires_at in SendLease.objects.values_list(
            "pk", "host", "pid", "expires_at"
        )
        if expires_at <= now or (lease_host == host and not _pid_alive(pid))
    ]
    if dead:
        SendLease.objects.filter(pk__in=dead).delete()


def recover_stranded(backend: BaseBackend | None = None) -> dict[str, int]:
    """Take up the "sending" messages of workers that died (lease lapsed, or process
    gone from this host): run at a worker's start and by the minute sweep.

    A message never handed over is queued again. One handed over whose answer was
    not recorded is looked up at the gateway by its reference: found, it is sent
    (recorded, not sent again); not found, it is queued again. When the gateway
    cannot be asked, it is queued again only if the gateway drops repeated
    references; otherwise it becomes "handed over, unconfirmed". A look-up that
    fails for now leaves the message for the next sweep.
    """
    counts: dict[str, int] = defaultdict(int)
    now = timezone.now()
    _forget_dead_leases(now)
    # Held leases are read in the statement itself, so a message another recovering
    # worker has just made its own is not taken from it.
    held = SendLease.objects.filter(expires_at__gt=now).values("pk")
    stranded = Message.objects.filter(status=Message.Status.SENDING).exclude(lease_id__in=held)
    if not stranded.exists():
        return {}
    backend = backend or get_backend()
    with Lease() as lease:
        # Ours first (one statement), so two recovering workers never share a message.
        stranded.update(lease_id=lease.pk, updated_at=now)
        mine = Message.objects.filter(status=Message.Status.SENDING, lease_id=lease.pk)
        unsent = mine.filter(handed_over_at__isnull=True)
        requeue: list[tuple[int, int | None]] = list(unsent.values_list("pk", "batch_id"))
        unsent.update(
            status=Message.Status.QUEUED,
            attempts=Greatest(F("attempts") - 1, 0),
            lease_id=None,
            not_before=now,
            updated_at=now,
        )
        counts["requeued"] = len(requeue)
        for pk, batch_id, reference, handed_over_at in mine.values_list(
            "pk", "batch_id", "reference", "handed_over_at"
        ):
            this = Message.objects.filter(pk=pk, status=Message.Status.SENDING, lease_id=lease.pk)
            try:
                provider_id = backend.lookup(reference)
            except LookupUnsupported:
                if backend.idempotent:
                    # Sent again with the same reference: the gateway drops a repeat.
                    this.update(status=Message.Status.QUEUED, lease_id=None, not_before=now)
                    requeue.append((pk, batch_id))
                    counts["resent_idempotent"] += 1
                else:
                    this.update(
                        status=Message.Status.UNCONFIRMED,
                        lease_id=None,
                        error="handed to the gateway by a worker that stopped; not re-sent",
                        updated_at=now,
                    )
                    counts["unconfirmed"] += 1
                continue
            except Exception as exc:  # TransientError or a backend bug: the next sweep
                logger.warning("message %s: look-up at the gateway failed: %s", pk, exc)
                this.update(lease_id=None, updated_at=now)
                counts["lookup_failed"] += 1
                continue
            if provider_id is None:
                this.update(
                    status=Message.Status.QUEUED,
                    lease_id=None,
                    handed_over_at=None,
                    not_before=now,
                    updated_at=now,
                )
                requeue.append((pk, batch_id))
                counts["requeued"] += 1
            else:
                this.update(
                    status=Message.Status.SENT,
                    lease_id=None,
                    provider_message_id=provider_id[:128],
                    sent_at=handed_over_at,
                    error="",
                    updated_at=now,
                )
                counts["reconciled_sent"] += 1
    if requeue:
        _schedule_groups(requeue, now)
    logger.warning("took up the messages of a stopped worker: %s", dict(counts))
    return dict(counts)


def batch_refresh_status(batch_id: int) -> None:
    """Mark a batch completed once none of its messages is waiting or in flight."""
    pending = Message.objects.filter(batch_id=batch_id, status__in=Message.PENDING).exists()
    now = timezone.now()
    if not pending:
        # A batch still being prepared is not complete, whatever has been sent.
        Batch.objects.filter(pk=batch_id).exclude(
            status__in=[Batch.Status.COMPLETED, Batch.Status.PREPARING]
        ).update(status=Batch.Status.COMPLETED, completed_at=now, updated_at=now)
    else:
        Batch.objects.filter(pk=batch_id, status=Batch.Status.QUEUED).update(
            status=Batch.Status.SENDING, updated_at=now
        )


@db_task()
def send_messages(message_ids: list[int]) -> dict[str, int]:
    outcome = send_chunk(message_ids, get_backend())
    batch_ids: Iterable[int] = (
        Message.objects.filter(pk__in=message_ids, batch__isnull=False)
        .order_by()
        .values_list("batch_id", flat=True)
        .distinct()
    )
    for batch_id in list(batch_ids):
        batch_refresh_status(batch_id)
    return outcome


def release_due(now: dt.datetime | None = None) -> int:
    """Queue deferred messages whose quiet hours are over; reschedule lost ones and
    the stalled preparation of large batches. Messages of a batch still being
    prepared wait for its dispatch."""
    now = now or timezone.now()
    for batch_id in Batch.objects.filter(
        status=Batch.Status.PREPARING, updated_at__lt=now - STALE_PREPARING
    ).values_list("pk", flat=True):
        logger.warning("batch %s: its preparation stalled; preparing it again", batch_id)
        prepare_batch(batch_id=batch_id)
    recover_stranded()
    preparing = Q(batch__status=Batch.Status.PREPARING)
    deferred = Message.objects.filter(status=Message.Status.DEFERRED, not_before__lte=now).exclude(
        preparing
    )
    lost = Message.objects.filter(
        status=Message.Status.QUEUED, not_before__lt=now - STALE_QUEUED
    ).exclude(preparing)
    due: list[tuple[int, int | None]] = []
    for qs in (deferred, lost):
        due.extend((pk, batch_id) for pk, batch_id in qs.values_list("pk", "batch_id"))
    if not due:
        return 0
    Message.objects.filter(pk__in=[pk for pk, _b in due], status=Message.Status.DEFERRED).update(
        status=Message.Status.QUEUED, updated_at=now
    )
    _schedule_groups(due, now)
    return len(due)


def _schedule_groups(due: list[tuple[int, int | None]], now: dt.datetime) -> None:
    """Schedule (message id, batch id) pairs at each batch's rate."""
    groups: dict[int | None, list[int]] = defaultdict(list)
    for pk, group in due:
        groups[group].append(pk)
    rates = dict(
        Batch.objects.filter(pk__in=[b for b in groups if b is not None]).values_list(
            "pk", "rate_per_minute"
        )
    )
    for group, ids in groups.items():
        rate = rates.get(group, conf.rate_per_minute()) if group else conf.rate_per_minute()
        _schedule(sorted(ids), rate, now)


@db_periodic_task(crontab(minute="*"))
def release_deferred() -> int:
    return release_due()


@on_startup()
def take_up_stranded_messages() -> None:
    """A (re)started worker takes up at once what a dead worker on this host held."""
    recover_stranded()
