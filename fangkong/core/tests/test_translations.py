"""The Simplified Chinese catalogue covers every user-facing string of the code."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

PACKAGE = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext")


def _catalogues(root: Path) -> list[Path]:
    """The project catalogue and each app's own (``<app>/locale``), Chinese ones."""
    return sorted(root.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))


def test_every_message_of_the_code_is_translated_to_chinese(tmp_path):
    # Extract the messages of the current code into a scratch copy of the package
    # (code, templates and catalogues), so the check sees strings added since the
    # catalogues were last refreshed and never writes into the source tree. Apps
    # with a locale directory of their own keep their messages there.
    src = tmp_path / "src"
    shutil.copytree(
        PACKAGE,
        src,
        ignore=shutil.ignore_patterns("__pycache__", "*.mo", "node_modules", "tests"),
    )
    env = {**os.environ, "FANGKONG_LOCALE_DIR": str(src / "locale")}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "fangkong.cli",
            "makemessages",
            "-l",
            "zh_Hans",
            "--ignore=conftest.py",
            "--no-obsolete",
            "-v",
            "0",
        ],
        cwd=src,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    missing = []
    for catalogue in _catalogues(src):
        po = polib.pofile(str(catalogue))
        where = catalogue.relative_to(src)
        missing += [
            f"{where}: {e.msgid}" for e in po if not e.obsolete and (not e.translated() or e.fuzzy)
        ]
    assert not missing, (
        f"{len(missing)} messages lack a Chinese translation (run `make messages`, translate "
        f"them in the catalogue named): {missing[:20]}"
    )


def test_the_chinese_catalogues_keep_placeholders():
    import re

    ph = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
    bad = [
        e.msgid
        for catalogue in _catalogues(PACKAGE)
        for e in polib.pofile(str(catalogue))
        if e.translated()
        and not e.msgid_plural
        and sorted(ph.findall(e.msgid)) != sorted(ph.findall(e.msgstr))
    ]
    assert not bad, bad[:20]
