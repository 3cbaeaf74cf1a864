"""What other apps read: the sites that can take people."""

from __future__ import annotations

import pytest

from fangkong.conftest import make_staff
from fangkong.core.errors import NotFound
from fangkong.core.services import jurisdiction_build
from fangkong.quarantine.models import Room
from fangkong.quarantine.selectors import shared
from fangkong.quarantine.tests.kit import active_site, inspected_site

pytestmark = pytest.mark.django_db


def test_site_choices_are_the_active_sites_of_the_users_city_with_free_rooms(
    city, manager, commander, yz_manager
):
    first = active_site(manager, commander, city.xiaodian, rooms=4, name="一号点", tier=1)
    other = active_site(yz_manager, commander, city.yingze, rooms=2, name="二号点", tier=2)
    inspected_site(manager, city.xiaodian, name="备用点")
    full = active_site(manager, commander, city.xiaodian, rooms=2, name="满员点", tier=3)
    Room.objects.filter(site=full).update(status="occupied", occupants=1)
    Room.objects.filter(site=first, number="201").update(status="occupied", occupants=1)
    Room.objects.filter(site=first, number="202").update(status="maintenance")
    officer = make_staff("checkpoint", city.xiaodian, "checkpoint_officer")
    choices = shared.site_choices(officer)
    assert [(c.name, c.free_rooms, c.area) for c in choices] == [
        ("一号点", 2, "Xiaodian"),
        ("二号点", 2, "Yingze"),
    ]
    assert choices[0].label == "一号点 · Xiaodian (2)"
    assert shared.site_choice(officer, other.pk).id == other.pk
    assert shared.site_choice(officer, full.pk).free_rooms == 0


def test_a_site_not_active_or_in_another_city_is_not_a_choice(city, manager, commander):
    standby = inspected_site(manager, city.xiaodian, name="备用点")
    jinzhong = jurisdiction_build(
        parent=city.province, level="city", name_zh="晋中市", code="140700"
    )
    district = jurisdiction_build(parent=jinzhong, level="district", name_zh="榆次区")
    jz_commander = make_staff("jzcommander", jinzhong, "city_commander")
    jz_manager = make_staff("jzmanager", district, "quarantine_manager")
    far = active_site(jz_manager, jz_commander, district, rooms=2, name="榆次点")
    officer = make_staff("checkpoint", city.xiaodian, "checkpoint_officer")
    assert shared.site_choices(officer) == []
    for site_id in (standby.pk, far.pk):
        with pytest.raises(NotFound):
            shared.site_choice(officer, site_id)


def test_a_user_without_a_staff_profile_has_no_choices(city, nobody):
    assert shared.site_choices(nobody) == []
    with pytest.raises(NotFound):
        shared.site_choice(nobody, 1)
