"""Domain facts: written with the publisher's write, delivered after its commit,
in order, once per handler, retried by the minute job when a handler fails."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from fangkong.core import events
from fangkong.core.jobs import facts_retry
from fangkong.core.models import Fact, FactDelivery, KeyGroup

pytestmark = pytest.mark.django_db


@pytest.fixture
def listen() -> Iterator[Any]:
    """``listen(name, handler)`` subscribes for the length of the test."""
    added: list[tuple[str, Any]] = []

    def add(name: str, handler: Any) -> None:
        events.subscribe(name, handler)
        added.append((name, handler))

    yield add
    for name, handler in added:
        events.unsubscribe(name, handler)


def _write(code: str) -> None:
    """A publisher's own write (a key group: any table will do)."""
    KeyGroup.objects.create(code=code, name_zh=code, name_en=code)


def test_a_committed_write_delivers_its_fact_once_after_the_commit(listen: Any) -> None:
    seen: list[dict[str, Any]] = []
    listen("test.fact", lambda **payload: seen.append(payload))
    with transaction.atomic():
        _write("a")
        fact_id = events.publish("test.fact", case_id=7, day="2026-12-04")
        assert seen == []  # not before the commit
    assert seen == [{"case_id": 7, "day": "2026-12-04"}]
    fact = Fact.objects.get(pk=fact_id)
    assert fact.delivered_at is not None and fact.attempts == 1 and fact.last_error == ""
    # Delivering again (the retry job, a second process) runs nobody twice.
    assert events.deliver(fact_id) is True
    fact.delivered_at = None
    fact.save()
    assert events.deliver(fact_id) is True
    assert len(seen) == 1
    assert FactDelivery.objects.filter(fact_id=fact_id).count() == 1


def test_handlers_get_the_publishers_actor_or_the_user_read_again(
    listen: Any, django_user_model: Any
) -> None:
    """Delivered after the commit in the publisher's thread, a handler gets the
    publisher's own user object (no second read of the user, their profile and
    roles); delivered later by the retry job, the same user read by id."""
    actor = django_user_model.objects.create_user("publisher", password="x" * 12)
    seen: list[Any] = []
    listen("test.fact", lambda *, actor, **payload: seen.append(actor))
    with transaction.atomic():
        _write("actor")
        events.publish("test.fact", case_id=1, actor=actor)
    assert seen == [actor] and seen[0] is actor
    fact_id = events.publish("test.fact", case_id=2, actor=actor)
    events._actors().clear()  # the process that published it is gone
    FactDelivery.objects.filter(fact_id=fact_id).delete()
    Fact.objects.filter(pk=fact_id).update(delivered_at=None)
    assert events.deliver(fact_id) is True
    assert seen[-1] == actor and seen[-1] is not actor


def test_a_rolled_back_write_publishes_nothing(listen: Any) -> None:
    seen: list[Any] = []
    listen("test.fact", lambda **payload: seen.append(payload))
    with pytest.raises(RuntimeError), transaction.atomic():
        _write("b")
        events.publish("test.fact", case_id=1)
        raise RuntimeError("the publisher fails after publishing")
    # An inner block rolled back takes its fact with it; the outer write stands.
    with transaction.atomic():
        _write("c")
        try:
            with transaction.atomic():
                events.publish("test.fact", case_id=2)
                raise RuntimeError("inner")
        except RuntimeError:
            pass
        events.publish("test.fact", case_id=3)
    assert seen == [{"case_id": 3}]
    assert list(Fact.objects.values_list("payload", flat=True)) == [{"case_id": 3}]


def test_facts_are_delivered_in_the_order_they_were_published(listen: Any) -> None:
    seen: list[str] = []

    def on_a(*, label: str) -> None:
        seen.append(label)
        if label == "a1":
            events.publish("test.b", label="b (published by the handler of a1)")

    listen("test.a", on_a)
    listen("test.b", lambda *, label: seen.append(label))
    with transaction.atomic():
        for label in ("a1", "a2", "a3"):
            events.publish("test.a", label=label)
    assert seen == ["a1", "a2", "a3", "b (published by the handler of a1)"]


