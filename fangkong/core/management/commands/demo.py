"""``fangkong demo``: migrate, build the demo city once, one login per role, serve.

Running it again reuses what is there (no duplicate city, users or crash). With
``--no-serve`` it only prepares the database and logins (scripts, CI).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from fangkong import envfile
from fangkong.core import demo as core_demo
from fangkong.core.audit import audit_record
from fangkong.core.models import Jurisdiction, Role, StaffProfile
from fangkong.core.synth import synthetic_city_build

# The demo city's seed and the logins' places: fangkong.core.demo.
DEMO_SEED = core_demo.DEMO_SEED


def demo_password(env_path: Path) -> str:
    """The demo password: from the environment, else from var/demo.env (created if needed)."""
    password = os.environ.get("FANGKONG_DEMO_PASSWORD")
    if password:
        return password
    path, _created = envfile.ensure(env_path)
    values = envfile.parse(path.read_text(encoding="utf-8"))
    password = values.get("FANGKONG_DEMO_PASSWORD", "")
    if not password:
        password = envfile.generate()["FANGKONG_DEMO_PASSWORD"]
        envfile.append(path, "FANGKONG_DEMO_PASSWORD", password)
    return password


def static_files_stale() -> bool:
    """Whether collectstatic must run: no manifest yet, or a source file is newer."""
    from django.contrib.staticfiles import finders

    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.is_file():
        return True
    built = manifest.stat().st_mtime
    for finder in finders.get_finders():
        for path, storage in finder.list([]):
            if storage.get_modified_time(path).timestamp() > built:
                return True
    return False


def demo_city_present() -> bool:
    return Jurisdiction.objects.filter(level="district", parent__code="140100").exists()


def demo_modules() -> list[tuple[str, Any]]:
    """The apps' demo modules (``fangkong/<app>/demo.py`` with a ``seed()``), each
    after the apps it names in ``DEPENDS_ON`` (else in ``INSTALLED_APPS`` order)."""
    import importlib
    import importlib.util

    from django.apps import apps

    found: dict[str, Any] = {}
    for config in apps.get_app_configs():
        if not config.name.startswith("fangkong."):
            continue
        module_name = f"{config.name}.demo"
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        if callable(getattr(module, "seed", None)):
            found[config.label] = module
    ordered: list[tuple[str, Any]] = []
    state: dict[str, str] = {}

    def visit(label: str, chain: tuple[str, ...]) -> None:
        if state.get(label) == "done":
            return
        if state.get(label) == "visiting":
            raise CommandError(f"demo seeds depend on each other in a circle: {chain}")
        state[label] = "visiting"
        for dep in getattr(found[label], "DEPENDS_ON", ()):
            if dep in found:
                visit(dep, (*chain, dep))
        state[label] = "done"
        ordered.append((label, found[label]))

    for label in found:
        visit(label, (label,))
    return ordered


def demo_modules_seed(say: Any = None) -> list[tuple[str, str]]:
    """Let each domain app add its demo data (``fangkong/<app>/demo.py: seed()``),
    in dependency order. ``seed()`` must be idempotent (a second demo run adds
    nothing) and returns a one-line summary for the console."""
    done = []
    for label, module in demo_modules():
        with transaction.atomic():  # a seed is all or nothing (a failed run leaves no half)
            summary = str(module.seed())
        prefix = f"{label}:"
        if summary.startswith(prefix):  # the console adds the label itself
            summary = summary[len(prefix) :].lstrip()
        done.append((label, summary))
        if say is not None:
            say(f"{label}: {summary}")
    return done


def demo_logins_ensure(password: str) -> list[tuple[str, str, str]]:
    """One login per role (username = role code); returns (username, role, node) rows."""
    User = get_user_model()
    rows = []
    created = []
    with transaction.atomic():
        for role in Role.objects.order_by("code"):
            node = core_demo.demo_node_for(role.code)
            user = User.objects.filter(username=role.code).first()
            if user is None:
                user = User.objects.create_user(username=role.code, password=password)
                created.append(role.code)
            else:
                user.set_password(password)
            user.is_staff = role.code in core_demo.STAFF_ROLES
            user.is_active = True
            user.save()
            name = core_demo.demo_display_name(role.code)
            profile = StaffProfile.objects.filter(user=user).first()
            if profile is None:
                profile = StaffProfile.objects.create(
                    user=user, jurisdiction=node, display_name=name
                )
            elif profile.display_name.endswith(" (demo)"):  # made by an earlier release
                profile.display_name = name
                profile.save(update_fields=["display_name"])
            profile.roles.set([role])
            rows.append((role.code, role.name_en or role.name_zh, profile.jurisdiction.name_zh))
        if created:
            city = Jurisdiction.objects.get(code="140100")
            audit_record(
                actor=None,
                action="demo.logins",
                obj=city,
                scope_path=city.path,
                changes={"usernames": [None, created]},
            )
    return rows


class Command(BaseCommand):
    help = "Prepare the demo (database, synthetic city, one login per role) and serve it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="prepare only")
        parser.add_argument("--residents", type=int, default=20_000)
        parser.add_argument("--port", type=int, default=8000)

    def say(self, msg: str) -> None:
        self.stdout.write(msg)
        self.stdout.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        env_path = Path(settings.VAR_DIR) / envfile.FILE_NAME
        if not envfile.is_production():
            path, created = envfile.ensure(env_path)
            created = created or os.environ.pop("FANGKONG_DEMO_ENV_CREATED", "") == "1"
            self.say(
                f"Demo settings {'written to' if created else 'read from'} {path} "
                "(random keys; keep this file with the database)."
            )
        call_command("migrate", interactive=False, verbosity=0)
        if demo_city_present():
            self.say("The demo city is already there; not building it again.")
        else:
            self.say(f"Building the demo city ({options['residents']:,} residents)...")
            result = synthetic_city_build(
                residents=options["residents"],
                seed=DEMO_SEED,
                progress=lambda m: None,
            )
            self.say(
                f"Built {result.residents:,} residents, {result.households:,} households, "
                f"{result.venues:,} venues in {result.seconds:.1f} s."
            )
        password = demo_password(env_path)
        rows = demo_logins_ensure(password)
        demo_modules_seed(self.say)
        url = f"http://127.0.0.1:{options['port']}"
        self.say("")
        self.say(f"Demo logins (password for all: {password}):")
        width = max(len(r[0]) for r in rows) if rows else 10
        for username, role, node in rows:
            self.say(f"  {username:<{width}}  {role} — {node}")
        self.say(f"Open {url}  (the Django admin at {url}/admin/ with the sysadmin login)")
        if options["no_serve"]:
            return
        if static_files_stale():
            self.say("Collecting static files (compressed once; later runs skip this)...")
            call_command("collectstatic", interactive=False, verbosity=0)
        self.serve(options["port"])

    def serve(self, port: int) -> None:
        """gunicorn and the Huey consumer as children; Ctrl-C or SIGTERM stops both."""
        python = sys.executable
        children = [
            subprocess.Popen(  # noqa: S603 - fixed arguments
                [
                    python,
                    "-m",
                    "gunicorn",
                    "fangkong.wsgi",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "2",
                    "--worker-class",
                    "gthread",
                    "--threads",
                    "4",
                    "--timeout",
                    "120",
                    "--access-logfile",
                    "-",
                ]  # fmt: skip
            ),
            subprocess.Popen([python, "-m", "fangkong", "run_huey"]),  # noqa: S603
        ]
        self.say(f"Serving at http://127.0.0.1:{port} with the Huey worker. Ctrl-C stops.")
        stopping = {"flag": False}

        def stop(signum: int, _frame: Any) -> None:
            stopping["flag"] = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping["flag"] and all(c.poll() is None for c in children):
                time.sleep(0.5)
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            deadline = time.monotonic() + 15
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
        self.say("Stopped.")
