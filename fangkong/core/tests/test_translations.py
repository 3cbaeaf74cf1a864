"""The Simplified Chinese catalogue covers every user-facing string of the code."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

PACKAGE = Path(__file__).resolve().parents[2]
CATALOGUE = PACKAGE / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"

pytestmark = pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext")


def test_every_message_of_the_code_is_translated_to_chinese(tmp_path):
    # Extract the messages of the current code into a scratch copy of the catalogue,
    # so the check sees strings added since the catalogue was last refreshed.
    out = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES"
    out.mkdir(parents=True)
    shutil.copy(CATALOGUE, out / "django.po")
    (tmp_path / "src").symlink_to(PACKAGE)
    env = {**os.environ, "FANGKONG_LOCALE_DIR": str(tmp_path / "locale")}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "fangkong.cli",
            "makemessages",
            "-l",
            "zh_Hans",
            "--symlinks",
            "--ignore=src/locale",
            "--ignore=*/tests/*",
            "--ignore=src/conftest.py",
            "--no-obsolete",
            "-v",
            "0",
        ],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    po = polib.pofile(str(out / "django.po"))
    missing = [e.msgid for e in po if not e.obsolete and (not e.translated() or e.fuzzy)]
    assert not missing, (
        f"{len(missing)} messages lack a Chinese translation (run `make messages`, translate "
        f"them in {CATALOGUE.relative_to(PACKAGE.parent)}): {missing[:20]}"
    )


def test_the_chinese_catalogue_keeps_placeholders():
    po = polib.pofile(str(CATALOGUE))
    import re

    ph = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
    bad = [
        e.msgid
        for e in po
        if e.translated()
        and not e.msgid_plural
        and sorted(ph.findall(e.msgid)) != sorted(ph.findall(e.msgstr))
    ]
    assert not bad, bad[:20]
