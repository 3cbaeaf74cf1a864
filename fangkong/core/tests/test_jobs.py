import pytest

from fangkong.conftest import make_person
from fangkong.core.jobs import refresh_resident_counts, utc_hour

pytestmark = pytest.mark.django_db


def test_the_nightly_job_refreshes_resident_counts(city):
    make_person(city.xd_building)
    make_person(city.xd_building2)
    make_person(city.yz_building, region="140106")
    refresh_resident_counts.call_local()
    city.city.refresh_from_db()
    city.xiaodian.refresh_from_db()
    city.xd_building.refresh_from_db()
    assert (city.city.resident_count, city.xiaodian.resident_count) == (3, 2)
    assert city.xd_building.resident_count == 1


def test_nightly_means_night_in_the_platform_time_zone(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    assert utc_hour(2) == 18
    settings.TIME_ZONE = "UTC"
    assert utc_hour(2) == 2
