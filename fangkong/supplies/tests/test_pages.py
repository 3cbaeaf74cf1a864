"""The supplies pages: a warehouse's stock, ledger and movement forms (bad input
inline), the price chart per item, the delivery board, planning and proof of
delivery with a photo; another district's pages are 404."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fangkong.conftest import client_for, raw_codes
from fangkong.core.models import Person
from fangkong.supplies import services
from fangkong.supplies.models import Delivery
from fangkong.supplies.tests.kit import PNG, balance, grocery_request, move

pytestmark = pytest.mark.django_db


def words(response):
    return re.sub(r"<[^>]+>", " ", response.content.decode().split("<main", 1)[-1])


def test_the_warehouse_page_receives_stock_and_shows_it_in_the_ledger(officer, store, grain):
    c = client_for(officer)
    url = f"/supplies/warehouses/{store.pk}/"
    ok = c.post(
        url, {"kind": "receipt", "item_id": grain.pk, "quantity": 120, "counterpart": "市粮库"}
    )
    assert ok.status_code == 302
    assert balance(store, grain) == 120
    short = c.post(
        url, {"kind": "issue", "item_id": grain.pk, "quantity": 500}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert short.status_code == 422
    assert "More than the warehouse holds." in short.content.decode()
    assert balance(store, grain) == 120
    page = c.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    text = words(page)
    assert "市粮库" in text and "入库" in text
    assert raw_codes(text) == []


def test_the_price_page_draws_the_items_chart(officer, market, grain):
    c = client_for(officer)
    day = dt.date.today()
    posted = c.post(
        "/supplies/prices/",
        {"market_id": market.pk, "item_id": grain.pk, "day": day.isoformat(), "price": "5.20"},
    )
    assert posted.status_code == 302
    page = c.get(f"/supplies/prices/?item={grain.pk}", HTTP_ACCEPT_LANGUAGE="en")
    data = re.search(
        r'<script id="price-data" type="application/json">(.*?)</script>', page.content.decode()
    )
    assert data is not None
    chart = json.loads(data.group(1))
    assert chart["series"][0]["name"] == market.name
    assert chart["series"][0]["values"][-1] == "5.20"
    bad = c.post(
        "/supplies/prices/",
        {"market_id": market.pk, "item_id": grain.pk, "day": day.isoformat(), "price": "abc"},
    )
    assert bad.status_code == 422


def test_the_officer_plans_from_the_board_and_the_team_records_proof_with_a_photo(
    officer, team_member, sealed, store, grain
):
    move(officer, "receipt", store, grain, 100)
    person = Person.objects.filter(scope_path__startswith=sealed.scope_path).first()
    request_id = grocery_request(person)
    c = client_for(officer)
    board = c.get("/supplies/deliveries/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert sealed.name in board.content.decode()
    assert "生活物资" in words(board)  # the kind of request, in words
    assert raw_codes(words(board)) == []
    empty = c.post(
        "/supplies/deliveries/new/",
        {"zone_id": sealed.pk, "warehouse_id": store.pk, "planned_for": dt.date.today()},
    )
    assert empty.status_code == 422
    planned = c.post(
        "/supplies/deliveries/new/",
        {
            "zone_id": sealed.pk,
            "warehouse_id": store.pk,
            "planned_for": dt.date.today().isoformat(),
            "request_ids": [request_id],
            f"q_{grain.pk}": 6,
        },
    )
    assert planned.status_code == 302, planned.content.decode()[:3000]
    delivery = Delivery.objects.get()
    team = client_for(team_member)
    no_proof = team.post(f"/supplies/deliveries/{delivery.pk}/deliver", {"received_by": "王建国"})
    assert no_proof.status_code == 422
    photo = SimpleUploadedFile("proof.png", PNG, content_type="image/png")
    done = team.post(
        f"/supplies/deliveries/{delivery.pk}/deliver", {"received_by": "王建国", "photo": photo}
    )
    assert done.status_code == 302
    assert balance(store, grain) == 94
    shown = team.get(f"/supplies/deliveries/{delivery.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "王建国" in shown.content.decode()
    assert team.get(f"/supplies/deliveries/{delivery.pk}/photo").content == PNG


def test_another_districts_pages_are_404(officer, yz_officer, sealed, store, grain):
    delivery = services.delivery_plan(
        actor=officer, zone_id=sealed.pk, warehouse_id=store.pk, lines=[(grain.pk, 1)]
    )
    other = client_for(yz_officer)
    assert other.get(f"/supplies/warehouses/{store.pk}/").status_code == 404
    assert other.get(f"/supplies/deliveries/{delivery.pk}/").status_code == 404
    assert other.post(f"/supplies/deliveries/{delivery.pk}/dispatch").status_code == 404
    assert other.get(f"/supplies/deliveries/{delivery.pk}/photo").status_code == 404
