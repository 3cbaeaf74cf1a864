from typing import Any

from fangkong.conftest import make_person
from fangkong.screening.demo import seed
from fangkong.screening.models import Round, Task, Tube
from fangkong.screening.selectors import public_sites


def test_the_demo_seed_builds_a_finished_round_with_one_positive_pool_and_a_live_round(
    city: Any,
) -> None:
    for i in range(40):
        make_person(city.xd_building, name=f"D{i}")
    assert "sampling sites" in seed()
    assert "already there" in seed()
    assert len(public_sites()) == 2
    finished, live = Round.objects.order_by("pk")
    assert finished.state == "closed" and live.state != "closed"
    positives = Tube.objects.filter(round=finished, result="positive")
    assert positives.count() == 1
    members = list(positives[0].members.values_list("person_id", flat=True))
    retests = Task.objects.filter(kind="retest", person_id__in=members, state="open")
    assert retests.count() == len(members) > 0
    assert Tube.objects.filter(round=live, result="negative").exists()
