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
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from fangkong.core.crypto import decrypt, mask
from fangkong.notify import conf
from fangkong.notify.backends import BaseBackend, PermanentError, Sms, get_backend
from fangkong.notify.models import Batch, Message
from fangkong.notify.sql import update_many

logger = logging.getLogger(__name__)

# A queued message this late, or one stuck "sending" this long, lost its task; so
# did a batch being prepared whose progress stood still this long.
STALE_QUEUED = dt.timedelta(minutes=5)
STALE_SENDING = dt.timedelta(minutes=30)
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


FLUSH_EVERY = 200  # record outcomes this often within a chunk


def _claim(message_ids: list[int], now: dt.datetime) -> list[int]:
    """Mark the due, queued messages among ``message_ids`` as ours (queued → sending).

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
            status=Message.Status.SENDING, attempts=F("attempts") + 1, updated_at=now
        )
    return ids


class _Outcomes:
    """Collects what happened to each claimed message and writes it in bulk."""

    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.failed: list[Message] = []
        self.retry: list[Message] = []
        self.deferred: list[Message] = []
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, kind: str, message: Message) -> None:
        getattr(self, kind).append(message)
        self.counts[kind] += 1

    def flush(self) -> None:
        # Only rows still "sending" change: a delivery report that overtook us wins.
        _update_sending(self.sent, ["status", "provider_message_id", "sent_at", "error"])
        _update_sending(self.failed, ["status", "error", "failed_at"])
        _update_sending(self.retry, ["status", "not_before", "error"])
        _update_sending(self.deferred, ["status", "not_before", "attempts"])
        if self.retry:
            by_eta: dict[dt.datetime, list[int]] = defaultdict(list)
            for m in self.retry:
                assert m.not_before is not None
                by_eta[m.not_before.replace(microsecond=0)].append(m.pk)
            for eta, ids in sorted(by_eta.items()):
                send_messages.schedule(kwargs={"message_ids": ids}, eta=eta)
        self.sent, self.failed, self.retry, self.deferred = [], [], [], []


def _update_sending(messages: list[Message], fields: list[str]) -> None:
    rows = [{"id": m.pk, **{f: getattr(m, f) for f in [*fields, "updated_at"]}} for m in messages]
    update_many(Message, rows, where={"status": Message.Status.SENDING})


def send_chunk(message_ids: list[int], backend: BaseBackend) -> dict[str, int]:
    """Send the due, queued messages among ``message_ids``; returns counts by outcome
    (``sent``, ``failed``, ``retry``, ``deferred``).

    Quiet hours are checked again here: a batch whose rate-limited tail runs into
    the night waits for the morning like any other non-urgent message.
    """
    from fangkong.notify.services import QuietHoursResolver

    claimed = _claim(message_ids, timezone.now())
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
    outcomes = _Outcomes()
    quiet = QuietHoursResolver()
    max_attempts, base = conf.max_attempts(), conf.retry_base_seconds()
    for n, row in enumerate(list(rows), 1):
        pk, body, reference, attempts, legal, transactional, path, phone_encrypted = row
        message = Message(pk=pk, attempts=attempts)
        release = (
            None if legal or transactional else quiet.for_path(path).release_time(timezone.now())
        )
        if release is not None:
            message.status, message.not_before = Message.Status.DEFERRED, release
            message.attempts, message.updated_at = attempts - 1, timezone.now()
            outcomes.add("deferred", message)
            continue
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
            message.status = Message.Status.QUEUED
            message.not_before = now + dt.timedelta(seconds=base * 2 ** (attempts - 1))
            logger.info(
                "message %s: attempt %s failed, retry at %s", pk, attempts, message.not_before
            )
        outcomes.add(kind, message)
        if n % FLUSH_EVERY == 0:
            outcomes.flush()
    outcomes.flush()
    return dict(outcomes.counts)


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
    Message.objects.filter(
        status=Message.Status.SENDING, updated_at__lt=now - STALE_SENDING
    ).update(status=Message.Status.QUEUED, updated_at=now)
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
    return len(due)


@db_periodic_task(crontab(minute="*"))
def release_deferred() -> int:
    return release_due()
