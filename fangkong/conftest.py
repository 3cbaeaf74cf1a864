"""Shared test ground: a small city and fixed actors, one per role and district.

The city: 山西省 (140000) > 太原市 (140100) > 小店区 (140105) and 迎泽区 (140106),
each with one subdistrict > community > grid > two buildings.

Actors (password ``correct-horse-42`` for all):
- ``commander``  city commander of Taiyuan (sees both districts)
- ``xiaodian``   district officer of Xiaodian
- ``yingze``     district officer of Yingze (the "other district" for denial tests)
- ``gridworker`` grid worker of the Xiaodian grid
- ``investigator`` investigator of Xiaodian (may unmask)
- ``auditor``    auditor of Taiyuan
- ``nobody``     a signed-in user with no staff profile
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client

from fangkong.core import crypto
from fangkong.core.identity import make_prc_id
from fangkong.core.models import Jurisdiction, Person, Role, StaffProfile
from fangkong.core.pagecheck import (  # noqa: F401 - the browser tests' checker, one copy
    CHROMIUM,
    CHROMIUM_ARGS,
    RAW_CODE_PATTERNS,
    map_problems,
    page_problems,
    raw_codes,
    watch_page,
)
from fangkong.core.services import PersonData, jurisdiction_build, person_clean, person_instance

# The test machines are shared and loaded: how fast hypothesis draws its inputs
# or runs one example is not behaviour a user relies on, so neither fails a test.
hypothesis.settings.register_profile(
    "fangkong", deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
hypothesis.settings.load_profile("fangkong")

PASSWORD = "correct-horse-42"


@dataclass
class City:
    province: Jurisdiction
    city: Jurisdiction
    xiaodian: Jurisdiction
    yingze: Jurisdiction
    xd_grid: Jurisdiction
    yz_grid: Jurisdiction
    xd_building: Jurisdiction
    xd_building2: Jurisdiction
    yz_building: Jurisdiction


def _chain(district: Jurisdiction, prefix: str, name: str) -> tuple[Jurisdiction, ...]:
    sub = jurisdiction_build(
        parent=district, level="subdistrict", name_zh=f"{name}街道", name_en=f"{prefix} Subdistrict"
    )
    com = jurisdiction_build(
        parent=sub, level="community", name_zh=f"{name}社区", name_en=f"{prefix} Community"
    )
    grid = jurisdiction_build(
        parent=com, level="grid", name_zh=f"{name}第1网格", name_en=f"{prefix} Grid 1"
    )
    b1 = jurisdiction_build(parent=grid, level="building", name_zh="1号楼", name_en="Building 1")
    b2 = jurisdiction_build(parent=grid, level="building", name_zh="2号楼", name_en="Building 2")
    return grid, b1, b2


@pytest.fixture(autouse=True)
def _messages_in_english() -> Any:
    """Outside requests, messages read in English whatever the default language
    (zh-hans); requests still choose their language (cookie, header, default)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _no_facts_left_from_another_test() -> None:
    """Ids of facts a previous test published and rolled back are forgotten (the
    test database reuses ids; production never does)."""
    from fangkong.core import events

    events._pending().clear()


@pytest.fixture(autouse=True)
def _reset_keys() -> Any:
    crypto.reset_key_cache()
    yield
    crypto.reset_key_cache()


def city_build() -> City:
    """The test city, built inside a transaction: building a node locks its parent
    row (select_for_update), which PostgreSQL allows only in a transaction, and a
    transactional (browser) test has none around its fixtures."""
    with transaction.atomic():
        province = jurisdiction_build(
            parent=None, level="province", name_zh="山西省", name_en="Shanxi", code="140000"
        )
        taiyuan = jurisdiction_build(
            parent=province, level="city", name_zh="太原市", name_en="Taiyuan", code="140100"
        )
        xiaodian = jurisdiction_build(
            parent=taiyuan, level="district", name_zh="小店区", name_en="Xiaodian", code="140105"
        )
        yingze = jurisdiction_build(
            parent=taiyuan, level="district", name_zh="迎泽区", name_en="Yingze", code="140106"
        )
        xd_grid, xd_b1, xd_b2 = _chain(xiaodian, "Pingyang", "坞城")
        yz_grid, yz_b1, _yz_b2 = _chain(yingze, "Liuxiang", "柳巷")
    return City(province, taiyuan, xiaodian, yingze, xd_grid, yz_grid, xd_b1, xd_b2, yz_b1)


@pytest.fixture
def city(db: Any) -> City:
    return city_build()


# --- Browser tests (Playwright driving Debian's Chromium; never a downloaded one) ---

# Screenshots for a human look (git-ignored).
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
# ``pytestmark = BROWSER_TEST`` in a browser test module.
BROWSER_TEST = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]