def test_handlers_run_in_the_order_they_subscribed_and_once_each(listen: Any) -> None:
    seen: list[str] = []

    def first(**payload: Any) -> None:
        seen.append("first")

    def second(**payload: Any) -> None:
        seen.append("second")

    listen("test.fact", first)
    listen("test.fact", second)
    events.subscribe("test.fact", first)  # registering twice changes nothing
    events.publish("test.fact", case_id=7)
    events.publish("test.other", case_id=8)
    assert seen == ["first", "second"]


def test_a_failing_handler_is_recorded_and_retried_by_the_job(
    listen: Any, caplog: pytest.LogCaptureFixture
) -> None:
    calls = {"flaky": 0, "steady": 0}

    def flaky(**payload: Any) -> None:
        calls["flaky"] += 1
        _write(f"flaky-{calls['flaky']}")  # rolled back with the failure
        if calls["flaky"] == 1:
            raise RuntimeError("the SMS gateway is down")

    def steady(**payload: Any) -> None:
        calls["steady"] += 1

    listen("test.fact", flaky)
    listen("test.fact", steady)
    with transaction.atomic():
        _write("publisher")
        fact_id = events.publish("test.fact", case_id=1)
    # The publisher's write stands; the other handler ran; the failure is on record.
    assert KeyGroup.objects.filter(code="publisher").exists()
    assert not KeyGroup.objects.filter(code="flaky-1").exists()
    assert calls == {"flaky": 1, "steady": 1}
    fact = Fact.objects.get(pk=fact_id)
    assert fact.delivered_at is None and fact.attempts == 1
    assert "RuntimeError: the SMS gateway is down" in fact.last_error
    assert "flaky" in fact.last_error
    assert fact.next_attempt_at > timezone.now()
    failure = next(r for r in caplog.records if r.name == "fangkong.core.events")
    assert failure.exc_info is not None  # logged with its traceback
    # Not due yet: the job leaves it.
    facts_retry.call_local()
    assert calls["flaky"] == 1
    Fact.objects.filter(pk=fact_id).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    assert facts_retry.call_local() == 1
    assert calls == {"flaky": 2, "steady": 1}  # only the failed handler again
    fact.refresh_from_db()
    assert fact.delivered_at is not None and fact.attempts == 2 and fact.last_error == ""
    assert KeyGroup.objects.filter(code="flaky-2").exists()


def test_the_pause_between_retries_grows_to_an_hour(listen: Any) -> None:
    def broken(**payload: Any) -> None:
        raise ValueError("always")

    listen("test.fact", broken)
    fact_id = events.publish("test.fact", case_id=1)
    pauses = []
    for _ in range(9):
        before = timezone.now()
        events.deliver(fact_id)
        pauses.append((Fact.objects.get(pk=fact_id).next_attempt_at - before).total_seconds())
    assert pauses[0] == pytest.approx(120, abs=5)  # after the second attempt: 2 minutes
    assert pauses[-1] == pytest.approx(3600, abs=5)
    assert Fact.objects.get(pk=fact_id).attempts == 10


def test_a_delivery_that_never_ran_is_taken_up_by_the_job(listen: Any) -> None:
    """The process stopped between the commit and the delivery."""
    seen: list[Any] = []
    listen("test.fact", lambda **payload: seen.append(payload))
    fact = Fact.objects.create(
        name="test.fact",
        payload={"case_id": 5},
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1),
    )
    assert events.deliver_due() == 1
    assert seen == [{"case_id": 5}]
    fact.refresh_from_db()
    assert fact.delivered_at is not None


def test_the_actor_is_stored_by_id_and_handed_back_as_the_user(
    listen: Any, xiaodian_officer: Any
) -> None:
    seen: list[Any] = []
    listen("test.fact", lambda **payload: seen.append(payload))
    fact_id = events.publish("test.fact", case_id=1, actor=xiaodian_officer)
    events.publish("test.fact", case_id=2, actor=None)
    assert Fact.objects.get(pk=fact_id).payload == {"case_id": 1, "actor": xiaodian_officer.pk}
    assert seen[0]["actor"] == xiaodian_officer
    assert seen[1]["actor"] is None


def test_a_payload_that_is_not_plain_json_is_refused() -> None:
    with pytest.raises(TypeError, match="plain JSON"):
        events.publish("test.fact", day=dt.date(2026, 12, 4))
    with pytest.raises(TypeError, match="plain JSON"):
        events.publish("test.fact", ratio=float("nan"))
    assert not Fact.objects.exists()
