"""Every page carries the Content-Security-Policy; no template has an inline script,
an event-handler attribute or a style attribute (the policy would refuse them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/login/", "/risk-zones/", "/api/docs"])
def test_pages_carry_a_self_only_policy(client, url):
    response = client.get(url, follow=True)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy


def test_no_template_has_inline_script_handlers_or_style_attributes():
    bad = []
    for path in ROOT.rglob("templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(
            r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>", text
        ):
            bad.append(f"{path.relative_to(ROOT)}: inline script {m.group(0)}")
        for m in re.finditer(r"\son[a-z]+\s*=|\sstyle\s*=|<style", text):
            bad.append(f"{path.relative_to(ROOT)}: {m.group(0).strip()}")
    assert not bad, bad
