from typing import Any

from fangkong.conftest import make_person
from fangkong.screening.demo import seed
from fangkong.screening.models import Tube
from fangkong.screening.selectors import public_sites


def test_the_demo_seed_builds_sites_and_a_sampled_round_once(city: Any) -> None:
    for i in range(25):
        make_person(city.xd_building, name=f"D{i}")
    assert "sampling sites" in seed()
    assert "already there" in seed()
    assert len(public_sites()) == 2
    assert set(Tube.objects.values_list("result", flat=True)) == {"negative"}
