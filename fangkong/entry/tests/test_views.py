"""The entry pages: each renders for its users in words, the officer's scan
classifies, 404 outside the area, bad input shown inline."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from fangkong.conftest import client_for, raw_codes
from fangkong.core.identity import make_prc_id
from fangkong.entry.models import Arrival
from fangkong.entry.tests import kit

pytestmark = pytest.mark.django_db


def _codes(html: str) -> list[str]:
    """Raw codes in the words a person reads (the main part, tags dropped)."""
    main = html.split("<main", 1)[-1].split("</main>", 1)[0]
    return raw_codes(re.sub(r"<[^>]+>", " ", main.split(">", 1)[-1]))


def _scan(c, station, **extra):
    data = {
        "checkpoint": station.pk,
        "doc_type": "prc_id",
        "doc_number": make_prc_id("310104", dt.date(1988, 1, 2), 7),
        "name": "周六",
        "origin": "上海市浦东新区",
        "since": (timezone.localdate() - dt.timedelta(days=9)).isoformat(),
        "traveller_class": "traveller",
        "transport": "train",
        "transport_number": "G91",
    }
    data.update(extra)
    return c.post("/entry/", data, HTTP_ACCEPT_LANGUAGE="en")


def test_the_officer_scans_a_traveller_and_reads_the_decision_in_words(officer, station, shanghai):
    c = client_for(officer)
    r = _scan(c, station)
    a = Arrival.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/entry/arrivals/{a.pk}/"
    page = c.get(r["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Home quarantine" in page and "medium-risk area" in page
    assert not _codes(page)
    board = c.get("/entry/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "周六" in board and not _codes(board)


def test_a_bad_plate_is_shown_on_the_form(officer, station, shanghai):
    r = _scan(client_for(officer), station, traveller_class="truck_driver", plate="ABC")
    assert r.status_code == 200 and "is not a plate number" in r.content.decode()
    assert not Arrival.objects.exists()


def test_every_page_renders(officer, commander, grid_worker, station, shanghai, city):
    kit.register(
        officer,
        station,
        kit.traveller(origin="上海", itinerary=kit.stay("浦东新区"), home_id=city.xd_building.pk),
    )
    for user, urls in (
        (officer, ["/entry/", "/entry/transfers/", "/entry/lists/"]),
        (commander, ["/entry/", "/entry/transfers/", "/entry/lists/", "/entry/handoffs/"]),
        (grid_worker, ["/entry/handoffs/"]),
    ):
        c = client_for(user)
        for url in urls:
            r = c.get(url, HTTP_ACCEPT_LANGUAGE="en")
            assert r.status_code == 200, url
            assert not _codes(r.content.decode()), url
    assert "李四" in client_for(grid_worker).get("/entry/handoffs/").content.decode()


def test_an_arrival_of_another_district_is_not_found(yz_officer, officer, station, shanghai):
    a = kit.register(officer, station, kit.traveller(origin="北京", itinerary=kit.stay("北京市")))
    assert client_for(yz_officer).get(f"/entry/arrivals/{a.pk}/").status_code == 404
