import json

import pytest
from django.contrib.auth import get_user_model

from fangkong.conftest import client_for, make_staff
from fangkong.core.models import AuditEntry, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_office(city):
    """A district's staff office: manages staff and holds what a grid worker
    holds (so may grant it); decides nothing (four eyes, issue 22)."""
    grid = Role.objects.get(code="grid_worker").capabilities
    Role.objects.create(code="staff_office", name_zh="人事科", capabilities=[*grid, "staff.manage"])
    return make_staff("xiaodian-staff", city.xiaodian, "staff_office")


def post(user, body):
    return client_for(user).post("/api/v1/staff", json.dumps(body), content_type="application/json")


def body(node, **kw):
    b = {
        "username": "wang.grid",
        "password": "Tr1cky-pass-phrase",
        "jurisdiction_id": node.pk,
        "roles": ["grid_worker"],
        "display_name": "王网格",
    }
    b.update(kw)
    return b


def test_a_staff_office_creates_a_grid_worker_in_their_district(city, staff_office):
    r = post(staff_office, body(city.xd_grid))
    assert r.status_code == 201, r.content
    user = get_user_model().objects.get(username="wang.grid")
    assert user.staff.jurisdiction == city.xd_grid
    assert [r.code for r in user.staff.roles.all()] == ["grid_worker"]
    assert AuditEntry.objects.filter(action="staff.create").exists()
    assert "password" not in json.dumps(AuditEntry.objects.get(action="staff.create").changes)


def test_staff_cannot_be_created_in_another_district(city, staff_office):
    r = post(staff_office, body(city.yz_grid))
    assert r.status_code == 404


def test_nobody_grants_a_capability_they_lack(city, staff_office):
    r = post(staff_office, body(city.xd_grid, roles=["auditor"]))  # audit.* not held
    assert r.status_code == 400
    assert "roles" in r.json()["error"]["fields"]
    assert not get_user_model().objects.filter(username="wang.grid").exists()


def test_weak_passwords_and_unknown_roles_are_refused(city, staff_office):
    r = post(staff_office, body(city.xd_grid, password="1234567890"))
    assert r.status_code == 400 and "password" in r.json()["error"]["fields"]
    r = post(staff_office, body(city.xd_grid, roles=["emperor"]))
    assert r.status_code == 400 and "roles" in r.json()["error"]["fields"]


def test_grid_workers_cannot_create_staff(city, grid_worker):
    assert post(grid_worker, body(city.xd_grid)).status_code == 403
