"""Actors and set-up of the entry tests (on top of ``fangkong/conftest.py``).

- ``officer``     checkpoint officer of Xiaodian (registers arrivals, transfers)
- ``yz_officer``  checkpoint officer of Yingze (the other district)
- ``commander``   (shared) city commander: checkpoints, lists, hand-overs
- ``grid_worker`` (shared) grid worker of the Xiaodian grid: home hand-offs
"""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.conftest import City, make_staff
from fangkong.entry.tests import kit


@pytest.fixture
def officer(city: City) -> Any:
    return make_staff("cpofficer", city.xiaodian, "checkpoint_officer")


@pytest.fixture
def yz_officer(city: City) -> Any:
    return make_staff("yzofficer", city.yingze, "checkpoint_officer")


@pytest.fixture
def station(city: City, commander: Any) -> Any:
    return kit.checkpoint(commander, city.xiaodian)


@pytest.fixture
def shanghai(commander: Any) -> Any:
    return kit.published_list(commander)
