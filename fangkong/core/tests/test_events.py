import pytest

from fangkong.core import events


def test_published_facts_reach_each_subscriber_once_in_order():
    seen: list[tuple[str, int]] = []

    def first(**payload):
        seen.append(("first", payload["case_id"]))

    def second(**payload):
        seen.append(("second", payload["case_id"]))

    events.subscribe("test.fact", first)
    events.subscribe("test.fact", second)
    events.subscribe("test.fact", first)  # registering twice changes nothing
    try:
        events.publish("test.fact", case_id=7)
        events.publish("test.other", case_id=8)
    finally:
        events.unsubscribe("test.fact", first)
        events.unsubscribe("test.fact", second)
    assert seen == [("first", 7), ("second", 7)]
    assert events.subscribers("test.fact") == []


def test_a_failing_subscriber_stops_the_publisher():
    def broken(**payload):
        raise RuntimeError("no")

    events.subscribe("test.fail", broken)
    try:
        with pytest.raises(RuntimeError):
            events.publish("test.fail", case_id=1)
    finally:
        events.unsubscribe("test.fail", broken)
