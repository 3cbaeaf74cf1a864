import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from fangkong import envfile
from fangkong.core.models import Jurisdiction, Person, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_var(settings, tmp_path, monkeypatch):
    settings.VAR_DIR = tmp_path
    monkeypatch.delenv("FANGKONG_DEMO_PASSWORD", raising=False)
    return tmp_path


def test_demo_prepares_the_city_and_one_login_per_role_twice_without_duplicates(demo_var, capsys):
    call_command("demo", "--no-serve", "--residents", "300")
    first = capsys.readouterr().out
    people = Person.objects.count()
    call_command("demo", "--no-serve", "--residents", "300")
    second = capsys.readouterr().out

    # 300 residents, plus the people the domain apps' parts bring (arrivals from
    # other regions at the checkpoints); a second run adds nobody.
    assert 300 <= people <= 400
    assert Person.objects.count() == people
    assert Jurisdiction.objects.filter(code="140105").count() == 1
    assert "already there" in second
    # One sign-in per role; domain apps' demo data may add actors of their own
    # (recorded as the proposers and approvers of demo zones, for instance) but
    # those cannot sign in.
    users = [
        u for u in get_user_model().objects.filter(staff__isnull=False) if u.has_usable_password()
    ]
    roles = set(Role.objects.values_list("code", flat=True))
    assert {u.username for u in users} == roles
    for user in users:
        assert [r.code for r in user.staff.roles.all()] == [user.username]
    password = envfile.parse((demo_var / "demo.env").read_text())["FANGKONG_DEMO_PASSWORD"]
    assert password in first and password in second
    assert "http://127.0.0.1:8000" in first
    for code in roles:
        assert code in first


def test_demo_logins_sit_at_sensible_nodes_and_can_sign_in(demo_var, client):
    call_command("demo", "--no-serve", "--residents", "300")
    User = get_user_model()
    level = {u.username: u.staff.jurisdiction.level for u in User.objects.all()}
    assert level["city_commander"] == "city"
    assert level["auditor"] == "city"
    assert level["sysadmin"] == "city"
    assert level["district_officer"] == "district"
    assert level["grid_worker"] == "grid"
    assert User.objects.get(username="sysadmin").is_staff
    assert not User.objects.get(username="city_commander").is_staff
    password = envfile.parse((demo_var / "demo.env").read_text())["FANGKONG_DEMO_PASSWORD"]
    assert User.objects.get(username="grid_worker").check_password(password)


def test_the_demo_env_file_holds_random_keys(demo_var):
    path, created = envfile.ensure(demo_var / "demo.env")
    assert created
    values = envfile.parse(path.read_text())
    assert {"SECRET_KEY", "FANGKONG_FIELD_KEYS", "FANGKONG_LOOKUP_KEY"} <= set(values)
    from cryptography.fernet import Fernet

    Fernet(values["FANGKONG_FIELD_KEYS"])  # a usable key
    again, created_again = envfile.ensure(demo_var / "demo.env")
    assert not created_again and envfile.parse(again.read_text()) == values
    other, _ = envfile.ensure(demo_var / "other.env")
    assert envfile.parse(other.read_text())["SECRET_KEY"] != values["SECRET_KEY"]


def test_the_apps_demo_seeds_run_after_the_apps_they_build_on():
    from fangkong.core.management.commands.demo import demo_modules

    order = [label for label, _module in demo_modules()]
    assert {"investigation", "status", "zones", "screening", "portal"} <= set(order)
    for label, module in demo_modules():
        for dep in getattr(module, "DEPENDS_ON", ()):
            if dep in order:
                assert order.index(dep) < order.index(label), (dep, label)
