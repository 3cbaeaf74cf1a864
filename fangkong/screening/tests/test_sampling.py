import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from fangkong.conftest import make_person
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.models import Person
from fangkong.core.signing import person_token
from fangkong.screening.models import CustodyEvent, Tube, TubeMember
from fangkong.screening.services import sampling
from fangkong.screening.tests.kit import build, people


@pytest.fixture
def kit(city: Any) -> Any:
    return build(city)


def _open(kit: Any, code: str = "T0001", **kw: Any) -> Tube:
    return sampling.tube_open(
        actor=kit.sampler, round_id=kit.round.pk, barcode=code, site_id=kit.site.pk, **kw
    )


def test_a_sampler_opens_a_tube_scans_people_and_closes_it(kit: Any) -> None:
    tube = _open(kit)
    for p in people(kit.city, 3):
        out = sampling.tube_scan(
            actor=kit.sampler, barcode="T0001", person_token=person_token(p.pk)
        )
        assert out.added and not out.warning
    sampling.tube_close(actor=kit.sampler, barcode="T0001")
    tube.refresh_from_db()
    assert tube.state == "closed" and tube.member_count == 3
    assert CustodyEvent.objects.filter(tube=tube, stage="collected").count() == 1


def test_scanning_into_a_closed_tube_is_refused(kit: Any) -> None:
    _open(kit)
    a, b = people(kit.city, 2)
    sampling.tube_scan(actor=kit.sampler, barcode="T0001", person_token=person_token(a.pk))
    sampling.tube_close(actor=kit.sampler, barcode="T0001")
    with pytest.raises(ValidationFailed) as exc:
        sampling.tube_scan(actor=kit.sampler, barcode="T0001", person_token=person_token(b.pk))
    assert "closed" in exc.value.fields["barcode"]


def test_more_people_than_the_pooling_ratio_is_refused(kit: Any) -> None:
    _open(kit, capacity=5)
    crowd = people(kit.city, 6)
    for p in crowd[:5]:
        sampling.tube_scan(actor=kit.sampler, barcode="T0001", person_token=person_token(p.pk))
    with pytest.raises(ValidationFailed) as exc:
        sampling.tube_scan(
            actor=kit.sampler, barcode="T0001", person_token=person_token(crowd[5].pk)
        )
    assert "full" in exc.value.fields["barcode"]


def test_a_tube_larger_than_the_rounds_pooling_ratio_is_refused(kit: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        _open(kit, capacity=20)
    assert "capacity" in exc.value.fields


def test_a_used_barcode_is_refused(kit: Any) -> None:
    _open(kit)
    with pytest.raises(Conflict) as exc:
        _open(kit)
    assert "already been used" in exc.value.fields["barcode"]


def test_the_same_person_twice_in_one_tube_is_refused(kit: Any) -> None:
    _open(kit)
    (p,) = people(kit.city, 1)
    sampling.tube_scan(actor=kit.sampler, barcode="T0001", person_token=person_token(p.pk))
    with pytest.raises(Conflict) as exc:
        sampling.tube_scan(actor=kit.sampler, barcode="T0001", person_token=person_token(p.pk))
    assert "already in this tube" in exc.value.fields["person"]


def test_a_person_already_sampled_this_round_is_warned(kit: Any) -> None:
    (p,) = people(kit.city, 1)
    _open(kit, "T0001")
    _open(kit, "T0002")
    sampling.tube_scan(actor=kit.sampler, barcode="T0001", person_token=person_token(p.pk))
    out = sampling.tube_scan(actor=kit.sampler, barcode="T0002", person_token=person_token(p.pk))
    assert out.added and "Already sampled" in out.warning


def test_an_unknown_person_is_registered_on_the_spot(kit: Any) -> None:
    from fangkong.core.identity import make_prc_id

    doc = make_prc_id("140105", dt.date(1990, 1, 2), 7)
    _open(kit)
    with pytest.raises(NotFound):
        sampling.tube_scan(actor=kit.sampler, barcode="T0001", doc_number=doc)
    out = sampling.tube_scan(actor=kit.sampler, barcode="T0001", doc_number=doc, name="李四")
    assert out.added
    assert Person.objects.get(pk=out.person_id).name == "李四"


def test_a_sampler_of_another_district_cannot_see_the_tube(kit: Any, yingze_officer: Any) -> None:
    from fangkong.conftest import make_staff

    other = make_staff("sampler2", kit.city.yingze, "sampler")
    _open(kit)
    (p,) = people(kit.city, 1)
    with pytest.raises(NotFound):
        sampling.tube_scan(actor=other, barcode="T0001", person_token=person_token(p.pk))


def _batch(kit: Any, crowd: list[Any], at: dt.datetime) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [{"op": "open", "tube": "B1", "at": at}]
    for i, p in enumerate(crowd):
        items.append(
            {
                "op": "scan",
                "tube": "B1",
                "person_token": person_token(p.pk),
                "at": at + dt.timedelta(seconds=i),
            }
        )
    items.append({"op": "close", "tube": "B1", "at": at + dt.timedelta(minutes=5)})
    return items


def test_an_offline_batch_applies_and_the_same_batch_twice_changes_nothing(kit: Any) -> None:
    crowd = people(kit.city, 4)
    at = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=30)
    items = _batch(kit, crowd, at)
    first = sampling.sample_batch_submit(
        actor=kit.sampler, round_id=kit.round.pk, items=items, site_id=kit.site.pk
    )
    assert first.count("ok") == 6 and first.count("refused") == 0
    counts = (Tube.objects.count(), TubeMember.objects.count(), CustodyEvent.objects.count())
    again = sampling.sample_batch_submit(
        actor=kit.sampler, round_id=kit.round.pk, items=items, site_id=kit.site.pk
    )
    assert again.count("duplicate") == 6
    assert (
        Tube.objects.count(),
        TubeMember.objects.count(),
        CustodyEvent.objects.count(),
    ) == counts
    tube = Tube.objects.get(barcode="B1")
    assert tube.state == "closed" and tube.member_count == 4


