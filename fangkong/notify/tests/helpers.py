"""Helpers shared by the notify tests."""

from __future__ import annotations

import json
from typing import Any

from huey.contrib.djhuey import HUEY

from fangkong.conftest import make_person
from fangkong.core.models import Jurisdiction, Person

_phones = {"n": 0}


def resident(
    home: Jurisdiction, *, name: str = "王五", language: str = "zh-hans", phone: str | None = None
) -> Person:
    """A person with a unique mobile number (unless given) and the given language."""
    if phone is None:
        _phones["n"] += 1
        phone = f"1390000{_phones['n']:04d}"
    person = make_person(home, name=name, phone=phone)
    if language != person.language:
        person.language = language
        person.save(update_fields=["language"])
    return person


def scheduled_etas() -> list[Any]:
    """When the tasks waiting in Huey's schedule will run (naive UTC), in order."""
    return sorted(task.eta for task in HUEY.scheduled())


def run_due_tasks() -> int:
    """Run the scheduled tasks whose time has come, as the consumer would."""
    tasks = HUEY.read_schedule(HUEY._get_timestamp())
    for task in tasks:
        HUEY.execute(task)
    return len(tasks)


def post(client: Any, url: str, body: Any, **extra: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", **extra)
