"""An arrival's test series as the traveller and the officer see it.

The arrival test is taken at the checkpoint (its tube is linked there); the later
tests of the series are taken at any sampling site of the city, in whatever
screening round is running. A due test counts as done by the first sample of the
person on or after its day that no earlier test of the series took. Results come
from screening (``screening.selectors.shared.samples_of``), read, never copied.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils import timezone

from fangkong.entry.models import Arrival, ArrivalTest
from fangkong.screening.selectors import shared as screening_shared
from fangkong.screening.selectors.shared import Sample


@dataclass(frozen=True)
class SeriesTest:
    number: int
    due_on: dt.date
    done: bool
    sampled_on: dt.date | None
    barcode: str
    result: str  # the result code, "" until reported
    result_label: str  # in the active language
    overdue: bool
    today: bool

    @property
    def positive(self) -> bool:
        return self.result == "positive"


def series(
    tests: Sequence[ArrivalTest], samples: Sequence[Sample], *, today: dt.date
) -> list[SeriesTest]:
    """The one rule: each test with the sample that took it (if any)."""
    by_barcode = {s.barcode: s for s in samples}
    used = {t.tube_barcode for t in tests if t.tube_barcode}
    free = [s for s in samples if s.barcode not in used]
    out: list[SeriesTest] = []
    for t in sorted(tests, key=lambda t: t.number):
        sample: Sample | None = None
        if t.tube_barcode:
            sample = by_barcode.get(t.tube_barcode)
        else:
            for s in free:
                if timezone.localtime(s.sampled_at).date() >= t.due_on:
                    sample = s
                    free.remove(s)
                    break
        done = bool(t.tube_barcode) or sample is not None
        sampled_on = (
            timezone.localtime(sample.sampled_at).date()
            if sample is not None
            else (timezone.localtime(t.sampled_at).date() if t.sampled_at else None)
        )
        out.append(
            SeriesTest(
                number=t.number,
                due_on=t.due_on,
                done=done,
                sampled_on=sampled_on,
                barcode=sample.barcode if sample is not None else t.tube_barcode,
                result=sample.result if sample is not None else "",
                result_label=sample.result_label if sample is not None else "",
                overdue=not done and t.due_on < today,
                today=not done and t.due_on == today,
            )
        )
    return out


def _since(arrival: Arrival) -> dt.datetime:
    if arrival.arrived_at is not None:
        day = timezone.localtime(arrival.arrived_at).date()
    else:
        day = arrival.expected_on
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def series_of(
    arrivals: Iterable[Arrival], *, today: dt.date | None = None
) -> dict[int, list[SeriesTest]]:
    """The series of each arrival (its tests prefetched or not), with the samples
    of all their people read at once."""
    rows = list(arrivals)
    today = today or timezone.localdate()
    people = {a.person_id for a in rows if a.person_id is not None}
    since = min((_since(a) for a in rows), default=None)
    samples = screening_shared.samples_of(people, since=since) if people and since else {}
    out: dict[int, list[SeriesTest]] = {}
    for a in rows:
        start = _since(a)
        mine = [s for s in samples.get(a.person_id or 0, []) if s.sampled_at >= start]
        out[a.pk] = series(list(a.tests.all()), mine, today=today)
    return out
