"""The seam to the status app (reasons and test-result facts).

Screening never writes status tables: it calls the status services promised in
``docs``/CONTRACTS (``reasons_grant``, ``reasons_end``, ``test_result_record``,
``negative_results_record``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any


def _status() -> Any:
    from fangkong.status import services

    return services


def grant(
    *, kind: str, person_ids: Iterable[int], source_type: str, source_id: int, actor: Any = None
) -> int:
    ids = list(person_ids)
    if not ids:
        return 0
    return int(
        _status().reasons_grant(
            kind=kind, person_ids=ids, source_type=source_type, source_id=source_id, actor=actor
        )
    )


def grant_many(
    *,
    kind: str,
    grants: list[tuple[int, list[int]]],
    source_type: str,
    actor: Any = None,
) -> int:
    """``grant`` for many sources at once (each source its people)."""
    grants = [(source_id, ids) for source_id, ids in grants if ids]
    if not grants:
        return 0
    return int(
        _status().reasons_grant_many(kind=kind, grants=grants, source_type=source_type, actor=actor)
    )


def end(
    *, source_type: str, source_id: int, how: str, person_ids: Iterable[int], actor: Any = None
) -> int:
    ids = list(person_ids)
    if not ids:
        return 0
    return int(
        _status().reasons_end(
            source_type=source_type, source_id=source_id, how=how, person_ids=ids, actor=actor
        )
    )


def negative_results(entries: Iterable[tuple[Iterable[int], dt.datetime, int | None]]) -> int:
    """Negative-test facts of many tubes at once: (person ids, sampled at, source
    tube id or None), in order; one status call."""
    facts = [(ids, at, src) for ids, at, src in entries if ids]
    if not facts:
        return 0
    return int(_status().negative_results_record(facts, source_type="screening.tube"))


def clearable_people(*, sampled_by: dt.datetime, limit: int) -> set[int] | None:
    """Who negative results taken by then could clear (None: more than ``limit``)."""
    from fangkong.status import selectors as status_selectors

    found = status_selectors.people_with_clearable_reasons(sampled_by=sampled_by, limit=limit)
    return None if found is None else {int(p) for p in found}
