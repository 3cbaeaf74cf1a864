"""Writes of the status app (re-exported for other apps)."""

from fangkong.status.services.reasons import (
    NegativeResult,
    negative_results_record,
    reasons_end,
    reasons_end_many,
    reasons_expire,
    reasons_grant,
    reasons_grant_many,
    recompute,
    test_result_record,
)

__all__ = [
    "NegativeResult",
    "negative_results_record",
    "reasons_end",
    "reasons_end_many",
    "reasons_expire",
    "reasons_grant",
    "reasons_grant_many",
    "recompute",
    "test_result_record",
]
