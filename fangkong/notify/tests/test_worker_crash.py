"""Fault test (issue 22): a real Huey worker is SIGKILLed in the middle of a batch,
another is started, and every message is counted at a fake gateway: none lost,
none twice, and the second worker takes up the dead one's messages at once (not
after a timeout).

The worker is ``python -m fangkong run_huey`` on a copy of the test database (the
same database on PostgreSQL), sending through ``HttpGatewayBackend`` to
``FakeGateway`` in this process. ``FANGKONG_FAULT_MESSAGES`` sets the batch size
(default 5,000).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from fangkong.notify.jobs import HANDOVER_GROUP
from fangkong.notify.models import Batch, Message, MessageTemplate
from fangkong.notify.sql import insert_many
from fangkong.notify.tests.fakegateway import FakeGateway
from fangkong.notify.tests.helpers import resident

pytestmark = pytest.mark.django_db(transaction=True)

MESSAGES = int(os.environ.get("FANGKONG_FAULT_MESSAGES", 5000))
PEOPLE = 50
IN_DOUBT = "in doubt"


def _seed(city: Any) -> int:
    people = [resident(city.xd_building) for _ in range(PEOPLE)]
    template = MessageTemplate.objects.filter(code="registry_notice").first()
    assert template is not None
    now = timezone.now()
    batch = Batch.objects.create(
        purpose="drill",
        template_code=template.code,
        rate_per_minute=60_000,
        status=Batch.Status.QUEUED,
        scope_path=city.xd_building.path,
    )
    rows = [
        {
            "batch": batch.pk,
            "person": people[i % PEOPLE].pk,
            "purpose": "drill",
            "dedup_key": f"drill-{i}",
            "reference": uuid.uuid4().hex,
            "template": template.pk,
            "template_version": template.version,
            "language": template.language,
            "body": f"演练短信 {i}",
            "legally_required": False,
            "status": Message.Status.QUEUED,
            "skip_reason": "",
            "not_before": now,
            "attempts": 0,
            "provider_message_id": "",
            "error": "",
            "created_at": now,
            "updated_at": now,
        }
        for i in range(MESSAGES)
    ]
    insert_many(Message, rows)
    return batch.pk


def _database_for_workers(tmp_path: Path) -> tuple[str, Callable[[str], int]]:
    """The DATABASE_URL the workers use, and a counter of messages in it (by status;
    ``in doubt``: handed over, answer not recorded)."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        # The test database lives in memory: the workers get a file copy of it.
        path = tmp_path / "fault.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.close()

        def count_sqlite(status: str) -> int:
            where = "status = ?"
            if status == IN_DOUBT:
                where, status = "status = ? AND handed_over_at IS NOT NULL", Message.Status.SENDING
            with sqlite3.connect(path, timeout=30) as db:
                row = db.execute(
                    f"SELECT count(*) FROM notify_message WHERE {where}",  # noqa: S608
                    [status],
                ).fetchone()
            return int(row[0])

        return f"sqlite:///{path}", count_sqlite
    url = "postgresql://{USER}:{PASSWORD}@{HOST}:{PORT}/{NAME}".format(
        **{k: settings.get(k) or "" for k in ("USER", "PASSWORD", "HOST", "NAME")},
        PORT=settings.get("PORT") or 5432,
    )

    def count_postgres(status: str) -> int:
        if status == IN_DOUBT:
            return Message.objects.filter(
                status=Message.Status.SENDING, handed_over_at__isnull=False
            ).count()
        return Message.objects.filter(status=status).count()

    return url, count_postgres


def _env(tmp_path: Path, database_url: str, gateway: FakeGateway) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"FANGKONG_TESTING", "REDIS_URL"}}
    env.update(
        DATABASE_URL=database_url,
        FANGKONG_VAR_DIR=str(tmp_path),
        FANGKONG_SMS_BACKEND="fangkong.notify.backends.HttpGatewayBackend",
        FANGKONG_SMS_GATEWAY_URL=gateway.send_url,
        FANGKONG_SMS_GATEWAY_LOOKUP_URL=gateway.lookup_url,
        FANGKONG_SMS_GATEWAY_TIMEOUT="10",
        FANGKONG_SMS_QUIET_HOURS="",
        # Far longer than the test may take: the dead worker's messages are taken up
        # because its process is gone, not because its lease lapsed.
        FANGKONG_SMS_LEASE_SECONDS="600",
    )
    return env


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "fangkong", "run_huey", "--workers", "1"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _wait(what: str, done: Callable[[], bool], timeout: float, log: Path) -> float:
    start = time.monotonic()
    while not done():
        if time.monotonic() - start > timeout:
            tail = log.read_text(errors="replace")[-3000:]
            raise AssertionError(f"timed out waiting for {what}; worker log:\n{tail}")
        time.sleep(0.05)
    return time.monotonic() - start


