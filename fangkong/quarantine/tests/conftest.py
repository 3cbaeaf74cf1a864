"""Actors and set-up of the quarantine tests (on top of ``fangkong/conftest.py``).

- ``manager``     quarantine-site manager of Xiaodian
- ``yz_manager``  quarantine-site manager of Yingze (the other district)
- ``commander``   (shared) city commander of Taiyuan: activates sites, approves
- ``xiaodian_officer`` (shared) district officer: approves exceptions
"""

from __future__ import annotations

from typing import Any

import pytest

from fangkong.conftest import City, make_staff
from fangkong.quarantine.tests.kit import active_site


@pytest.fixture
def manager(city: City) -> Any:
    return make_staff("qmanager", city.xiaodian, "quarantine_manager")


@pytest.fixture
def yz_manager(city: City) -> Any:
    return make_staff("yzmanager", city.yingze, "quarantine_manager")


@pytest.fixture
def site(city: City, manager: Any, commander: Any) -> Any:
    """An active site in Xiaodian with ten clean single rooms on two floors."""
    return active_site(manager, commander, city.xiaodian, rooms=10)


@pytest.fixture
def city_manager(city: City) -> Any:
    """The city's quarantine dispatch (a quarantine manager at the city node)."""
    return make_staff("cityq", city.city, "quarantine_manager")
