"""``fangkong screenshots``: every module's pages as the demo logins, in both languages.

Prepares the demo (``fangkong demo --no-serve``: built once, reused), serves it on a
free local port, opens each app's screens (``fangkong/<app>/screens.py``) in Debian's
Chromium and writes a PNG of each page under ``var/screenshots/<module>/``. Fails
(exit status 1) on a console error, a failed request, an internal code in the
visible text or a map without its base layer, naming the page.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fangkong import envfile
from fangkong.core import pagecheck
from fangkong.core.management.commands.demo import demo_password, static_files_stale


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_serving(url: str, child: subprocess.Popen[Any], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise CommandError(f"the server stopped (exit status {child.returncode})")
        try:
            with urllib.request.urlopen(f"{url}/login/", timeout=5):  # noqa: S310 - our server
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise CommandError(f"the server at {url} did not answer within {seconds:.0f} s")


class Command(BaseCommand):
    help = (
        "Screenshots of every module's pages as the demo logins, in both languages; "
        "fails on what a person must not see."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--residents", type=int, default=20_000)
        parser.add_argument("--module", action="append", default=[], help="only these modules")
        parser.add_argument(
            "--out", default="", help="folder for the PNGs (default var/screenshots)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not pagecheck.CHROMIUM.exists():
            raise CommandError(f"needs Debian's chromium at {pagecheck.CHROMIUM}")
        call_command("demo", no_serve=True, residents=options["residents"], stdout=self.stdout)
        if static_files_stale():
            call_command("collectstatic", interactive=False, verbosity=0)
        out = Path(options["out"] or Path(settings.VAR_DIR) / "screenshots")
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        screens = pagecheck.screen_modules()
        if options["module"]:
            screens = [s for s in screens if s.module in options["module"]]
        usernames = list(get_user_model().objects.values_list("username", flat=True))
        password = demo_password(Path(settings.VAR_DIR) / envfile.FILE_NAME)

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        child = subprocess.Popen(  # noqa: S603 - fixed arguments
            [
                sys.executable,
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
            ]  # fmt: skip
        )
        try:
            wait_until_serving(url, child)
            started = time.monotonic()
            findings = pagecheck.walk(url, screens, password, out=out, usernames=usernames)
            seconds = time.monotonic() - started
        finally:
            child.terminate()
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        bad = [f for f in findings if f.problems]
        self.stdout.write(
            f"{len(findings)} pages of {len({s.module for s in screens})} modules in "
            f"{seconds:.0f} s; screenshots in {out}"
        )
        if bad:
            self.stdout.write(pagecheck.report(bad))
            raise CommandError(
                f"{len(bad)} of {len(findings)} pages show what a person must not see"
            )
        self.stdout.write("Every page reads as words, with nothing failing.")