def _log_times(log: Path, pid: int) -> float | None:
    """Seconds from the consumer ``pid`` starting to its taking up the messages."""
    started = took_up = None
    for line in log.read_text(errors="replace").splitlines():
        stamp = line[:23]
        if f"PID {pid} " in line:
            started = dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")
        elif started and "took up the messages" in line:
            took_up = dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")
            break
    if started is None or took_up is None:
        return None
    return (took_up - started).total_seconds()


def test_a_worker_killed_mid_batch_sends_every_message_exactly_once(city, tmp_path):
    batch_id = _seed(city)
    database_url, count = _database_for_workers(tmp_path)
    log = tmp_path / "worker.log"
    workers: list[subprocess.Popen[bytes]] = []
    with FakeGateway() as gateway:
        env = _env(tmp_path, database_url, gateway)
        try:
            before = time.monotonic()
            subprocess.run(  # noqa: S603
                [
                    sys.executable,
                    "-m",
                    "fangkong",
                    "shell",
                    "-c",
                    f"from fangkong.notify.jobs import dispatch_batch; dispatch_batch({batch_id})",
                ],
                env=env,
                check=True,
                capture_output=True,
            )
            started = time.monotonic()
            startup = started - before  # a Django process's start-up, for comparison
            workers.append(_worker(env, log))
            # Kill it once it has handed over about 40 percent of the batch, inside
            # a group marked handed over.
            kill_at = MESSAGES * 2 // 5 + HANDOVER_GROUP // 2
            _wait("the first sends", lambda: gateway.total() >= kill_at, 120, log)
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait()
            killed_at = time.monotonic()
            at_kill = gateway.total()
            in_flight = count(Message.Status.SENDING)
            in_doubt = count(IN_DOUBT)
            recorded_at_kill = count(Message.Status.SENT)
            workers.append(_worker(env, log))
            resumed = _wait("sending to resume", lambda: gateway.total() > at_kill, 120, log)
            _wait("every message sent", lambda: count(Message.Status.SENT) == MESSAGES, 180, log)
            finished = time.monotonic()
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGKILL)
                    worker.wait()
        received = dict(gateway.received)
        duplicates = gateway.duplicates()
    references = set(Message.objects.values_list("reference", flat=True))
    if connection.vendor == "sqlite":
        with sqlite3.connect(tmp_path / "fault.sqlite3") as db:
            references = {r for (r,) in db.execute("SELECT reference FROM notify_message")}
    lost = len(references - set(received))
    print(  # the figures of the closing note
        f"\nSMS worker crash ({connection.vendor}): {MESSAGES} messages; killed after "
        f"{at_kill} handed over ({recorded_at_kill} recorded sent, {in_flight} claimed "
        f"and not recorded, {in_doubt} of them handed over); gateway received "
        f"{sum(received.values())}, distinct {len(received)}, lost {lost}, duplicated "
        f"{duplicates}; sending resumed {resumed:.2f} s after the second worker started "
        f"(a Django command's start-up here: {startup:.2f} s; first worker ran "
        f"{killed_at - started:.1f} s), all sent {finished - killed_at:.1f} s after the kill"
    )
    second = _log_times(log, workers[1].pid)
    if second:
        print(f"second worker: consumer up → dead worker's messages taken up in {second:.2f} s")
    assert in_flight > 0, "the worker was not killed mid-chunk"
    assert duplicates == 0 and lost == 0
    assert set(received) == references
    assert count(Message.Status.SENT) == MESSAGES
    # Taken up at once, not when the (600 s) lease lapses: the second worker's start-up
    # and the look-ups of the messages in doubt.
    assert dt.timedelta(seconds=resumed) < dt.timedelta(seconds=startup * 3 + 30)