def chromium_page(
    monkeypatch: Any, *, width: int, height: int, timeout_ms: int = 15_000
) -> Iterator[Any]:
    """A Playwright page in Debian's Chromium (Chinese locale) for a browser-test
    fixture: ``yield from chromium_page(monkeypatch, width=..., height=...)``."""
    # Sync Playwright runs an event loop in this thread; the ORM calls the test
    # itself makes are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(timeout_ms)
        yield page
        context.close()
        browser.close()


@pytest.fixture(scope="session", autouse=True)
def _no_stray_sessions_at_teardown(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """PostgreSQL: end the sessions still open on this run's test database before it
    is dropped. A live-server request thread of the browser tests sometimes leaves
    one behind; the drop then fails with "being accessed by other users" and the
    database stays on the server. Only this process's own test database is touched."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def browser_city(transactional_db: Any) -> City:
    """The test city for a browser test (a transactional test: the live server
    reads committed rows), with the shipped defaults that an earlier flush removed."""
    load_shipped_defaults()
    return city_build()


def make_staff(username: str, node: Jurisdiction, *roles: str) -> Any:
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    profile = StaffProfile.objects.create(user=user, jurisdiction=node, display_name=username)
    profile.roles.set(Role.objects.filter(code__in=roles))
    return user


@pytest.fixture
def commander(city: City) -> Any:
    return make_staff("commander", city.city, "city_commander")


@pytest.fixture
def xiaodian_officer(city: City) -> Any:
    return make_staff("xiaodian", city.xiaodian, "district_officer")


@pytest.fixture
def yingze_officer(city: City) -> Any:
    return make_staff("yingze", city.yingze, "district_officer")


@pytest.fixture
def grid_worker(city: City) -> Any:
    return make_staff("gridworker", city.xd_grid, "grid_worker")


@pytest.fixture
def investigator(city: City) -> Any:
    return make_staff("investigator", city.xiaodian, "investigator")


@pytest.fixture
def auditor(city: City) -> Any:
    return make_staff("auditor", city.city, "auditor")


@pytest.fixture
def nobody(db: Any) -> Any:
    return get_user_model().objects.create_user(username="nobody", password=PASSWORD)


# --- Transactional tests -----------------------------------------------------------
# A transactional test (live server, concurrency) ends with a flush that empties
# every table, including the defaults our data migrations ship (roles, key groups,
# diseases, message templates) and that other tests rely on. And on SQLite the
# flush is a DELETE, which the audit table's append-only triggers refuse. So the
# flush runs with the audit triggers lifted (SQLite) and the shipped defaults are
# loaded again right after it. Apps that ship defaults list their loader here.
SHIPPED_DEFAULTS = [
    ("fangkong.core.migrations.0002_default_roles_and_key_groups", "load_defaults"),
    ("fangkong.notify.migrations.0002_default_templates", "load_defaults"),
    ("fangkong.investigation.migrations.0003_default_diseases", "load"),
    ("fangkong.screening.migrations.0002_default_rules", "load_defaults"),
    ("fangkong.portal.migrations.0002_search_index_and_word_list", "load_defaults"),
    ("fangkong.zones.migrations.0002_default_levels_and_services", "load_defaults"),
    ("fangkong.status.migrations.0002_defaults", "load_defaults"),
    ("fangkong.quarantine.migrations.0002_defaults_and_roles", "load_defaults"),
    ("fangkong.quarantine.migrations.0004_stay_rules_templates_defaults", "load_defaults"),
    ("fangkong.headquarters.migrations.0002_defaults_and_roles", "load_defaults"),
    ("fangkong.headquarters.migrations.0004_daily_reports", "load_templates"),
    ("fangkong.headquarters.migrations.0006_operations_defaults_and_roles", "load_defaults"),
    ("fangkong.entry.migrations.0002_defaults_roles_and_portal_reports", "load_defaults"),
    ("fangkong.supplies.migrations.0002_defaults", "load_defaults"),
    ("fangkong.supplies.migrations.0003_deliveries_by_zone_id_and_zone_requests", "load_defaults"),
]
_AUDIT_TRIGGERS = "fangkong.core.migrations.0003_audit_append_only_triggers"
# PostgreSQL's flush is a TRUNCATE, which the audit table refuses as well.
_AUDIT_TRUNCATE = "fangkong.core.migrations.0010_audit_refuses_truncate"


# Per-process memos of data rows (rules, levels) that apps keep for speed: after a
# flush the reloaded defaults have new ids, so the memos must be dropped too.
PROCESS_MEMOS = [
    ("fangkong.status.rules", "clear_cache"),
]


@contextmanager
def migrated_back(target: list[tuple[str, str]]) -> Iterator[tuple[Any, Callable[[], None]]]:
    """A migration test's database migrated back to ``target`` (with every app's
    migrations that depend on it). Yields the apps of that state, to write rows as
    they were stored then, and ``forward()``, which migrates every app to its last
    migration again; that is done in any case when the block ends, so the next
    test finds every table."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(target)

    def forward() -> None:
        MigrationExecutor(connection).migrate(leaves)

    try:
        yield executor.loader.project_state(target).apps, forward
    finally:
        forward()


