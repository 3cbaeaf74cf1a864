"""Fixtures for notify tests: a clean outbox and Huey schedule.

In tests Huey runs tasks at once, in-process (``immediate``); tasks given an
``eta`` wait in its in-memory schedule until ``helpers.run_due_tasks`` runs them.
Callbacks registered with ``transaction.on_commit`` fire only when a test runs
them (``django_capture_on_commit_callbacks``): the test transaction never commits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from huey.contrib.djhuey import HUEY

from fangkong.notify import backends


@pytest.fixture(autouse=True)
def _clean_queues() -> Any:
    HUEY.flush()
    backends.outbox.clear()
    yield
    HUEY.flush()
    backends.outbox.clear()


@pytest.fixture
def outbox() -> list[backends.Sms]:
    return backends.outbox


DAYTIME = dt.datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _daytime(time_machine: Any) -> None:
    """Outside quiet hours unless a test moves the clock."""
    time_machine.move_to(DAYTIME, tick=False)
