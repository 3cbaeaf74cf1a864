"""A new list version re-classifies recent arrivals in bulk with the same
consequences as a scan: test series, hand-off to the home community, the status
reason (superseded by the new one, ended), and one SMS to those whose measures changed,
never for a new list version alone; published twice, nothing more happens."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from fangkong.entry import services
from fangkong.entry.models import Arrival, HomeHandoff
from fangkong.entry.tests import kit
from fangkong.notify.models import Message
from fangkong.status.models import Reason

pytestmark = pytest.mark.django_db

V2 = kit.SHANGHAI_CSV + "310112,上海市,上海市,闵行区,,,中风险区\n"


def _v2(commander: Any) -> dict[str, Any]:
    risk_list = services.risk_list_import(
        actor=commander,
        meta=services.ListMeta(
            region_code="310000",
            region_name="上海市",
            source="上海发布",
            published_at=timezone.now(),
            effective_from=timezone.localdate() - dt.timedelta(days=1),
        ),
        data=V2.encode(),
        filename="v2.csv",
    )
    return services.risk_list_publish(actor=commander, list_id=risk_list.pk)


def test_a_new_list_moves_monitoring_to_home_quarantine_with_its_consequences(
    officer, station, shanghai, commander, city
):
    minhang = kit.register(
        officer,
        station,
        kit.traveller(
            origin="上海", itinerary=kit.stay("上海市闵行区", "310112"), home_id=city.xd_building.pk
        ),
    )
    xuhui = kit.register(
        officer, station, kit.traveller(origin="上海", itinerary=kit.stay("徐汇区", "310104"))
    )
    assert minhang.category == "health_monitoring"
    first = Reason.objects.get(source_type="entry.arrival", source_id=minhang.pk)
    sms_before = Message.objects.filter(purpose="entry").count()

    result = _v2(commander)

    assert result["checked"] == 2 and result["changed"] == 2  # both read the new version
    minhang.refresh_from_db()
    assert minhang.category == "home_quarantine" and minhang.list_versions == {"31": 2}
    assert minhang.tests.count() == 3
    handoff = HomeHandoff.objects.get(arrival=minhang)
    assert handoff.category == "home_quarantine" and handoff.scope_path == city.xd_building.path
    first.refresh_from_db()
    assert first.ended_how == "superseded"
    reason = Reason.objects.get(
        source_type="entry.arrival", source_id=minhang.pk, ended_at__isnull=True
    )
    assert minhang.measures_end is not None and minhang.person_id is not None
    assert timezone.localtime(reason.ends_at).date() == minhang.measures_end + dt.timedelta(days=1)
    # the centralised quarantine of Xuhui stays as it was: its reason is kept
    kept = Reason.objects.get(source_type="entry.arrival", source_id=xuhui.pk)
    assert kept.ended_at is None
    # one SMS more: Minhang's measures changed, Xuhui's only read a new version
    assert Message.objects.filter(purpose="entry").count() == sms_before + 1
    assert Message.objects.filter(purpose="entry", person_id=minhang.person_id).count() == 2


def test_withdrawn_in_bulk_the_reasons_end_and_hand_offs_go(officer, station, shanghai, commander):
    home = kit.register(
        officer, station, kit.traveller(origin="上海", itinerary=kit.stay("上海市浦东新区"))
    )
    assert HomeHandoff.objects.filter(arrival=home).exists()
    services.risk_list_withdraw(actor=commander, list_id=shanghai.pk)
    home.refresh_from_db()
    assert home.category == "arrival_test"
    assert not HomeHandoff.objects.filter(arrival=home).exists()
    reason = Reason.objects.get(source_type="entry.arrival", source_id=home.pk)
    assert reason.ended_how == "revoked"
    assert list(home.tests.values_list("number", flat=True)) == [1]


def test_the_bulk_fact_delivered_twice_changes_nothing(officer, station, shanghai, commander):
    from fangkong.status.facts import on_arrivals_classified

    a = kit.register(
        officer, station, kit.traveller(origin="上海", itinerary=kit.stay("上海市浦东新区"))
    )
    _v2(commander)
    a = Arrival.objects.get(pk=a.pk)
    assert a.measures_end is not None
    decision = [[a.pk, a.person_id, a.category, True, a.measures_end.isoformat()]]
    before = list(Reason.objects.values_list("pk", "ended_at"))
    on_arrivals_classified(decisions=decision)
    assert list(Reason.objects.values_list("pk", "ended_at")) == before


def test_only_arrivals_within_the_rules_look_back_are_classified_again(
    officer, station, shanghai, commander
):
    from fangkong.entry.models import RuleSet

    lookback = RuleSet.objects.get().lookback_days
    inside, outside = (
        kit.register(
            officer, station, kit.traveller(n, origin="上海", itinerary=kit.stay("上海市闵行区"))
        )
        for n in ("近", "远")
    )
    today = timezone.localdate()
    Arrival.objects.filter(pk=inside.pk).update(expected_on=today - dt.timedelta(days=lookback))
    Arrival.objects.filter(pk=outside.pk).update(
        expected_on=today - dt.timedelta(days=lookback + 1)
    )
    result = _v2(commander)
    assert result["checked"] == 1
    # A longer look-back in the rules (data) reaches the older arrival too.
    RuleSet.objects.update(lookback_days=lookback + 1)
    assert services.arrivals_reclassify(actor=commander)["checked"] == 2
