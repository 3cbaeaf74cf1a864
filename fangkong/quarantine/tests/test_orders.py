"""Quarantine orders: numbered once, printed in bulk in each person's language."""

from __future__ import annotations

import io

import pypdf
import pytest

from fangkong.core.errors import Conflict, NotFound
from fangkong.core.models import Person
from fangkong.quarantine import services
from fangkong.quarantine.models import QuarantineOrder
from fangkong.quarantine.tests.kit import in_rooms, people

pytestmark = pytest.mark.django_db


def test_orders_are_numbered_once_and_printed_one_a_page_in_each_language(city, manager, site):
    persons = people(city, 4)
    Person.objects.filter(pk=persons[3].pk).update(language="en", name="John Smith")
    stays = in_rooms(manager, site, persons)
    orders = services.orders_issue(actor=manager, stay_ids=[s.pk for s in stays])
    assert [o.number for o in orders] == [f"GL{orders[0].number[2:6]}{n:06d}" for n in range(1, 5)]
    again = services.orders_issue(actor=manager, stay_ids=[s.pk for s in stays])
    assert [o.pk for o in again] == [o.pk for o in orders]
    assert QuarantineOrder.objects.count() == 4
    reader = pypdf.PdfReader(io.BytesIO(services.orders_pdf(orders)))
    assert len(reader.pages) == 4
    first = reader.pages[0].extract_text()
    assert "集中隔离医学观察通知书" in first
    assert "隔离人员0" in first
    assert orders[0].number in first
    assert "如家酒店" in first
    assert "《中华人民共和国传染病防治法》" in first
    last = reader.pages[3].extract_text()
    assert "Notice of centralised quarantine" in last
    assert "John Smith" in last
    assert "close contact" in last.lower()


def test_an_order_can_be_printed_in_a_chosen_language(city, manager, site):
    stay = in_rooms(manager, site, people(city, 1))[0]
    order = services.orders_issue(actor=manager, stay_ids=[stay.pk], language="en")[0]
    assert order.language == "en"
    text = pypdf.PdfReader(io.BytesIO(services.orders_pdf([order]))).pages[0].extract_text()
    assert "room 201" in text


def test_orders_outside_the_area_or_for_ended_stays_are_refused(city, manager, site, yz_manager):
    stay = in_rooms(manager, site, people(city, 1))[0]
    with pytest.raises(NotFound):
        services.orders_issue(actor=yz_manager, stay_ids=[stay.pk])
    services.stay_cancel(actor=manager, stay_id=stay.pk, reason="登记错误")
    with pytest.raises(Conflict):
        services.orders_issue(actor=manager, stay_ids=[stay.pk])
    assert not QuarantineOrder.objects.exists()


def test_a_template_fills_only_plain_placeholders():
    from fangkong.quarantine.services.documents import fill

    assert fill("{name}，{name.__class__}{missing}", {"name": "张三"}) == "张三，{name.__class__}"
