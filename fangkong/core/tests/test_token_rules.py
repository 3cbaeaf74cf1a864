"""One definition of the API-token rules (issue 17): ``api_token_authenticate`` is
the Python form (used by the API and the fast paths); ``fastpaths.PRINCIPAL_CTE``
is the SQL form kept for the sampling scan's one statement on PostgreSQL. Both run
here on the same generated tokens and must give the same answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.conftest import make_staff
from fangkong.core import permissions
from fangkong.core.fastpaths import PRINCIPAL_CTE, token_principal
from fangkong.core.models import ApiToken
from fangkong.core.services import api_token_authenticate, api_token_create, api_token_hash

pytestmark = pytest.mark.django_db

CAPABILITY = "screening.sample"

tokens = st.fixed_dictionaries(
    {
        "revoked": st.booleans(),
        "expires": st.sampled_from([None, -3600, -1, 5, 86400]),  # seconds from now
        "active": st.booleans(),
        "superuser": st.booleans(),
        "profile": st.booleans(),
        "role": st.sampled_from(["sampler", "lab_technician", None]),  # sample / not
        "where": st.sampled_from(["xiaodian", "yingze", "city"]),
    }
)


def _make(city: Any, case: dict[str, Any], n: int) -> str:
    from django.contrib.auth import get_user_model

    node = getattr(city, case["where"])
    if case["profile"]:
        user = make_staff(f"u{n}", node, *([case["role"]] if case["role"] else []))
    else:
        user = get_user_model().objects.create_user(username=f"u{n}", password="x")
    get_user_model().objects.filter(pk=user.pk).update(
        is_active=case["active"], is_superuser=case["superuser"]
    )
    row, clear = api_token_create(actor=user, name="t")
    changes: dict[str, Any] = {}
    if case["revoked"]:
        changes["revoked_at"] = timezone.now()
    if case["expires"] is not None:
        changes["expires_at"] = timezone.now() + dt.timedelta(seconds=case["expires"])
    else:
        changes["expires_at"] = None  # tokens made before lifetimes existed
    ApiToken.objects.filter(pk=row.pk).update(**changes)
    return clear


def _python(clear: str) -> tuple[int, str | None] | None:
    user = api_token_authenticate(clear)
    if user is None or not permissions.has_capability(user, CAPABILITY):
        return None
    return user.pk, permissions.scope_path(user)


def _sql(clear: str) -> tuple[int, str | None] | None:
    with connection.cursor() as cur:
        cur.execute(
            f"WITH {PRINCIPAL_CTE} SELECT user_id, scope FROM principal",  # noqa: S608
            {"token_hash": api_token_hash(clear), "capability": CAPABILITY},
        )
        rows = cur.fetchall()
    assert len(rows) <= 1
    return (rows[0][0], rows[0][1]) if rows else None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL form is PostgreSQL's")
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=tokens)
def test_the_sql_form_of_the_token_rules_gives_the_pythons_answers(
    city: Any, case: dict[str, Any]
) -> None:
    # The test runs in one transaction, where PostgreSQL's now() stands still: the
    # Python side reads the same clock.
    with connection.cursor() as cur:
        cur.execute("SELECT now()")
        db_now = cur.fetchone()[0]
    with transaction.atomic(), time_machine.travel(db_now, tick=False):
        clear = _make(city, case, 1)
        sql = _sql(clear)
        python = _python(clear)
        assert sql == python, case
        transaction.set_rollback(True)


def test_the_fast_paths_use_the_services_rule(city: Any) -> None:
    user = make_staff("lane", city.xiaodian, "sampler")
    row, clear = api_token_create(actor=user, name="lane 1")
    principal = token_principal(clear)
    assert principal is not None and principal.pk == user.pk
    assert permissions.scope_path(principal) == city.xiaodian.path
    assert permissions.has_capability(principal, CAPABILITY)
    ApiToken.objects.filter(pk=row.pk).update(revoked_at=timezone.now())
    assert token_principal(clear) is None
