"""The checkpoints page: a commander registers and edits a checkpoint (bad input
inline), a checkpoint officer reads the list without the form, another
district's checkpoint is a 404."""

from __future__ import annotations

import pytest

from fangkong.conftest import client_for, make_staff
from fangkong.entry.models import Checkpoint

pytestmark = pytest.mark.django_db


def _form(city, **kw):
    data = {
        "name_zh": "太原站",
        "name_en": "Taiyuan Station",
        "kind": "rail",
        "jurisdiction": city.xiaodian.pk,
        "lanes": 0,
        "opens_at": "05:30",
        "closes_at": "23:30",
        "staff_on_duty": 20,
        "throughput_per_hour": 4000,
        "active": "on",
    }
    data.update(kw)
    return data


def test_a_commander_registers_and_edits_a_checkpoint(commander, city):
    c = client_for(commander)
    page = c.get("/entry/checkpoints/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Register a checkpoint" in page
    bad = c.post("/entry/checkpoints/", _form(city, kind="road", closes_at=""))
    assert bad.status_code == 200 and "field-error" in bad.content.decode()
    assert not Checkpoint.objects.exists()
    assert c.post("/entry/checkpoints/", _form(city)).status_code == 302
    cp = Checkpoint.objects.get()
    r = c.post(f"/entry/checkpoints/{cp.pk}/", _form(city, staff_on_duty=35, active=""))
    assert r.status_code == 302
    cp.refresh_from_db()
    assert (cp.staff_on_duty, cp.active) == (35, False)
    page = c.get("/entry/checkpoints/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Taiyuan Station" in page and "Closed" in page


def test_an_officer_reads_without_the_form_and_another_district_gets_404(
    commander, officer, city, station
):
    page = client_for(officer).get("/entry/checkpoints/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "Register a checkpoint" not in page.content.decode()
    client_for(officer).post(f"/entry/checkpoints/{station.pk}/", _form(city, name_zh="改名"))
    station.refresh_from_db()
    assert station.name_zh != "改名"
    yingze = make_staff("yzdistrict", city.yingze, "district_officer")
    assert client_for(yingze).get(f"/entry/checkpoints/{station.pk}/").status_code == 404
