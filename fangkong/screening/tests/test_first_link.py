"""One first link per person and round (``screening_member_first``): scans of one
person into two tubes at the same instant, live or in an offline batch, make one
first link and one repeat (warned), so coverage counts the person once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, transaction

from fangkong.core.signing import person_token
from fangkong.screening.models import TubeMember
from fangkong.screening.selectors.coverage import coverage
from fangkong.screening.services import sampling
from fangkong.screening.tests.kit import Kit, build, people


def _open(kit: Kit, code: str) -> None:
    sampling.tube_open(actor=kit.sampler, round_id=kit.round.pk, barcode=code, site_id=kit.site.pk)


def _while_a_first_link_is_uncommitted(
    kit: Kit, person: Any, other: Callable[[], Any]
) -> tuple[bool, Any]:
    """Scan ``person`` into T1 in a transaction held open while ``other`` runs in a
    second connection, then commit: whether ``other`` was still running half a
    second in (waiting for it), and ``other``'s answer."""
    holding, release = threading.Event(), threading.Event()
    answer: dict[str, Any] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                sampling.tube_scan(
                    actor=kit.sampler, barcode="T1", person_token=person_token(person.pk)
                )
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    def second() -> None:
        try:
            answer["out"] = other()
        except Exception as exc:  # noqa: BLE001 (reported to the test)
            answer["error"] = exc
        finally:
            connection.close()

    a = threading.Thread(target=first)
    a.start()
    assert holding.wait(10)
    b = threading.Thread(target=second)
    b.start()
    b.join(0.5)
    waited = b.is_alive()  # blocked on the uncommitted first link
    release.set()
    a.join()
    b.join(10)
    assert "error" not in answer, answer.get("error")
    return waited, answer["out"]


def _server_database() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need a server database (SQLite serialises them)")


@pytest.mark.django_db(transaction=True)
def test_a_person_scanned_into_two_tubes_at_once_has_one_first_link(
    transactional_db: Any,
) -> None:
    from fangkong.conftest import city_build

    _server_database()
    kit = build(city_build())
    _open(kit, "T1")
    _open(kit, "T2")
    (p,) = people(kit.city, 1)
    waited, out = _while_a_first_link_is_uncommitted(
        kit,
        p,
        lambda: sampling.tube_scan(
            actor=kit.sampler, barcode="T2", person_token=person_token(p.pk)
        ),
    )
    assert waited
    assert out.added and out.warning  # told: already sampled in this round
    links = dict(TubeMember.objects.filter(person=p).values_list("tube__barcode", "repeat"))
    assert links == {"T1": False, "T2": True}
    total = coverage(kit.manager, kit.round, level="district")
    assert sum(r.sampled for r in total) == 1


@pytest.mark.django_db(transaction=True)
def test_an_offline_batch_racing_a_live_scan_records_a_repeat(transactional_db: Any) -> None:
    from fangkong.conftest import city_build

    _server_database()
    kit = build(city_build())
    _open(kit, "T1")
    p, q = people(kit.city, 2)
    items: list[dict[str, Any]] = [
        {"op": "open", "tube": "B1", "at": "2026-12-03T08:00:00+08:00"},
        {"op": "scan", "tube": "B1", "person_id": q.pk, "at": "2026-12-03T08:00:05+08:00"},
        {"op": "scan", "tube": "B1", "person_id": p.pk, "at": "2026-12-03T08:00:09+08:00"},
    ]
    waited, report = _while_a_first_link_is_uncommitted(
        kit,
        p,
        lambda: sampling.sample_batch_submit(
            actor=kit.sampler, round_id=kit.round.pk, items=items, site_id=kit.site.pk
        ),
    )
    assert waited
    outcome = report.items[2]
    assert (outcome.status, outcome.person_id, bool(outcome.warning)) == ("ok", p.pk, True)
    links = dict(TubeMember.objects.filter(person=p).values_list("tube__barcode", "repeat"))
    assert links == {"T1": False, "B1": True}
    assert TubeMember.objects.get(person=q).repeat is False


def test_two_first_links_from_before_the_rule_are_kept_the_later_as_a_repeat(
    city: Any,
) -> None:
    """The migration that adds the rule keeps every link: the earliest stays first."""
    import datetime as dt
    from importlib import import_module

    from django.utils import timezone

    from fangkong.screening.models import Tube

    kit = build(city)
    for code in ("T1", "T2", "T3"):
        _open(kit, code)
    p, q = people(kit.city, 2)
    with connection.cursor() as cur:
        cur.execute("DROP INDEX screening_member_first")
    now = timezone.now()
    for code, person, minutes in (("T1", p, 1), ("T2", p, 5), ("T3", q, 3)):
        TubeMember.objects.create(
            tube=Tube.objects.get(barcode=code),
            round=kit.round,
            person=person,
            person_scope_path=person.scope_path,
            sampled_at=now - dt.timedelta(minutes=minutes),
        )
    migration = import_module("fangkong.screening.migrations.0009_one_first_link_per_person")
    migration.flag_later_first_links(apps, None)
    links = dict(TubeMember.objects.filter(person=p).values_list("tube__barcode", "repeat"))
    assert links == {"T2": False, "T1": True}  # T2 was sampled earlier, though made later
    assert TubeMember.objects.get(person=q).repeat is False
    assert TubeMember.objects.count() == 3
