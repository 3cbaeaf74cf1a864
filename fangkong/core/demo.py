"""Shared ground of the demo: the demo logins and where the demo outbreak happens.

``fangkong demo`` creates one login per role (the user name is the role code,
each with a person's name) *before* the apps' demo data, so every app's
``<app>/demo.py: seed()`` acts as those logins: what a demo login opens was done by
a named colleague, not by an account nobody can sign in as.

Each app's ``demo.py`` may declare ``DEPENDS_ON = ("investigation", ...)`` (app
labels whose demo data it builds on); the command orders the seeds accordingly.
This module has no ``seed()``: it is not an app's demo data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from fangkong.core.models import Jurisdiction, Role, StaffProfile

DEMO_SEED = 2022
DEMO_DISTRICT = "140105"  # 小店区: district-level demo logins and the outbreak are here
DEMO_CITY = "140100"

# Where each role's demo login sits in the tree; roles not listed sit at the city.
DISTRICT_ROLES = {
    "district_officer",
    "investigator",
    "sampler",
    "checkpoint_officer",
    "quarantine_manager",
}
GRID_ROLES = {"grid_worker"}
STAFF_ROLES = {"sysadmin"}  # may open the Django admin

# A person's name for each demo login (what colleagues, audit rows and decisions show).
DEMO_NAMES = {
    "city_commander": "刘振华",
    "district_officer": "王海燕",
    "grid_worker": "赵丽娟",
    "investigator": "陈卫东",
    "sampler": "孙静",
    "lab_technician": "周敏",
    "checkpoint_officer": "吴强",
    "quarantine_manager": "郑晓红",
    "supplies_officer": "冯建军",
    "inspector": "何平",
    "portal_editor": "许婷",
    "portal_reviewer": "黄磊",
    "auditor": "郭明",
    "sysadmin": "马超",
    "status_officer": "林芳",
    "zone_team_member": "杨帆",
}
OTHER_NAMES = ["李建平", "张秀英", "王志刚", "刘红梅", "杨国强", "高丽", "徐明", "朱丽华"]


def demo_district() -> Jurisdiction | None:
    """The district of the demo outbreak (小店区, else the first district)."""
    return (
        Jurisdiction.objects.filter(code=DEMO_DISTRICT).first()
        or Jurisdiction.objects.filter(level="district").order_by("path").first()
    )


def demo_node_for(role: str) -> Jurisdiction:
    city = (
        Jurisdiction.objects.filter(code=DEMO_CITY).first()
        or Jurisdiction.objects.filter(level="city").order_by("path").first()
    )
    if city is None:
        raise LookupError("no city in the database: build it first")
    district = demo_district()
    if role in GRID_ROLES and district is not None:
        return outbreak_grids(1)[0] if outbreak_grids(1) else district
    if role in DISTRICT_ROLES and district is not None:
        return district
    return city


def demo_display_name(role: str) -> str:
    return DEMO_NAMES.get(role, OTHER_NAMES[sum(map(ord, role)) % len(OTHER_NAMES)])


def demo_login(role: str) -> Any:
    """The demo login of a role (its user name is the role code), created without a
    password when the demo command has not made it (an app's seed run on its own)."""
    user_model = get_user_model()
    user = user_model.objects.filter(username=role).first()
    if user is not None and StaffProfile.objects.filter(user=user).exists():
        return user
    if user is None:
        user = user_model.objects.create_user(username=role)
        user.set_unusable_password()
        user.save()
    profile = StaffProfile.objects.create(
        user=user, jurisdiction=demo_node_for(role), display_name=demo_display_name(role)
    )
    profile.roles.set(Role.objects.filter(code=role))
    return user


def outbreak_grids(n: int = 6) -> list[Jurisdiction]:
    """The first ``n`` grids of the demo district, where the outbreak and its zones are
    (the same ones for every app's seed)."""
    district = demo_district()
    if district is None:
        return []
    return list(
        Jurisdiction.objects.subtree_of(district.path).filter(level="grid").order_by("path")[:n]
    )


def days_ago(days: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    """A local time ``days`` before today (the demo's timeline is relative to today)."""
    day = timezone.localdate() - dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))
