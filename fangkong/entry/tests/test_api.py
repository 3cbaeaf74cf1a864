"""The entry API: a scan registers and classifies, bad input names the fields,
a second scan of the same trip is merged, 404 outside the area, 403 without the
capability, a transfer handed over once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.conftest import client_for
from fangkong.core.identity import make_prc_id

pytestmark = pytest.mark.django_db
API = "/api/v1/entry"


def _body(station, **kw):
    today = timezone.localdate()
    body = {
        "checkpoint_id": station.pk,
        "doc_number": make_prc_id("310104", dt.date(1980, 2, 2), 3),
        "name": "吴一",
        "origin": "上海",
        "itinerary": [
            {
                "place": "上海市徐汇区",
                "code": "310104",
                "from": (today - dt.timedelta(days=9)).isoformat(),
                "to": today.isoformat(),
            }
        ],
        "transport": "train",
        "transport_number": "G92",
    }
    body.update(kw)
    return body


def test_a_scan_registers_classifies_and_merges_the_same_trip(officer, station, shanghai):
    c = client_for(officer)
    r = c.post(f"{API}/arrivals", _body(station), content_type="application/json")
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["category"] == "centralised_quarantine" and out["rule_version"]
    assert out["list_versions"] == {"31": 1} and len(out["tests"]) == 5
    again = c.post(f"{API}/arrivals", _body(station), content_type="application/json")
    assert again.status_code == 200 and again.json()["merged"] and again.json()["id"] == out["id"]
    assert c.get(f"{API}/arrivals/{out['id']}").json()["person_name"] == "吴一"
    assert c.get(f"{API}/board").json()["counts"] == {"centralised_quarantine": 1}


def test_bad_input_names_the_fields_and_writes_nothing(officer, station, shanghai):
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    body = _body(
        station,
        traveller_class="truck_driver",
        plate="X1",
        itinerary=[{"place": "北京", "from": future, "to": future}],
    )
    r = client_for(officer).post(f"{API}/arrivals", body, content_type="application/json")
    assert r.status_code == 400
    assert {"plate", "cargo", "itinerary.0.to"} <= set(r.json()["error"]["fields"])
    from fangkong.entry.models import Arrival

    assert not Arrival.objects.exists()


def test_outside_the_area_is_not_found_and_without_the_capability_forbidden(
    officer, yz_officer, grid_worker, station, shanghai
):
    r = client_for(yz_officer).post(
        f"{API}/arrivals", _body(station), content_type="application/json"
    )
    assert r.status_code == 404
    made = client_for(officer).post(
        f"{API}/arrivals", _body(station), content_type="application/json"
    )
    assert client_for(yz_officer).get(f"{API}/arrivals/{made.json()['id']}").status_code == 404
    denied = client_for(grid_worker).post(
        f"{API}/arrivals", _body(station), content_type="application/json"
    )
    assert denied.status_code == 403


def test_the_arrival_test_is_scanned_through_the_api(officer, yz_officer, station, shanghai):
    c = client_for(officer)
    arrival = c.post(f"{API}/arrivals", _body(station), content_type="application/json").json()
    url = f"{API}/arrivals/{arrival['id']}/tests"
    r = c.post(url, {"barcode": "LD-API-1"}, content_type="application/json")
    assert r.status_code == 201, r.content
    first = r.json()["tests"][0]
    assert (first["sampled"], first["tube"], first["result"]) == (True, "LD-API-1", "")
    assert first["sampled_on"] == timezone.localdate().isoformat()
    assert r.json()["tests"][1]["sampled"] is False
    # The next test is a single tube too (this rule): the same tube is refused, by field.
    again = c.post(url, {"barcode": "LD-API-1"}, content_type="application/json")
    assert again.status_code == 409
    assert "barcode" in again.json()["error"]["fields"]
    empty = c.post(url, {"barcode": "  "}, content_type="application/json")
    assert empty.status_code == 400 and "barcode" in empty.json()["error"]["fields"]
    # Another district's officer: the arrival does not exist.
    other = client_for(yz_officer).post(url, {"barcode": "X"}, content_type="application/json")
    assert other.status_code == 404
