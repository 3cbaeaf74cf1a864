"""Failures of other apps read through their shared selectors for accountability:
a contact lost to follow-up (investigation) and an overdue single-tube retest
(screening), as places and times, never names; another district does not see them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.conftest import make_person
from fangkong.core.errors import NotFound
from fangkong.core.signing import person_token
from fangkong.headquarters import services
from fangkong.headquarters.selectors import ops
from fangkong.investigation.services.contacts import contact_set_status
from fangkong.investigation.tests.casekit import new_case, new_contact
from fangkong.screening.models import Task as ScreeningTask
from fangkong.screening.services import custody, results, sampling
from fangkong.screening.tests.kit import build, people

pytestmark = pytest.mark.django_db


def test_a_lost_contact_is_a_failure_named_by_its_place(city, commander, yingze_officer):
    case = new_case(commander, make_person(city.xd_building, name="张三"))
    contact = new_contact(commander, make_person(city.xd_building2, name="李四"), case=case)
    contact_set_status(actor=commander, contact_id=contact.pk, status="lost", reason="电话停机")
    offered = [f for f in ops.failure_choices_for(commander) if f.kind == "lost_contact"]
    assert [f.id for f in offered] == [contact.pk]
    assert "Building 2" in offered[0].text and "李四" not in offered[0].text
    record = services.accountability_propose(
        actor=commander,
        failure_kind="lost_contact",
        failure_id=contact.pk,
        party_kind="individual",
        party_name="坞城第1网格网格员",
        measure="reminder",
        grounds="密接失访未及时上报",
    )
    assert record.unit == city.xiaodian
    with pytest.raises(NotFound):
        services.accountability_propose(
            actor=yingze_officer,
            failure_kind="lost_contact",
            failure_id=contact.pk,
            party_kind="unit",
            party_name="x",
            measure="talk",
            grounds="x",
        )


def test_an_overdue_retest_is_a_failure_of_its_district(city):
    kit = build(city)
    sampling.tube_open(actor=kit.sampler, round_id=kit.round.pk, barcode="T1", site_id=kit.site.pk)
    for p in people(city, 2):
        sampling.tube_scan(actor=kit.sampler, barcode="T1", person_token=person_token(p.pk))
    sampling.tube_close(actor=kit.sampler, barcode="T1")
    custody.box_pack(actor=kit.sampler, round_id=kit.round.pk, barcode="X1", tube_barcodes=["T1"])
    custody.box_hand_over(actor=kit.sampler, barcode="X1", place="坞城")
    custody.box_receive(actor=kit.labtech, lab_id=kit.lab.pk, barcode="X1")
    results.results_import(
        actor=kit.labtech,
        lab_id=kit.lab.pk,
        rows=[{"tube": "T1", "result": "positive", "ct_values": {"ORF1ab": 28.5}}],
    )
    retest = ScreeningTask.objects.filter(kind="retest").order_by("pk").first()
    assert retest is not None
    offered = [f for f in ops.failure_choices_for(kit.manager) if f.kind == "overdue_retest"]
    assert offered == []  # not late yet
    ScreeningTask.objects.filter(pk=retest.pk).update(due_at=timezone.now() - dt.timedelta(hours=2))
    record = services.accountability_propose(
        actor=kit.manager,
        failure_kind="overdue_retest",
        failure_id=retest.pk,
        party_kind="territorial",
        party_name="小店区坞城街道",
        measure="talk",
        grounds="阳性混管复核逾期2小时",
    )
    assert record.unit == city.xiaodian and "第1轮" in record.failure_text
