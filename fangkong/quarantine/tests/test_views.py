"""The quarantine pages: each renders for its users, 404 outside the area,
bad input shown inline."""

from __future__ import annotations

import pytest

from fangkong.conftest import client_for, make_staff
from fangkong.quarantine import services
from fangkong.quarantine.models import Stay
from fangkong.quarantine.tests.kit import admit, in_rooms, people

pytestmark = pytest.mark.django_db


def test_every_page_renders_for_the_site_manager(city, manager, site, commander):
    stays = in_rooms(manager, site, people(city, 2))
    waiting = admit(manager, site, people(city, 1))[0]
    medical = make_staff("medical", city.city, "medical_officer")
    hospital = services.hospital_create(
        actor=medical,
        name="定点医院",
        kind="designated",
        jurisdiction_id=city.xiaodian.pk,
        beds={"general": 5, "icu": 1},
    )
    c = client_for(manager)
    for url in (
        "/quarantine/",
        "/quarantine/sites/",
        "/quarantine/sites/new/",
        f"/quarantine/sites/{site.pk}/",
        f"/quarantine/sites/{site.pk}/admit/",
        f"/quarantine/sites/{site.pk}/monitoring/",
        "/quarantine/stays/",
        f"/quarantine/stays/{stays[0].pk}/",
        f"/quarantine/stays/{waiting.pk}/",
        "/quarantine/approvals/",
        f"/quarantine/orders/?site={site.pk}",
        "/quarantine/staff/",
        "/quarantine/hospitals/",
        f"/quarantine/hospitals/{hospital.pk}/",
    ):
        response = c.get(url)
        assert response.status_code == 200, url
    assert client_for(commander).get("/quarantine/").status_code == 200


def test_pages_of_another_district_do_not_exist(city, manager, site, yz_manager):
    stay = admit(manager, site, people(city, 1))[0]
    c = client_for(yz_manager)
    for url in (
        f"/quarantine/sites/{site.pk}/",
        f"/quarantine/stays/{stay.pk}/",
        f"/quarantine/sites/{site.pk}/monitoring/",
    ):
        assert c.get(url).status_code == 404, url


def test_a_bad_site_form_is_shown_again_with_its_errors(city, manager):
    response = client_for(manager).post(
        "/quarantine/sites/new/",
        {
            "name": "",
            "kind": "hotel",
            "jurisdiction_id": city.xiaodian.pk,
            "tier": 0,
            "planned_rooms": 1,
        },
    )
    assert response.status_code == 422
    assert "form-error" in response.content.decode() or "field-error" in response.content.decode()


def test_the_desk_admits_by_document_and_registers_newcomers(city, manager, site):
    import datetime as dt

    from fangkong.core.identity import make_prc_id

    doc = make_prc_id("140105", dt.date(1990, 3, 4), 321)
    c = client_for(manager)
    response = c.post(
        f"/quarantine/sites/{site.pk}/admit/",
        {
            "doc_type": "prc_id",
            "doc_number": doc,
            "name": "赵新",
            "phone": "",
            "language": "zh-hans",
            "category": "close_contact",
            "disease_code": "covid19",
            "started_on": "",
        },
    )
    assert response.status_code == 302
    stay = Stay.objects.get()
    assert stay.person.name == "赵新"
    assert stay.disease_code == "covid19"
    again = c.post(
        f"/quarantine/sites/{site.pk}/admit/",
        {
            "doc_type": "prc_id",
            "doc_number": doc,
            "name": "赵旧",
            "language": "zh-hans",
            "category": "close_contact",
            "disease_code": "covid19",
        },
    )
    assert again.status_code == 422
    assert "该证件登记的姓名不同" in again.content.decode()
    assert Stay.objects.count() == 1


def test_a_temperature_round_records_the_rows_given_or_none(city, manager, site):
    a, b = in_rooms(manager, site, people(city, 2))
    c = client_for(manager)
    url = f"/quarantine/sites/{site.pk}/monitoring/"
    bad = c.post(url, {"slot": "am", f"t-{a.pk}": "36.5", f"t-{b.pk}": "99"})
    assert bad.status_code == 422
    assert not a.checks.exists()
    good = c.post(
        url, {"slot": "am", f"t-{a.pk}": "36.5", f"t-{b.pk}": "36.7", f"s-{b.pk}": ["sore_throat"]}
    )
    assert good.status_code == 302
    assert a.checks.count() == 1
    assert Stay.objects.get(pk=b.pk).suspected_at is not None


def test_bulk_orders_come_as_one_pdf(city, manager, site):
    stays = in_rooms(manager, site, people(city, 3))
    response = client_for(manager).post(
        f"/quarantine/orders/?site={site.pk}",
        {"site": site.pk, "stay_ids": [s.pk for s in stays], "language": ""},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_allocation_says_how_many_got_a_room_and_nothing_else(city, manager, site):
    from django.contrib.messages import get_messages

    admit(manager, site, people(city, 2))
    response = client_for(manager).post(
        f"/quarantine/sites/{site.pk}/allocate/", {}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 302
    said = [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]
    assert said == [("info", "2 people got a room; 0 are still waiting.")]
    assert Stay.objects.filter(state="in_room").count() == 2
