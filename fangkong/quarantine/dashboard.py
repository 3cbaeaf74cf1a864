"""What the quarantine module puts on the command centre's "needs attention" list."""

from __future__ import annotations

from typing import Any

from fangkong.core.types import Actor
from fangkong.quarantine.selectors.shared import work_items


def attention(user: Actor) -> list[dict[str, Any]]:
    return [
        {"text": i.text, "count": i.count, "url": i.url, "severity": i.severity}
        for i in work_items(user)
    ]
