import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from fangkong.conftest import make_person
from fangkong.core.errors import NotFound, ValidationFailed
from fangkong.core.models import AuditEntry
from fangkong.investigation.models import TrajectoryStop, Venue
from fangkong.investigation.services.trajectories import stop_add, stop_remove
from fangkong.investigation.tests.casekit import new_case


def _hours_ago(n: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=n)


@pytest.fixture
def case(city: Any, investigator: Any) -> Any:
    return new_case(investigator, make_person(city.xd_building))


@pytest.fixture
def venue(city: Any) -> Venue:
    return Venue.objects.create(
        name="老王面馆",
        category="restaurant",
        building=city.xd_building,
        scope_path=city.xd_building.path,
    )


def test_it_records_a_venue_stop(investigator: Any, case: Any, venue: Venue) -> None:
    stop = stop_add(
        actor=investigator,
        case_id=case.pk,
        kind="venue",
        venue_id=venue.pk,
        start=_hours_ago(5),
        end=_hours_ago(4),
    )
    assert stop.venue == venue
    assert AuditEntry.objects.filter(action="case.stop_add", object_id=str(stop.pk)).exists()


def test_it_records_an_address_with_its_grid_and_a_train(
    city: Any, investigator: Any, case: Any
) -> None:
    a = stop_add(
        actor=investigator,
        case_id=case.pk,
        kind="address",
        address="坞城路 92 号",
        grid_id=city.xd_grid.pk,
        start=_hours_ago(30),
        end=_hours_ago(29),
    )
    t = stop_add(
        actor=investigator,
        case_id=case.pk,
        kind="transport",
        transport_mode="train",
        transport_number="g92",
        carriage="5",
        seat="12a",
        start=_hours_ago(50),
        end=_hours_ago(47),
    )
    assert a.grid == city.xd_grid
    assert (t.transport_number, t.seat) == ("G92", "12A")


def test_it_refuses_times_in_the_future_naming_the_field(
    investigator: Any, case: Any, venue: Venue
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        stop_add(
            actor=investigator,
            case_id=case.pk,
            kind="venue",
            venue_id=venue.pk,
            start=_hours_ago(1),
            end=_hours_ago(-2),
        )
    assert set(exc.value.fields) == {"end"}
    assert not TrajectoryStop.objects.exists()


def test_it_refuses_an_end_before_the_start(investigator: Any, case: Any, venue: Venue) -> None:
    with pytest.raises(ValidationFailed) as exc:
        stop_add(
            actor=investigator,
            case_id=case.pk,
            kind="venue",
            venue_id=venue.pk,
            start=_hours_ago(2),
            end=_hours_ago(3),
        )
    assert set(exc.value.fields) == {"end"}


def test_each_kind_needs_its_own_fields(investigator: Any, case: Any) -> None:
    for kind, field in (
        ("venue", "venue_id"),
        ("address", "address"),
        ("transport", "transport_mode"),
    ):
        with pytest.raises(ValidationFailed) as exc:
            stop_add(
                actor=investigator,
                case_id=case.pk,
                kind=kind,
                start=_hours_ago(2),
                end=_hours_ago(1),
            )
        assert field in exc.value.fields


def test_a_case_of_another_district_does_not_exist(
    city: Any, yingze_officer: Any, case: Any, venue: Venue
) -> None:
    from fangkong.conftest import make_staff

    other = make_staff("yz_inv", city.yingze, "investigator")
    with pytest.raises(NotFound):
        stop_add(
            actor=other,
            case_id=case.pk,
            kind="venue",
            venue_id=venue.pk,
            start=_hours_ago(2),
            end=_hours_ago(1),
        )


def test_a_stop_can_be_removed_with_an_audit_row(
    investigator: Any, case: Any, venue: Venue
) -> None:
    stop = stop_add(
        actor=investigator,
        case_id=case.pk,
        kind="venue",
        venue_id=venue.pk,
        start=_hours_ago(2),
        end=_hours_ago(1),
    )
    stop_remove(actor=investigator, stop_id=stop.pk, reason="wrong day")
    assert not TrajectoryStop.objects.exists()
    assert AuditEntry.objects.filter(action="case.stop_remove").count() == 1
