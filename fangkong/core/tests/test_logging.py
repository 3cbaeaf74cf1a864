"""The console log of the demo and the servers: each line once, no traceback for a 403."""

from __future__ import annotations

import logging

import pytest


def test_huey_lines_are_printed_once():
    huey = logging.getLogger("huey")
    assert huey.handlers and not huey.propagate  # run_huey adds no second handler then


@pytest.mark.django_db
def test_a_refused_request_is_one_line_without_a_traceback(client, caplog, nobody):
    client.force_login(nobody)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/audit/")
    assert response.status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert records and all(r.exc_info is None for r in records)
