"""core.models.common_path: the one definition of "the deepest tree node holding
these paths" (zones, screening rounds, clusters and notification batches had a
copy each), against brute force over the candidate nodes."""

from hypothesis import given
from hypothesis import strategies as st

from fangkong.core.models import PATH_SEGMENT, common_path

_segment = st.sampled_from(["0000", "0001", "0002", "0012", "0100"])
_path = st.lists(_segment, min_size=0, max_size=4).map("".join)


def _brute(paths: list[str]) -> str:
    if not paths:
        return ""
    shortest = min(paths, key=len)
    nodes = [shortest[:i] for i in range(0, len(shortest) + 1, PATH_SEGMENT)]
    return max((n for n in nodes if all(p.startswith(n) for p in paths)), key=len)


@given(st.lists(_path, max_size=6))
def test_common_path_is_the_deepest_node_holding_every_path(paths: list[str]) -> None:
    assert common_path(paths) == _brute(paths)
    assert common_path(iter(paths)) == _brute(paths)


def test_examples() -> None:
    assert common_path(["00010002", "00010003"]) == "0001"
    assert common_path(["000100020003", "00010002"]) == "00010002"
    assert common_path(["00010012", "00010013"]) == "0001"  # never half a segment
    assert common_path(["0001", "0002"]) == ""
    assert common_path([]) == ""
