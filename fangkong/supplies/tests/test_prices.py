"""Market price reports: impossible values flagged, a rise over the baseline
alerts (rule as data), a second report of a day is a conflict, corrections are
audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.models import AuditEntry
from fangkong.supplies import services
from fangkong.supplies.models import PriceReport, PriceRule

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 20)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC), tick=False):
        yield


def report(actor, market, item, day, price):
    return services.price_report(
        actor=actor, market_id=market.pk, item_id=item.pk, day=day, price=price
    )


def week(actor, market, item, price="5.00", days=6):
    for back in range(days, 0, -1):
        report(actor, market, item, TODAY - dt.timedelta(days=back), price)


def test_a_rise_above_the_threshold_over_the_baseline_alerts(officer, market, grain):
    week(officer, market, grain)
    same = report(officer, market, grain, TODAY, "5.90")  # +18 percent
    assert (same.baseline, same.alert, same.flagged) == (Decimal("5.00"), False, False)
    PriceReport.objects.filter(pk=same.pk).delete()
    high = report(officer, market, grain, TODAY, "6.10")  # +22 percent
    assert high.alert and not high.flagged


def test_the_threshold_is_data(officer, market, grain):
    PriceRule.objects.create(
        item=grain,
        effective_from=dt.date(2026, 1, 1),
        baseline_days=7,
        rise_percent=Decimal("10"),
        max_price=Decimal("100"),
    )
    week(officer, market, grain)
    assert report(officer, market, grain, TODAY, "5.60").alert


def test_an_impossible_price_is_kept_flagged_and_left_out_of_the_baseline(officer, market, grain):
    week(officer, market, grain)
    wild = report(officer, market, grain, TODAY, "50.00")
    assert wild.flagged and not wild.alert
    assert "baseline" in wild.flag_reason
    too_high = report(officer, market, grain, TODAY - dt.timedelta(days=7), "2500")
    assert too_high.flagged
    assert "highest possible" in too_high.flag_reason


def test_no_baseline_without_three_earlier_reports(officer, market, grain):
    week(officer, market, grain, days=2)
    first = report(officer, market, grain, TODAY, "9.00")
    assert first.baseline is None and not first.alert and not first.flagged


@pytest.mark.parametrize("price", ["0", "-3", "NaN", "Infinity", "abc", "1.234"])
def test_a_price_that_is_not_a_price_is_refused(officer, market, grain, price):
    with pytest.raises(ValidationFailed) as exc:
        report(officer, market, grain, TODAY, price)
    assert set(exc.value.fields) == {"price"}
    assert not PriceReport.objects.exists()


def test_a_future_day_is_refused(officer, market, grain):
    with pytest.raises(ValidationFailed) as exc:
        report(officer, market, grain, TODAY + dt.timedelta(days=1), "5")
    assert set(exc.value.fields) == {"day"}


def test_a_second_report_of_a_day_is_a_conflict_not_an_overwrite(officer, market, grain):
    first = report(officer, market, grain, TODAY, "5.00")
    assert report(officer, market, grain, TODAY, "5.00").pk == first.pk
    with pytest.raises(Conflict) as exc:
        report(officer, market, grain, TODAY, "5.50")
    assert exc.value.code == "already_reported"
    first.refresh_from_db()
    assert first.price == Decimal("5.00")


def test_a_correction_needs_a_reason_and_is_audited(officer, market, grain):
    week(officer, market, grain)
    wrong = report(officer, market, grain, TODAY, "60.00")
    assert wrong.flagged
    with pytest.raises(ValidationFailed) as exc:
        services.price_correct(actor=officer, report_id=wrong.pk, price="6.00", reason=" ")
    assert set(exc.value.fields) == {"reason"}
    fixed = services.price_correct(
        actor=officer, report_id=wrong.pk, price="6.50", reason="多输了一个零"
    )
    assert not fixed.flagged and fixed.alert
    entry = AuditEntry.objects.get(action="supplies.price_correct")
    assert entry.changes["price"] == ["60.00", "6.50"]


def test_markets_of_another_district_do_not_exist(yz_officer, market, grain):
    with pytest.raises(NotFound):
        report(yz_officer, market, grain, TODAY, "5")