def test_a_batch_reports_each_refusal_and_keeps_the_rest(kit: Any) -> None:
    crowd = people(kit.city, 2)
    at = timezone.now().replace(microsecond=0)
    items = [
        {"op": "open", "tube": "B2", "at": at, "capacity": 1},
        {"op": "scan", "tube": "B2", "person_token": person_token(crowd[0].pk), "at": at},
        {"op": "scan", "tube": "B2", "person_token": person_token(crowd[1].pk), "at": at},
        {"op": "scan", "tube": "B2", "person_token": "p.1.forged.sig", "at": at},
    ]
    report = sampling.sample_batch_submit(actor=kit.sampler, round_id=kit.round.pk, items=items)
    assert [i.status for i in report.items] == ["ok", "ok", "refused", "refused"]
    assert "full" in report.items[2].message
    assert TubeMember.objects.count() == 1


def test_a_person_in_a_different_tube_at_the_same_time_is_not_a_duplicate(kit: Any) -> None:
    make_person(kit.city.xd_building)
    (p,) = people(kit.city, 1)
    at = timezone.now().replace(microsecond=0)
    items = [
        {"op": "scan", "tube": "C1", "person_id": p.pk, "at": at},
        {"op": "scan", "tube": "C1", "person_id": p.pk, "at": at + dt.timedelta(seconds=3)},
    ]
    report = sampling.sample_batch_submit(actor=kit.sampler, round_id=kit.round.pk, items=items)
    assert [i.status for i in report.items] == ["ok", "refused"]
    assert "already in this tube" in report.items[1].message


def test_a_scan_repeated_with_its_time_is_one_link(kit: Any) -> None:
    _open(kit)
    (p,) = people(kit.city, 1)
    at = timezone.now().replace(microsecond=123456)
    first = sampling.tube_scan(
        actor=kit.sampler, barcode="T0001", person_token=person_token(p.pk), scanned_at=at
    )
    again = sampling.tube_scan(
        actor=kit.sampler, barcode="T0001", person_token=person_token(p.pk), scanned_at=at
    )
    assert first.added and not again.added and again.member_count == 1
    assert TubeMember.objects.filter(person=p).count() == 1


def test_a_merged_record_is_sampled_as_the_record_kept(kit: Any) -> None:
    from fangkong.core.services import person_merge

    _open(kit)
    keep, duplicate = people(kit.city, 2)
    person_merge(actor=kit.manager, keep_id=keep.pk, duplicate_id=duplicate.pk, reason="同一人")
    out = sampling.tube_scan(
        actor=kit.sampler, barcode="T0001", person_token=person_token(duplicate.pk)
    )
    assert out.added and out.person_id == keep.pk
    assert list(TubeMember.objects.values_list("person_id", flat=True)) == [keep.pk]


def test_an_unregistered_code_names_the_person_and_writes_nothing(kit: Any) -> None:
    _open(kit)
    with pytest.raises(NotFound) as refused:
        sampling.tube_scan(actor=kit.sampler, barcode="T0001", person_token=person_token(10**9))
    assert "person_token" in refused.value.fields
    with pytest.raises(NotFound) as refused:
        (p,) = people(kit.city, 1)
        sampling.tube_scan(actor=kit.sampler, barcode="NOPE", person_token=person_token(p.pk))
    assert "barcode" in refused.value.fields
    assert not TubeMember.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_lanes_scanning_into_one_tube_at_once_never_overfill_it(transactional_db: Any) -> None:
    import threading

    from django.db import connection

    from fangkong.conftest import city_build

    if connection.vendor != "postgresql":
        pytest.skip("row locks need a server database (SQLite serialises writers)")
    kit = build(city_build())
    _open(kit, capacity=5)
    crowd = people(kit.city, 8)
    outcomes: list[Any] = []
    lock = threading.Lock()

    def lane(p: Any) -> None:
        try:
            out = sampling.tube_scan(
                actor=kit.sampler, barcode="T0001", person_token=person_token(p.pk)
            )
            got: Any = out.member_count
        except ValidationFailed as exc:
            got = exc.code
        finally:
            connection.close()
        with lock:
            outcomes.append(got)

    lanes = [threading.Thread(target=lane, args=(p,)) for p in crowd]
    for t in lanes:
        t.start()
    for t in lanes:
        t.join()
    assert sorted(o for o in outcomes if isinstance(o, int)) == [1, 2, 3, 4, 5]
    assert sorted(o for o in outcomes if not isinstance(o, int)) == ["tube_full"] * 3
    tube = Tube.objects.get(barcode="T0001")
    assert tube.member_count == 5 == TubeMember.objects.filter(tube=tube).count()
