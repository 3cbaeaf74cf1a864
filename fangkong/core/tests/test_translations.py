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


@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_a_message_reads_the_same_in_every_catalogue(language):
    """Django merges the catalogues into one: a message (with its context) that two
    catalogues translate differently shows the project's or the first app's words
    on every page, so the other app's meaning is lost (a task force's 名称 read as
    a person's 姓名). An app whose meaning differs gives the message a context."""
    seen: dict[tuple[str | None, str], dict[str, str]] = {}
    for catalogue in sorted(PACKAGE.glob(f"**/locale/{language}/LC_MESSAGES/django.po")):
        for e in polib.pofile(str(catalogue)):
            if e.obsolete or not e.msgstr:
                continue
            seen.setdefault((e.msgctxt, e.msgid), {})[str(catalogue.relative_to(PACKAGE))] = (
                e.msgstr
            )
    shadowed = {
        f"{context or ''}|{msgid}": by_catalogue
        for (context, msgid), by_catalogue in seen.items()
        if len(set(by_catalogue.values())) > 1
    }
    assert not shadowed, shadowed
