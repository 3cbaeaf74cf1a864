"""Parallel batches never put two people in one room (PostgreSQL: row locks with
SKIP LOCKED; SQLite serialises writers, nothing to race)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from fangkong.conftest import City, city_build, make_person, make_staff
from fangkong.core.errors import Conflict
from fangkong.quarantine import services
from fangkong.quarantine.models import Room, Stay
from fangkong.quarantine.tests.kit import active_site


@pytest.mark.django_db(transaction=True)
def test_parallel_placements_and_allocations_never_double_book_a_room():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need a server database (SQLite serialises writers)")
    from fangkong.conftest import load_shipped_defaults

    load_shipped_defaults()
    city: City = city_build()
    manager = make_staff("qmanager", city.xiaodian, "quarantine_manager")
    commander = make_staff("commander", city.city, "city_commander")
    dispatch = make_staff("cityq", city.city, "quarantine_manager")
    site = active_site(manager, commander, city.xiaodian, rooms=40)
    batches = [
        [make_person(city.xd_building, name=f"批{b}人{i}") for i in range(12)] for b in range(4)
    ]
    waiting = services.stays_admit(
        actor=manager,
        site_id=site.pk,
        people=[
            services.AdmitData(make_person(city.xd_building2).pk, "close_contact")
            for _i in range(10)
        ],
    )
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(5)

    def place(batch):
        try:
            start.wait()
            services.stays_place(
                actor=dispatch,
                pool_id=city.city.pk,
                people=[services.AdmitData(p.pk, "inbound_traveller") for p in batch],
            )
            result = "placed"
        except Conflict as exc:
            result = exc.code
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    def allocate():
        try:
            start.wait()
            services.stays_allocate(actor=manager, site_id=site.pk)
            result = "allocated"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=place, args=(b,)) for b in batches]
    threads.append(threading.Thread(target=allocate))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    in_room = list(Stay.objects.filter(state="in_room").values_list("room_id", flat=True))
    assert len(in_room) == len(set(in_room)), "a room was given twice"
    assert len(in_room) <= 40
    occupied = Room.objects.filter(status="occupied")
    assert occupied.count() == len(in_room)
    assert set(occupied.values_list("occupants", flat=True)) <= {1}
    placed = outcomes.count("placed")
    assert len(in_room) == placed * 12 + (
        10 - Stay.objects.filter(pk__in=[w.pk for w in waiting], state="pending").count()
    )
    assert placed >= 2
