"""Entry's public pages under /me/: a traveller reports before travelling (the
portal's self-service links here) and, signed in, reads their measures, why, and
their test schedule; nobody else's arrival shows; bad input stays on the form."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.conftest import make_person
from fangkong.core.crypto import decrypt
from fangkong.entry import services
from fangkong.entry.models import Arrival
from fangkong.entry.tests import kit
from fangkong.status.resident import SESSION_KEY

pytestmark = pytest.mark.django_db


def _signed_in(person: Any) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    session = c.session
    session[SESSION_KEY] = person.pk
    session.save()
    return c


def _report(c: Client, **kw: str) -> Any:
    today = timezone.localdate()
    data = {
        "from_place": "上海市浦东新区",
        "since": (today - dt.timedelta(days=9)).isoformat(),
        "arrival_date": today.isoformat(),
        "transport": "G1",
        "destination": "小店区",
    }
    data.update(kw)
    return c.post("/me/arrival/", data)


def test_anyone_may_report_and_bad_input_stays_on_the_form(city):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert c.get("/me/arrival/").status_code == 200
    bad = _report(c, from_place="", arrival_date="2020-01-01", destination="")
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()
    assert not Arrival.objects.exists()
    r = _report(c)
    assert r.status_code == 302 and r["Location"] == "/me/"
    assert Arrival.objects.get().person_id is None


def test_my_arrivals_needs_the_residents_sign_in(city):
    r = Client().get("/me/arrivals/")
    assert r.status_code == 302 and "next=/me/arrivals/" in r["Location"]


def test_a_signed_in_traveller_sees_the_measures_then_the_test_schedule(
    city, shanghai, officer, station
):
    person = make_person(city.xd_building, name="陈旅", phone="13811110000")
    other = make_person(city.xd_building, name="别人")
    c = _signed_in(person)
    r = _report(c)
    assert r.status_code == 302 and r["Location"] == "/me/arrivals/"
    page = c.get("/me/arrivals/").content.decode()
    assert "Home quarantine" in page and "on arrival you will need home quarantine" in page
    assert "上海市浦东新区" in page and "Arrival test" in page

    services.arrival_register(
        actor=officer,
        checkpoint_id=station.pk,
        data=services.ArrivalData(
            doc_type=person.doc_type,
            doc_number=decrypt(person.doc_number_encrypted),
            name="陈旅",
            origin="",
        ),
    )
    page = c.get("/me/arrivals/").content.decode()
    assert "You need home quarantine for 7 days" in page
    assert "Due today" in page and "Test 3" in page
    kit.register(officer, station, kit.traveller(name="不相干", origin="北京"))
    assert (
        "不相干" not in page
        and "北京" not in _signed_in(other).get("/me/arrivals/").content.decode()
    )
