"""The supplies API: the error shape on bad input, 404 outside the area."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.conftest import client_for
from fangkong.supplies.tests.kit import balance, move

pytestmark = pytest.mark.django_db
API = "/api/v1/supplies"


def post(c, url, body):
    return c.post(f"{API}{url}", body, content_type="application/json")


def test_warehouses_are_created_and_bad_input_names_the_fields(city, officer, yz_officer):
    c = client_for(officer)
    ok = post(c, "/warehouses", {"name": "小店仓", "jurisdiction_id": city.xiaodian.pk})
    assert ok.status_code == 201
    bad = post(c, "/warehouses", {"name": " ", "jurisdiction_id": city.yingze.pk})
    assert bad.status_code == 400
    assert "jurisdiction_id" in bad.json()["error"]["fields"]
    assert [w["name"] for w in c.get(f"{API}/warehouses").json()["items"]] == ["小店仓"]
    assert client_for(yz_officer).get(f"{API}/warehouses").json()["items"] == []


def test_movements_through_the_api_and_negative_stock_is_a_conflict(officer, store, grain):
    c = client_for(officer)
    body = {"kind": "receipt", "warehouse_id": store.pk, "item_id": grain.pk, "quantity": 40}
    assert post(c, "/movements", body).status_code == 201
    short = post(c, "/movements", {**body, "kind": "issue", "quantity": 41})
    assert short.status_code == 409
    assert short.json()["error"]["code"] == "insufficient_stock"
    negative = post(c, "/movements", {**body, "kind": "issue", "quantity": -1})
    assert negative.status_code == 400
    assert "quantity" in negative.json()["error"]["fields"]
    assert balance(store, grain) == 40
    detail = c.get(f"{API}/warehouses/{store.pk}").json()
    assert {s["item_id"]: s["quantity"] for s in detail["stock"]}[grain.pk] == 40
    listed = c.get(f"{API}/movements", {"warehouse_id": store.pk}).json()["items"]
    assert [(m["kind"], m["quantity"]) for m in listed] == [("receipt", -40)]


def test_another_districts_warehouse_market_and_price_are_404(
    city, officer, yz_officer, store, market, grain
):
    move(officer, "receipt", store, grain, 5)
    c = client_for(officer)
    price = post(
        c,
        "/prices",
        {"market_id": market.pk, "item_id": grain.pk, "day": str(dt.date.today()), "price": 5},
    )
    assert price.status_code == 201
    other = client_for(yz_officer)
    assert other.get(f"{API}/warehouses/{store.pk}").status_code == 404
    body = {"kind": "issue", "warehouse_id": store.pk, "item_id": grain.pk, "quantity": 1}
    assert post(other, "/movements", body).status_code == 404
    assert (
        post(
            other,
            "/prices",
            {"market_id": market.pk, "item_id": grain.pk, "day": str(dt.date.today()), "price": 5},
        ).status_code
        == 404
    )
    report_id = price.json()["id"]
    assert (
        post(other, f"/prices/{report_id}/correct", {"price": 6, "reason": "x"}).status_code == 404
    )
    assert other.get(f"{API}/prices").json()["items"] == []
    assert balance(store, grain) == 5


def test_an_impossible_price_is_flagged_and_a_non_price_refused(officer, market, grain):
    c = client_for(officer)
    today = str(dt.date.today())
    body = {"market_id": market.pk, "item_id": grain.pk, "day": today}
    for bad in (0, -2, "NaN"):
        response = post(c, "/prices", {**body, "price": bad})
        assert response.status_code == 400, bad
        assert "price" in response.json()["error"]["fields"]
    flagged = post(c, "/prices", {**body, "price": 99999})
    assert flagged.status_code == 201
    assert flagged.json()["flagged"] is True
    again = post(c, "/prices", {**body, "price": 5})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_reported"


def test_days_of_supply_and_the_chart(officer, store, market, grain):
    c = client_for(officer)
    rows = c.get(f"{API}/days-of-supply").json()
    assert [r["district"] for r in rows] == ["小店区"]
    post(
        c,
        "/prices",
        {"market_id": market.pk, "item_id": grain.pk, "day": str(dt.date.today()), "price": 5},
    )
    chart = c.get(f"{API}/prices/chart/{grain.pk}").json()
    assert chart["series"][0]["name"] == "小店农贸市场"
    assert chart["series"][0]["values"][-1] == "5.00"
    assert c.get(f"{API}/prices/chart/99999").status_code == 404


def test_a_user_without_the_capability_is_refused(nobody, store):
    assert client_for(nobody).get(f"{API}/warehouses/{store.pk}").status_code in (403, 404)