def load_shipped_defaults() -> None:
    import importlib

    from django.apps import apps
    from django.core.cache import cache

    for module, func in SHIPPED_DEFAULTS:
        getattr(importlib.import_module(module), func)(apps, None)
    for module, func in PROCESS_MEMOS:
        getattr(importlib.import_module(module), func)()
    cache.clear()


def _patch_transactional_teardown() -> None:
    import importlib

    from django.db import connections
    from django.test import TransactionTestCase

    original = getattr(TransactionTestCase, "_fixture_teardown")  # noqa: B009 - private hook
    if getattr(original, "_fangkong", False):
        return
    triggers = importlib.import_module(_AUDIT_TRIGGERS)
    truncate = importlib.import_module(_AUDIT_TRUNCATE)

    def lift(conn: Any, statements: list[str]) -> None:
        with conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql)

    def teardown(self: TransactionTestCase) -> None:
        sqlite = [c for c in connections.all() if c.vendor == "sqlite"]
        pg = [c for c in connections.all() if c.vendor == "postgresql"]
        for conn in sqlite:
            lift(conn, triggers.SQLITE_DOWN)
        for conn in pg:
            lift(conn, truncate.PG_LIFT)
        try:
            original(self)
        finally:
            for conn in sqlite:
                lift(conn, triggers.SQLITE_UP)
            for conn in pg:
                lift(conn, truncate.PG_RESTORE)
            load_shipped_defaults()

    teardown._fangkong = True  # type: ignore[attr-defined]
    setattr(TransactionTestCase, "_fixture_teardown", teardown)  # noqa: B010 - private hook


def _only_test_blocks(connection: Any) -> bool:
    """The connection is inside the test's own wrapping transaction only (what
    production would run in autocommit)."""
    blocks = connection.atomic_blocks
    return bool(blocks) and all(getattr(b, "_from_testcase", False) for b in blocks)


def _patch_fact_delivery() -> None:
    """Deliver domain facts (``core.events``) in tests as production does.

    pytest-django wraps each test in a transaction that never commits, so
    ``transaction.on_commit`` callbacks would never run: facts would never reach
    their subscribers. Here, a fact is delivered when the outermost atomic block
    of the code under test exits without error (its commit in production), and at
    once when it is published outside any such block (autocommit); a block rolled
    back drops its facts' deliveries with it, as Django drops its savepoint's
    callbacks. Other on-commit callbacks keep Django's test behaviour
    (``django_capture_on_commit_callbacks``)."""
    from django.db.transaction import Atomic

    from fangkong.core import events

    original_exit = Atomic.__exit__
    original_schedule = events._schedule

    def exit_and_deliver(self: Atomic, exc_type: Any, exc_value: Any, tb: Any) -> Any:
        result = original_exit(self, exc_type, exc_value, tb)
        if exc_type is None and not getattr(self, "_from_testcase", False):
            connection = transaction.get_connection(self.using)
            if _only_test_blocks(connection) and not connection.needs_rollback:
                facts = [
                    c for c in connection.run_on_commit if isinstance(c[1], events._AfterCommit)
                ]
                if facts:
                    connection.run_on_commit = [
                        c for c in connection.run_on_commit if c not in facts
                    ]
                    for _sids, callback, _robust in facts:
                        callback()
        return result

    def schedule(fact_id: int) -> None:
        if _only_test_blocks(transaction.get_connection()):
            events._AfterCommit(fact_id)()
        else:
            original_schedule(fact_id)

    Atomic.__exit__ = exit_and_deliver  # type: ignore[method-assign]
    events._schedule = schedule


def pytest_configure(config: Any) -> None:
    _patch_transactional_teardown()
    _patch_fact_delivery()


_seq = {"n": 0}


def make_person(
    home: Jurisdiction | None,
    *,
    name: str = "张三",
    birth: dt.date = dt.date(1985, 6, 15),
    phone: str = "",
    key_groups: list[str] | None = None,
    limited_mobility: bool = False,
    region: str = "140105",
) -> Person:
    """A registered person with a valid, unique PRC ID (no audit: test set-up)."""
    _seq["n"] = (_seq["n"] + 1) % 1000
    doc = make_prc_id(region, birth, _seq["n"])
    clean = person_clean(
        PersonData(
            doc_type="prc_id",
            doc_number=doc,
            name=name,
            phone=phone,
            key_groups=key_groups or [],
            limited_mobility=limited_mobility,
        ),
        home=home,
    )
    person = person_instance(clean, scope_path=home.path if home else "")
    person.save()
    if clean.key_groups:
        person.key_groups.set(clean.key_groups)
    return person


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return c
