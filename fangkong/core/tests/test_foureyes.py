"""Four eyes in core: the second person is neither the first nor an account linked
to it by provisioning (created, or roles changed), however long the chain; and
staff management is kept apart from deciding."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from fangkong.conftest import client_for, make_staff
from fangkong.core import foureyes, permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import PermissionDenied
from fangkong.core.models import AuditEntry, Role
from fangkong.core.tests.foureyes_kit import create_account
from fangkong.core.types import Actor

pytestmark = pytest.mark.django_db


def provisioned(actor: Actor, user: Any, action: str = "staff.create") -> None:
    audit_record(actor=actor, action=action, obj=user, changes={"roles": [[], ["x"]]})


@pytest.fixture
def superuser(city: Any) -> Any:
    return get_user_model().objects.create_superuser(username="root", password="x")


@pytest.fixture
def accounts(city: Any) -> dict[str, Any]:
    return {n: make_staff(n, city.xiaodian, "district_officer") for n in "abcdef"}


def test_an_account_created_by_the_first_or_by_one_it_created_is_linked(accounts):
    a, b, c, d = (accounts[n] for n in "abcd")
    provisioned(a, b)
    provisioned(b, c)
    assert foureyes.linked(a.pk, b.pk) and foureyes.linked(b.pk, a.pk)
    assert foureyes.linked(a.pk, c.pk) and foureyes.linked(c.pk, a.pk)
    assert not foureyes.linked(a.pk, d.pk)
    assert foureyes.linked(d.pk, d.pk)


def test_a_change_of_roles_links_like_a_creation(accounts):
    a, e = accounts["a"], accounts["e"]
    assert not foureyes.linked(a.pk, e.pk)
    provisioned(a, e, action="staff.roles")
    assert foureyes.linked(e.pk, a.pk)


def test_accounts_created_by_the_same_administrator_are_not_linked(accounts):
    admin, b, c = accounts["f"], accounts["b"], accounts["c"]
    provisioned(admin, b)
    provisioned(admin, c)
    assert not foureyes.linked(b.pk, c.pk)
    assert foureyes.linked_pairs([(b.pk, c.pk), (admin.pk, c.pk)]) == {(admin.pk, c.pk)}


def test_other_audit_rows_about_an_account_do_not_link(accounts):
    a, b = accounts["a"], accounts["b"]
    audit_record(actor=a, action="api_token.create", obj=b)
    assert not foureyes.linked(a.pk, b.pk)


def test_the_rule_refuses_the_same_and_linked_accounts_and_allows_the_system(accounts):
    a, b, c = accounts["a"], accounts["b"], accounts["c"]
    provisioned(b, c)
    with pytest.raises(PermissionDenied) as own:
        foureyes.require_second_person(actor=a, first_id=a.pk, own_message="x", own_code="own")
    assert own.value.code == "own"
    with pytest.raises(PermissionDenied) as link:
        foureyes.require_second_person(actor=c, first_id=b.pk, own_message="x", own_code="own")
    assert link.value.code == "linked_account"
    foureyes.require_second_person(actor=a, first_id=b.pk, own_message="x", own_code="own")
    foureyes.require_second_person(actor=a, first_id=None, own_message="x", own_code="own")


def test_no_default_role_both_manages_staff_and_decides(db):
    shipped = json.loads((Path(permissions.__file__).parent / "fixtures/roles.json").read_text())
    assert shipped
    for row in shipped:
        assert permissions.separation_conflict(row["fields"]["capabilities"]) == [], row
    for role in Role.objects.all():
        assert permissions.separation_conflict(role.capabilities) == [], role.code
    assert "staff.manage" in Role.objects.get(code="sysadmin").capabilities


def test_the_migration_separates_roles_of_existing_databases(db):
    from django.apps import apps

    migration = importlib.import_module(
        "fangkong.core.migrations.0009_separate_staff_management_from_approving"
    )
    Role.objects.filter(code="district_officer").update(
        capabilities=[*Role.objects.get(code="district_officer").capabilities, "staff.manage"]
    )
    own = Role.objects.create(
        code="own_role", name_zh="自定义", capabilities=["staff.manage", "jurisdiction.view"]
    )
    migration.separate(apps, None)
    officer = Role.objects.get(code="district_officer").capabilities
    assert "staff.manage" not in officer and "status.approve" in officer
    own.refresh_from_db()
    assert own.capabilities == ["staff.manage", "jurisdiction.view"]  # decides nothing


def test_a_role_that_manages_staff_and_approves_is_refused_in_the_admin_form(db):
    role = Role(code="both", name_zh="两者", capabilities=["staff.manage", "zone.approve"])
    with pytest.raises(ValidationError) as exc:
        role.full_clean()
    assert "capabilities" in exc.value.message_dict
    Role(code="one", name_zh="一", capabilities=["staff.manage"]).full_clean()


def test_an_account_is_never_given_roles_that_together_manage_and_approve(city, superuser):
    status, user = create_account(
        superuser, city.xiaodian, "district_officer", "sysadmin", username="both"
    )
    assert status == 400 and user is None


def test_default_district_officers_and_commanders_no_longer_create_accounts(
    city, xiaodian_officer, commander
):
    assert create_account(xiaodian_officer, city.xd_grid, "grid_worker", username="grid1")[0] == 403
    assert create_account(commander, city.xd_grid, "grid_worker", username="grid2")[0] == 403


def test_a_role_change_in_the_admin_is_audited_and_links_the_accounts(city, superuser):
    worker = make_staff("worker", city.xd_grid, "grid_worker")
    admin = client_for(superuser)
    profile = worker.staff
    officer_role = Role.objects.get(code="district_officer")
    r = admin.post(
        f"/admin/core/staffprofile/{profile.pk}/change/",
        {
            "user": worker.pk,
            "jurisdiction": city.xd_grid.pk,
            "roles": [officer_role.pk],
            "display_name": "worker",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="staff.roles")
    assert entry.changes == {"roles": [["grid_worker"], ["district_officer"]]}
    assert foureyes.linked(superuser.pk, worker.pk)


def test_the_admin_refuses_roles_that_together_manage_and_approve(city, superuser):
    worker = make_staff("worker", city.xd_grid, "grid_worker")
    roles = Role.objects.filter(code__in=["district_officer", "sysadmin"])
    r = client_for(superuser).post(
        f"/admin/core/staffprofile/{worker.staff.pk}/change/",
        {
            "user": worker.pk,
            "jurisdiction": city.xd_grid.pk,
            "roles": [x.pk for x in roles],
            "display_name": "worker",
        },
    )
    assert r.status_code == 200  # the form again, with the error
    assert sorted(worker.staff.roles.values_list("code", flat=True)) == ["grid_worker"]
    assert not AuditEntry.objects.filter(action="staff.roles").exists()


def test_an_account_created_or_made_superuser_in_the_admin_is_audited(db, superuser):
    admin = client_for(superuser)
    r = admin.post(
        "/admin/auth/user/add/",
        {
            "username": "newbie",
            "password1": "Tr1cky-pass-phrase",
            "password2": "Tr1cky-pass-phrase",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    newbie = get_user_model().objects.get(username="newbie")
    assert AuditEntry.objects.filter(action="staff.create", object_id=str(newbie.pk)).exists()
    assert foureyes.linked(newbie.pk, superuser.pk)
