"""The maps' base layer (districts and streets, public) and the tree picker that
replaces typed internal ids."""

from __future__ import annotations

import pytest

from fangkong.conftest import client_for

pytestmark = pytest.mark.django_db


def test_the_base_map_gives_districts_and_streets_with_their_names(city, client):
    box = {
        "type": "Polygon",
        "coordinates": [[[112.5, 37.8], [112.6, 37.8], [112.6, 37.9], [112.5, 37.8]]],
    }
    for node in (city.xiaodian, city.xd_grid.parent.parent):
        node.boundary = box
        node.save(update_fields=["boundary", "updated_at"])
    r = client.get("/map/base.json", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200 and "public" in r["Cache-Control"]
    features = r.json()["features"]
    levels = {f["properties"]["level"] for f in features}
    assert levels == {"district", "subdistrict"}
    labels = {f["properties"]["label"] for f in features}
    assert "Xiaodian" in labels
    assert all(not f["properties"]["name"].startswith("#") for f in features)


def test_the_tree_picker_opens_the_users_area_level_by_level(city, xiaodian_officer):
    c = client_for(xiaodian_officer)
    top = c.get("/pick/areas/?name=units")
    assert top.status_code == 200
    sub = city.xd_grid.parent.parent
    assert sub.name in top.content.decode() and 'name="units"' in top.content.decode()
    down = c.get(f"/pick/areas/?parent={city.xd_grid.pk}&name=units&levels=building")
    page = down.content.decode()
    assert "1号楼" in page and f'value="{city.xd_building.pk}"' in page


def test_the_tree_picker_does_not_open_another_district(city, xiaodian_officer):
    c = client_for(xiaodian_officer)
    assert c.get(f"/pick/areas/?parent={city.yz_grid.pk}").status_code == 404


def test_a_zone_change_picks_units_from_the_tree(city, xiaodian_officer, commander):
    from fangkong.zones import services

    p = services.zone_propose_declare(
        actor=xiaodian_officer, name="z", level="high", node_ids=[city.xd_building.pk], reason="r"
    )
    services.proposal_approve(actor=commander, proposal_id=p.pk)
    c = client_for(xiaodian_officer)
    page = c.get(f"/zones/{p.zone_id}/").content.decode()
    assert 'data-testid="tree-pick"' in page and "Units (ids)" not in page
    r = c.post(
        f"/zones/{p.zone_id}/change/",
        {
            "kind": "add_units",
            "level": "",
            "units": [str(city.xd_building2.pk)],
            "reason": "新增病例",
        },
    )
    assert r.status_code == 302
