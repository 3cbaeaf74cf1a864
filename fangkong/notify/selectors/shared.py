"""What notify promises to other apps' pages (the only notify reads they import)."""

from __future__ import annotations

from typing import Any

from fangkong.notify.selectors import batch_list_for, batch_progress, status_label


def batches_with_progress(
    user: Any, *, purpose: str, dedup_key: str, limit: int = 5
) -> list[dict[str, Any]]:
    """The user's latest batches of that purpose and key (scoped; the caller
    checks ``notify.view``), each with its messages counted by status in the
    reader's language: ``{"batch": Batch, "progress": {label: count}}``."""
    batches = batch_list_for(user, purpose=purpose).filter(dedup_key=dedup_key)[:limit]
    return [
        {
            "batch": b,
            "progress": {status_label(st): n for st, n in batch_progress(b).items()},
        }
        for b in batches
    ]
