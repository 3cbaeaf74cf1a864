from typing import Any

import pytest

from fangkong.conftest import client_for, make_staff
from fangkong.core.signing import person_token
from fangkong.screening.tests.kit import build, people


@pytest.fixture
def kit(city: Any) -> Any:
    return build(city)


def _post(client: Any, url: str, body: Any) -> Any:
    return client.post(f"/api/v1/screening{url}", body, content_type="application/json")


def test_a_sampler_opens_scans_and_closes_through_the_api(kit: Any) -> None:
    c = client_for(kit.sampler)
    r = _post(c, "/tubes", {"round_id": kit.round.pk, "barcode": "A1", "site_id": kit.site.pk})
    assert r.status_code == 201, r.content
    crowd = people(kit.city, 2)
    for p in crowd:
        r = _post(c, "/scan", {"barcode": "A1", "person_token": person_token(p.pk)})
        assert r.status_code == 200 and r.json()["added"]
    r = _post(c, "/scan", {"barcode": "A1", "person_token": person_token(crowd[0].pk)})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "person_twice" and r.json()["error"]["fields"]["person"]
    r = _post(c, "/tubes/close", {"barcode": "A1"})
    assert r.json()["state"] == "closed"


def test_bad_input_comes_back_with_field_and_message(kit: Any) -> None:
    c = client_for(kit.sampler)
    r = _post(c, "/tubes", {"round_id": kit.round.pk, "barcode": "A1", "capacity": 50})
    assert r.status_code == 400 and "capacity" in r.json()["error"]["fields"]
    r = _post(c, "/scan", {"barcode": "A1", "person_token": "garbage"})
    assert r.status_code == 400 and "person_token" in r.json()["error"]["fields"]
    r = _post(c, "/scan", {"person_token": "x"})
    assert r.status_code == 400 and "barcode" in r.json()["error"]["fields"]


def test_another_jurisdiction_gets_404(kit: Any) -> None:
    other = make_staff("yz_sampler", kit.city.yingze, "sampler")
    _post(
        client_for(kit.sampler),
        "/tubes",
        {"round_id": kit.round.pk, "barcode": "A1", "site_id": kit.site.pk},
    )
    (p,) = people(kit.city, 1)
    r = _post(client_for(other), "/scan", {"barcode": "A1", "person_token": person_token(p.pk)})
    assert r.status_code == 404
    r = _post(
        client_for(other),
        "/tubes",
        {"round_id": kit.round.pk, "barcode": "A2", "site_id": kit.site.pk},
    )
    assert r.status_code == 404
    yz = make_staff("yz_officer", kit.city.yingze, "district_officer")
    r = client_for(yz).get(
        f"/api/v1/screening/rounds/{kit.round.pk}/untested", {"node_id": kit.city.xd_grid.pk}
    )
    assert r.status_code == 404


def test_malformed_result_rows_are_listed_and_nothing_is_imported(kit: Any) -> None:
    c = client_for(kit.labtech)
    r = _post(
        c,
        f"/labs/{kit.lab.pk}/results",
        {"rows": [{"tube": "A1", "result": "negative"}, {"tube": "", "result": "bad"}]},
    )
    assert r.status_code == 400
    rows = r.json()["error"]["rows"]
    assert {(e["row"], e["column"]) for e in rows} == {(2, "tube"), (2, "result")}


def test_coverage_and_sites_are_served(kit: Any) -> None:
    people(kit.city, 3)
    r = client_for(kit.manager).get(
        f"/api/v1/screening/rounds/{kit.round.pk}/coverage", {"level": "grid"}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["total"]["target"] == 3 and body["total"]["sampled"] == 0
    r = client_for(kit.manager).get("/api/v1/screening/sites")
    assert r.status_code == 200 and r.json()[0]["name"] == "坞城采样点"


def test_an_offline_batch_through_the_api_is_idempotent(kit: Any) -> None:
    c = client_for(kit.sampler)
    crowd = people(kit.city, 3)
    items = [{"op": "open", "tube": "OFF1", "at": "2026-01-05T08:00:00+08:00"}]
    items += [
        {
            "op": "scan",
            "tube": "OFF1",
            "person_token": person_token(p.pk),
            "at": f"2026-01-05T08:00:0{i + 1}+08:00",
        }
        for i, p in enumerate(crowd)
    ]
    items.append({"op": "close", "tube": "OFF1", "at": "2026-01-05T08:01:00+08:00"})
    body = {"round_id": kit.round.pk, "site_id": kit.site.pk, "items": items}
    first = _post(c, "/batches", body).json()
    assert (first["ok"], first["refused"]) == (5, 0)
    again = _post(c, "/batches", body).json()
    assert (again["ok"], again["duplicate"]) == (0, 5)


def test_a_tubes_chain_of_custody_is_served_inside_the_jurisdiction_only(kit: Any) -> None:
    from fangkong.screening.services import custody, sampling

    sampling.tube_open(actor=kit.sampler, round_id=kit.round.pk, barcode="A1", site_id=kit.site.pk)
    (p,) = people(kit.city, 1)
    sampling.tube_scan(actor=kit.sampler, barcode="A1", person_token=person_token(p.pk))
    sampling.tube_close(actor=kit.sampler, barcode="A1")
    custody.box_pack(actor=kit.sampler, round_id=kit.round.pk, barcode="B1", tube_barcodes=["A1"])
    custody.box_hand_over(actor=kit.sampler, barcode="B1", place="坞城")
    custody.box_receive(actor=kit.labtech, lab_id=kit.lab.pk, barcode="B1")
    r = _post(
        client_for(kit.labtech),
        f"/labs/{kit.lab.pk}/results",
        {"rows": [{"tube": "A1", "result": "negative"}]},
    )
    assert r.status_code == 200, r.content
    r = client_for(kit.manager).get("/api/v1/screening/tubes/A1/chain")
    assert r.status_code == 200, r.content
    chain = r.json()
    assert [e["stage"] for e in chain] == ["collected", "handed_over", "received", "reported"]
    assert chain[-1]["result"] == "negative" and chain[-1]["lab"] == kit.lab.name
    assert chain[1]["place"] == "坞城" and chain[1]["box"] == "B1"
    yz = make_staff("yz_officer", kit.city.yingze, "district_officer")
    assert client_for(yz).get("/api/v1/screening/tubes/A1/chain").status_code == 404
    assert client_for(kit.manager).get("/api/v1/screening/tubes/NOPE/chain").status_code == 404
