"""Every audited action reads as words (core.labels), and stored values too."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.utils import translation

from fangkong.core import labels
from fangkong.core.templatetags.staff_ui import action_label, readable

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")


def audited_actions() -> dict[str, str]:
    """The action codes passed to an audit function anywhere in the project's code."""
    found: dict[str, str] = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if "tests" in rel.parts or "migrations" in rel.parts or rel.name == "conftest.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if "audit" not in name:
                continue
            args = list(node.args) + [k.value for k in node.keywords if k.arg == "action"]
            for arg in args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    if CODE.match(arg.value):
                        found[arg.value] = str(rel)
    return found


def test_every_audited_action_has_words():
    found = audited_actions()
    assert len(found) > 80  # the walk finds the project's actions
    missing = {code: where for code, where in found.items() if labels.action(code) is None}
    assert not missing, f"add these actions to the app's labels.py: {missing}"


@pytest.mark.django_db
def test_stored_codes_and_times_read_as_words_in_both_languages():
    with translation.override("zh-hans"):
        assert action_label("zone.propose") == "已提议风险区变更"
        assert "expiry" not in readable("how", "expiry")
        assert readable("ends_at", "2026-12-04T15:30:00.123456+00:00") == "2026-12-04 23:30"
        assert readable("category", "close") == "密接"
    with translation.override("en"):
        assert action_label("status.reason_grant") == "Status reason given"
        assert action_label("no.such_action") == "Other change"
        assert readable("classification", "confirmed") == "Confirmed"


@pytest.mark.django_db
def test_every_object_look_up_reads_real_fields_and_names_areas_in_the_readers_language(city):
    """Each app's look-up of its objects by id runs (its fields exist) and leaves
    out what is gone; an area is named in the reader's language."""
    labels.discover()
    assert {"core.person", "investigation.case", "zones.zone", "entry.arrival"} <= set(labels.NAMES)
    for kind, look_up in labels.NAMES.items():
        assert look_up([987654321]) == {}, kind
    node = city.xiaodian
    with translation.override("zh-hans"):
        assert labels.object_names([("core.jurisdiction", str(node.pk))]) == {
            ("core.jurisdiction", str(node.pk)): node.name_zh
        }
    with translation.override("en"):
        named = labels.object_names(
            [("core.jurisdiction", str(node.pk)), ("no.such", "1"), ("core.person", "x")]
        )
    assert named == {("core.jurisdiction", str(node.pk)): node.name_en or node.name_zh}
