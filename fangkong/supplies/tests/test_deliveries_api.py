"""The deliveries API: plan, dispatch, proof with a photo, bad input named by
field, 404 outside the area."""

from __future__ import annotations

import base64

import pytest

from fangkong.conftest import client_for
from fangkong.core.models import Person
from fangkong.supplies.tests.kit import PNG, balance, grocery_request, move

pytestmark = pytest.mark.django_db
API = "/api/v1/supplies"


def post(c, url, body):
    return c.post(f"{API}{url}", body, content_type="application/json")


def test_the_officer_plans_and_the_team_records_proof_through_the_api(
    officer, team_member, sealed, store, grain
):
    move(officer, "receipt", store, grain, 50)
    person = Person.objects.filter(scope_path__startswith=sealed.scope_path).first()
    request_id = grocery_request(person)
    c = client_for(officer)
    waiting = c.get(f"{API}/zone-requests").json()["items"]
    assert [r["request_id"] for r in waiting] == [request_id]
    zones = c.get(f"{API}/zones").json()
    assert [(z["zone"], z["residents"], z["waiting_requests"]) for z in zones] == [
        (sealed.name, 4, 1)
    ]
    made = post(
        c,
        "/deliveries",
        {
            "zone_id": sealed.pk,
            "warehouse_id": store.pk,
            "request_ids": [request_id],
            "lines": [{"item_id": grain.pk, "quantity": 8}],
        },
    )
    assert made.status_code == 201, made.json()
    delivery = made.json()
    assert (delivery["state"], delivery["source"], delivery["lines"][0]["quantity"]) == (
        "planned",
        "requests",
        8,
    )
    assert post(c, f"/deliveries/{delivery['id']}/dispatch", {}).status_code == 200
    proof = post(
        client_for(team_member),
        f"/deliveries/{delivery['id']}/deliver",
        {"received_by": "王建国", "photo_base64": base64.b64encode(PNG).decode()},
    )
    assert proof.status_code == 200, proof.json()
    assert (proof.json()["state"], proof.json()["has_photo"]) == ("delivered", True)
    assert balance(store, grain) == 42
    again = post(c, f"/deliveries/{delivery['id']}/deliver", {"received_by": "王建国"})
    assert again.status_code == 409


def test_bad_input_is_named_by_field(officer, sealed, store, grain):
    c = client_for(officer)
    bad = post(
        c,
        "/deliveries",
        {"zone_id": sealed.pk, "warehouse_id": store.pk, "lines": [], "days": 0},
    )
    assert bad.status_code == 400
    assert "days" in bad.json()["error"]["fields"]
    empty = post(c, "/deliveries", {"zone_id": sealed.pk, "warehouse_id": store.pk})
    assert empty.status_code == 400
    assert set(empty.json()["error"]["fields"]) == {"lines"}
    made = post(c, "/deliveries", {"zone_id": sealed.pk, "warehouse_id": store.pk, "days": 2})
    assert made.status_code == 201
    url = f"/deliveries/{made.json()['id']}/deliver"
    no_proof = post(c, url, {"received_by": "王建国"})
    assert no_proof.status_code == 400
    assert set(no_proof.json()["error"]["fields"]) == {"proof_note"}
    not_b64 = post(c, url, {"received_by": "王建国", "photo_base64": "%%%"})
    assert set(not_b64.json()["error"]["fields"]) == {"photo_base64"}
    short = post(c, url, {"received_by": "王建国", "proof_note": "签字"})
    assert short.status_code == 409
    assert short.json()["error"]["code"] == "insufficient_stock"


def test_another_districts_delivery_is_404(officer, yz_officer, sealed, store, grain):
    c = client_for(officer)
    made = post(c, "/deliveries", {"zone_id": sealed.pk, "warehouse_id": store.pk, "days": 1})
    delivery_id = made.json()["id"]
    other = client_for(yz_officer)
    assert other.get(f"{API}/deliveries/{delivery_id}").status_code == 404
    assert post(other, f"/deliveries/{delivery_id}/dispatch", {}).status_code == 404
    assert post(other, f"/deliveries/{delivery_id}/cancel", {"reason": "x"}).status_code == 404
    deliver = post(other, f"/deliveries/{delivery_id}/deliver", {"received_by": "x"})
    assert deliver.status_code == 404
    assert other.get(f"{API}/deliveries").json()["items"] == []
    assert other.get(f"{API}/zones").json() == []
    theirs = post(other, "/deliveries", {"zone_id": sealed.pk, "warehouse_id": store.pk, "days": 1})
    assert theirs.status_code == 400
    assert {"zone_id", "warehouse_id"} <= set(theirs.json()["error"]["fields"])
