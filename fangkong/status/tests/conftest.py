from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    from fangkong.status import rules

    cache.clear()
    rules.clear_cache()
    yield
    cache.clear()
    rules.clear_cache()
