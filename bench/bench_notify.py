"""Notify batch throughput (issue 22): making a batch's messages and sending them
exactly once, against the bare INSERT of the same message rows.

The recipients: 100,000 minimal person rows (quick: 10,000) under one building,
each with an encrypted phone (benchmark database only).

(a) ``notify_batch``: ``batch_create_system`` for every recipient (a legally
    required notice, so quiet hours at the time of the run do not defer it),
    its messages made in one transaction (``FANGKONG_SMS_INLINE_BATCH`` raised to
    the batch size; the worker's preparation writes them the same way). Figure:
    messages made per second.
(b) ``notify_batch`` sending: ``jobs.send_chunk`` over the batch in chunks of
    10,000 (a 60,000-a-minute batch's chunk) with a backend that answers at once,
    so the figure is our cost per message: the claim under the worker's lease,
    the hand-over mark committed before the gateway sees each group, the answers
    recorded after, the phone decrypted. Figure: messages sent per second.

Floor of both: the bare INSERT (COPY on PostgreSQL, executemany on SQLite) of
the same number of message rows, in the same database and run, rolled back.
The ratio is floor rate / our rate (how many times the bare write we cost).

Run: ``fangkong bench --only notify_batch`` (``--quick``); on PostgreSQL with
``DATABASE_URL=...``.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from bench.runner import Context, Figure, benchmark

CHUNK = 10_000


def _recipients(ctx: Context, n: int) -> list[int]:
    from django.db import connection

    from bench.runner import people_load
    from fangkong.core.crypto import encrypt
    from fangkong.core.models import Jurisdiction, path_segment

    province = Jurisdiction.objects.create(
        level="province", name_zh="短信省", code="S22000", path=path_segment(88), depth=1
    )
    city = Jurisdiction.objects.create(
        parent=province,
        level="city",
        name_zh="短信市",
        code="S22100",
        path=province.path + path_segment(0),
        depth=2,
    )
    building = Jurisdiction.objects.create(
        parent=city,
        level="building",
        name_zh="短信楼",
        code="S22101",
        path=city.path + path_segment(0),
        depth=3,
    )
    first = people_load(
        n,
        tag="smsbench",
        place=lambda i: (building.pk, building.path),
        phone_encrypted=encrypt("+8613800138000"),
        phone_masked="+86*******8000",
    )
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    ctx.say(f"  {n:,} recipients loaded")
    return list(range(first, first + n))


def _floor(person_ids: list[int]) -> float:
    """The bare INSERT of as many message rows as the batch makes, rolled back."""
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.runner import copy_rows
    from fangkong.notify.models import Batch, Message, MessageTemplate

    created = connection.ops.adapt_datetimefield_value(timezone.now())
    template = MessageTemplate.objects.get(code="registry_notice", language="zh-hans")

    class Rollback(Exception):
        pass

    elapsed = 0.0
    try:
        with transaction.atomic():
            batch = Batch.objects.create(
                purpose="floor", template_code="registry_notice", rate_per_minute=60_000
            )
            t0 = time.perf_counter()
            copy_rows(
                Message._meta.db_table,
                [
                    "created_at",
                    "updated_at",
                    "batch_id",
                    "person_id",
                    "purpose",
                    "dedup_key",
                    "legally_required",
                    "reference",
                    "template_id",
                    "template_version",
                    "language",
                    "body",
                    "status",
                    "skip_reason",
                    "not_before",
                    "attempts",
                    "provider_message_id",
                    "error",
                ],
                (
                    (
                        created,
                        created,
                        batch.pk,
                        pid,
                        "floor",
                        "floor",
                        True,
                        uuid.uuid4().hex,
                        template.pk,
                        template.version,
                        "zh-hans",
                        "【防控】居民您好：请于明天上午到本小区核酸检测点检测。",
                        "queued",
                        "",
                        created,
                        0,
                        "",
                        "",
                    )
                    for pid in person_ids
                ),
            )
            elapsed = time.perf_counter() - t0
            raise Rollback
    except Rollback:
        pass
    return elapsed


class _Answering:
    """A gateway that answers at once (the bench measures our side)."""

    idempotent = False

    def send(self, sms: Any) -> str:
        return f"bench-{sms.reference}"

    def lookup(self, reference: str) -> str | None:
        return None


@benchmark("notify_batch")
def bench_notify_batch(ctx: Context) -> list[Figure]:
    from django.db import connection, transaction
    from django.test import override_settings

    from fangkong.notify.backends import BaseBackend
    from fangkong.notify.jobs import send_chunk
    from fangkong.notify.models import Message
    from fangkong.notify.services import batch_create_system

    n = ctx.size(100_000, 10_000)
    people = _recipients(ctx, n)
    floor = min(_floor(people) for _ in range(2))

    t0 = time.perf_counter()
    with override_settings(FANGKONG_SMS_INLINE_BATCH=n), transaction.atomic():
        batch = batch_create_system(
            purpose="bench",
            template_code="registry_notice",
            context={"text": "请于明天上午到本小区核酸检测点检测。"},
            person_ids=people,
            legally_required=True,
            rate_per_minute=60_000,
        )
        # The dispatch would go to the worker's queue on commit: the bench sends itself.
        connection.run_on_commit.clear()
    make = time.perf_counter() - t0
    ids = list(
        Message.objects.filter(batch=batch, status=Message.Status.QUEUED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    assert len(ids) == n, f"{len(ids)} of {n} messages queued"

    class Answering(_Answering, BaseBackend):
        pass

    backend = Answering()
    t0 = time.perf_counter()
    sent = 0
    for start in range(0, n, CHUNK):
        sent += send_chunk(ids[start : start + CHUNK], backend).get("sent", 0)
    send = time.perf_counter() - t0
    assert sent == n, f"{sent} of {n} sent"
    assert not Message.objects.filter(batch=batch, status=Message.Status.SENDING).exists()
    ctx.say(f"  made {n:,} in {make:.2f} s, sent in {send:.2f} s, floor {floor:.2f} s")
    return [
        Figure(
            f"batch of {n:,}: messages made",
            n / make,
            "msg/s",
            floor=n / floor,
            higher_is_better=True,
            note="batch_create_system (opt-outs, dedup, rendering, audit) in one "
            "transaction; floor: bare INSERT of as many message rows",
        ),
        Figure(
            f"batch of {n:,}: messages sent exactly once",
            n / send,
            "msg/s",
            floor=n / floor,
            higher_is_better=True,
            note=f"send_chunk in chunks of {CHUNK:,}, a gateway answering at once: lease, "
            "claim, hand-over mark per 50 committed before sending, answers recorded after; "
            "floor: bare INSERT of as many message rows",
        ),
    ]
